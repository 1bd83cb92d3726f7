import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# The shared tokenizer fixtures sit beside the checkout (../shared), as on every dev machine and in CI.
TOKENIZERS = REPO.parent / "shared" / "fixtures" / "tokenizers"
FAMILIES = ["smollm2", "llama3", "mistral", "qwen2.5", "qwen3", "gemma3", "phi3"]


def chat(user: str, assistant: str, system: str | None = None) -> dict:
    msgs = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    return {"messages": msgs}


def write_jsonl(path: Path, rows: list) -> Path:
    """Rows are dicts (serialised) or str/bytes (written as the raw line)."""
    with path.open("wb") as f:
        for row in rows:
            if isinstance(row, bytes):
                f.write(row + b"\n")
            elif isinstance(row, str):
                f.write(row.encode() + b"\n")
            else:
                f.write(json.dumps(row, ensure_ascii=False).encode() + b"\n")
    return path


@pytest.fixture
def tokenizers_dir() -> Path:
    assert TOKENIZERS.is_dir(), f"tokenizer fixtures missing: expected {TOKENIZERS} (../shared beside the repo)"
    return TOKENIZERS


def load_bench(name: str):
    """A script of bench/ as a module (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", REPO / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
