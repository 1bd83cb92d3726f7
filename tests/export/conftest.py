"""A finished `ftk run` directory in seconds: a tiny Llama with the real SmolLM2 tokenizer, first
overfitted (full weights) until it answers four conversations and stops with <|im_end|>, then given
a random non-zero LoRA adapter — so merging changes the weights and the model still stops."""

import json
import os
import shutil
from pathlib import Path

import pytest
from tests.conftest import write_jsonl

from ftk.train.families import FAMILIES

CONVERSATIONS = [
    [{"role": "user", "content": "What colour is the sky?"}, {"role": "assistant", "content": "Blue."}],
    [{"role": "user", "content": "Say hello."}, {"role": "assistant", "content": "Hello!"}],
    [{"role": "system", "content": "Answer in French."}, {"role": "user", "content": "Thanks?"},
     {"role": "assistant", "content": "Merci."}],
    [{"role": "user", "content": "Count to three."}, {"role": "assistant", "content": "One, two, three."}],
]


def llama_cpp_or_skip():
    """llama-cpp-python is installed by `make`; in CI its absence is a failure, not a skip."""
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("llama-cpp-python not installed (make installs it)")


def _overfit_tiny_model(path: Path, tok) -> None:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from ftk.train.chat import encode

    torch.manual_seed(0)
    cfg = LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=2, vocab_size=len(tok), max_position_embeddings=512, tie_word_embeddings=True,
                      bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    model = LlamaForCausalLM(cfg)
    rows = [encode(tok, conv, FAMILIES["smollm2"]) for conv in CONVERSATIONS]
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(60):
        for r in rows:
            out = model(input_ids=torch.tensor([r.input_ids]), labels=torch.tensor([r.labels]))
            out.loss.backward()
        opt.step()
        opt.zero_grad()
    model.save_pretrained(path)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """A run directory as `ftk run` writes it (config.json, adapter/ with the tokenizer)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from ftk.train.models import load_tokenizer

    root = tmp_path_factory.mktemp("tiny-export")
    tok = load_tokenizer("smollm2", FAMILIES["smollm2"])
    base = root / "base"
    _overfit_tiny_model(base, tok)
    data = write_jsonl(root / "train.jsonl", [{"messages": c} for c in CONVERSATIONS])
    run = root / "run"
    torch.manual_seed(1)
    lora = LoraConfig(r=4, lora_alpha=1, target_modules=["q_proj", "v_proj", "down_proj"], init_lora_weights=False)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(base), lora)
    model.save_pretrained(run / "adapter")
    tok.save_pretrained(run / "adapter")
    cfg = {"family": "smollm2", "model": str(base), "tokenizer": "smollm2", "max_length": 256,
           "data": {"path": str(data), "eval_split": 0.0}, "export": {"quant": ["f16", "q8_0"], "num_ctx": 512}}
    (run / "config.json").write_text(json.dumps(cfg))
    return run


@pytest.fixture
def run_copy(tiny_run, tmp_path) -> Path:
    """A private copy of the tiny run, to break on purpose."""
    dst = tmp_path / "run"
    shutil.copytree(tiny_run, dst, ignore=shutil.ignore_patterns("export*"))
    return dst
