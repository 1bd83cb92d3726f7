"""A training run's LoRA adapter merged into its base weights: 16-bit safetensors, with the tokenizer
and the chat template the run trained with, written atomically."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from ftk.errors import UsageError
from ftk.export.llama_cpp import ExportError
from ftk.train.chat import ChatFormat
from ftk.train.families import FAMILIES

# Mistral: ftk trains with the system prompt folded into the first user turn (train/families.py);
# the exported template does the same, so llama.cpp and Ollama see the prompt the model learned.
MERGE_SYSTEM_PREFIX = (
    "{%- if messages and messages[0]['role'] == 'system' and messages | length > 1 and messages[1]['role'] == 'user' %}"
    "{%- set messages = [{'role': 'user', 'content': messages[0]['content'] + '\\n\\n' + messages[1]['content']}]"
    " + messages[2:] %}{%- endif %}"
)


@dataclass
class RunInfo:
    run_dir: Path
    cfg: dict  # the resolved recipe saved by `ftk run` (config.json)
    family: str
    fmt: ChatFormat

    @property
    def adapter(self) -> Path:
        return self.run_dir / "adapter"


def load_run(run_dir: Path) -> RunInfo:
    """The run directory `ftk run` wrote, checked: config.json and adapter/ must be there."""
    config = run_dir / "config.json"
    if not config.is_file():
        raise UsageError(f"{run_dir}: not an ftk run directory (no config.json; `ftk run` writes one)")
    try:
        cfg = json.loads(config.read_text())
    except json.JSONDecodeError as exc:
        raise UsageError(f"{config}: not valid JSON ({exc})") from exc
    if not (run_dir / "adapter" / "adapter_config.json").is_file():
        raise UsageError(f"{run_dir}: no trained adapter in adapter/ (did the run finish? `ftk run --resume` continues it)")
    family = cfg.get("family")
    if family not in FAMILIES:
        raise UsageError(f"{config}: family {family!r} is not one of {', '.join(FAMILIES)}")
    return RunInfo(run_dir, cfg, family, FAMILIES[family])


def training_template(tok, fmt: ChatFormat) -> str:
    """The chat template as ftk trains with it (train/chat.py `prepare` + the tokenizer's template)."""
    template = tok.chat_template
    if not isinstance(template, str) or not template:
        raise ExportError("the run's tokenizer has no chat template to export")
    return MERGE_SYSTEM_PREFIX + template if fmt.merge_system else template


def merge(run: RunInfo, out_dir: Path, base: str | None = None, trust_remote_code: bool = False) -> Path:
    """Merge run.adapter into its base model and save safetensors + tokenizer in out_dir (which must not
    exist). `base` overrides the recipe's model (e.g. the 16-bit weights of a 4-bit training base).
    Weights are read from safetensors only (a pickle can run code), and a model's own Python code
    only with `trust_remote_code`."""
    import torch
    from peft import PeftModel
    from transformers import AutoConfig, AutoModelForCausalLM

    from ftk.train.models import hf_tokenizer, model_dir

    base_dir = model_dir(base or run.cfg["model"])
    config = AutoConfig.from_pretrained(base_dir, trust_remote_code=trust_remote_code)
    if getattr(config, "quantization_config", None):
        raise UsageError(f"base model {base or run.cfg['model']} is quantised ({config.quantization_config.get('quant_method', '?')}); "
                         "merging needs its 16-bit weights: pass --base with the unquantised model")
    # Keep bf16 bases in bf16; everything else (the fp32 CPU default) is saved as f16, the dtype of
    # the f16 GGUF, so the HF reference and llama.cpp read the same weights.
    dtype = torch.bfloat16 if getattr(config, "dtype", None) in (torch.bfloat16, "bfloat16") else torch.float16
    try:
        model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32, use_safetensors=True,
                                                     trust_remote_code=trust_remote_code)
    except OSError as exc:  # no model.safetensors: only pickled weights, or nothing
        raise UsageError(f"base model {base or run.cfg['model']}: no safetensors weights to merge into ({exc})") from exc
    model = PeftModel.from_pretrained(model, str(run.adapter)).merge_and_unload()
    tok = hf_tokenizer(str(run.adapter))
    tok.chat_template = training_template(tok, run.fmt)
    # Generation stops at the end-of-turn marker (and EOS): written where HF and the converter read it.
    eot = tok.convert_tokens_to_ids(run.fmt.end_of_turn)
    stop_ids = list(dict.fromkeys(i for i in (eot, tok.eos_token_id) if i is not None))
    model.generation_config.eos_token_id = stop_ids if len(stop_ids) > 1 else stop_ids[0]
    model.generation_config.pad_token_id = tok.pad_token_id

    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.to(dtype).save_pretrained(str(tmp), safe_serialization=True)
    tok.save_pretrained(str(tmp))
    tmp.rename(out_dir)
    return out_dir


def parameter_count(hf_dir: str) -> int:
    """Weights in a safetensors directory, read from the file headers (no tensors loaded)."""
    import struct

    total = 0
    for f in Path(hf_dir).glob("*.safetensors"):
        with f.open("rb") as fh:
            (n,) = struct.unpack("<Q", fh.read(8))
            header = json.loads(fh.read(n))
        for name, meta in header.items():
            if name != "__metadata__":
                count = 1
                for d in meta["shape"]:
                    count *= d
                total += count
    return total
