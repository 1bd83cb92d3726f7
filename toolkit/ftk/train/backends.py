"""Backends differ only in how the model is loaded and wrapped with LoRA; the data, the label mask
and the TRL trainer are shared.

- `unsloth`: FastLanguageModel (4-bit on CUDA, Unsloth's gradient checkpointing; on CPU it trains
  text LoRA in fp32). Unsloth patches transformers and TRL when imported, so `ftk run` imports
  it before anything else loads them (`prepare_backend`).
- `hf`: transformers + PEFT (bitsandbytes 4-bit on CUDA, fp32 on CPU).
- `auto`: Unsloth when it imports, else hf.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ftk.errors import ConfigError

BACKENDS = ("auto", "unsloth", "hf")


def resolve_backend(name: str) -> str:
    if name not in BACKENDS:
        raise ConfigError(f"unknown backend '{name}' (choose {', '.join(BACKENDS)})")
    if name == "auto":
        return "unsloth" if importlib.util.find_spec("unsloth") is not None else "hf"
    if name == "unsloth" and importlib.util.find_spec("unsloth") is None:
        raise ConfigError("backend unsloth: the package is not installed (pip install -e .[gpu], or see the Makefile)")
    return name


def prepare_backend(name: str) -> None:
    """Import Unsloth first, as it requires, so that its patches apply."""
    if name == "unsloth":
        import unsloth  # noqa: F401


def load_for_training(cfg: dict, backend: str, recipe_dir: Path):
    """(model, peft_config for the trainer or None when the model already carries its adapters)."""
    import torch

    from ftk.train.models import model_dir

    path = model_dir(cfg["model"], recipe_dir)
    lora = dict(cfg["lora"])
    cuda = torch.cuda.is_available()
    if backend == "unsloth":
        from unsloth import FastLanguageModel

        from ftk.train.models import tokenizer_path

        # Unsloth loads a tokenizer too; point it at the recipe's (ftk trains with its own copy).
        model, _ = FastLanguageModel.from_pretrained(
            model_name=path, tokenizer_name=tokenizer_path(cfg["tokenizer"], recipe_dir), max_seq_length=cfg["max_length"],
            dtype=None if cuda else torch.float32, load_in_4bit=bool(cfg.get("load_in_4bit")) and cuda)
        model = FastLanguageModel.get_peft_model(
            model, r=lora.pop("r"), lora_alpha=lora.pop("lora_alpha"), lora_dropout=lora.pop("lora_dropout", 0.0),
            target_modules=lora.pop("target_modules"), bias="none",
            use_gradient_checkpointing="unsloth" if cuda else False, random_state=cfg["train"].get("seed", 3407),
            **lora)
        return model, None
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM

    kwargs = {"dtype": torch.float32}
    if cfg.get("load_in_4bit") and cuda:
        from transformers import BitsAndBytesConfig

        kwargs = {"quantization_config": BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16,
            bnb_4bit_use_double_quant=True), "dtype": torch.bfloat16}
    try:
        model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    except Exception as exc:
        raise ConfigError(f"model '{cfg['model']}': cannot load ({type(exc).__name__}: {exc})") from exc
    return model, LoraConfig(task_type="CAUSAL_LM", **lora)
