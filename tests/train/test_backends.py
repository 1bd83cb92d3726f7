"""Both backends train the same recipe on CPU. Unsloth patches transformers and TRL when imported,
so its run happens in a fresh process (the CLI imports it first, as Unsloth requires)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ftk.errors import ConfigError
from ftk.train.backends import resolve_backend

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "smollm2-lora.py"


def test_auto_picks_unsloth_when_it_is_installed():
    import importlib.util

    expected = "unsloth" if importlib.util.find_spec("unsloth") else "hf"
    assert resolve_backend("auto") == expected
    assert resolve_backend("hf") == "hf"
    with pytest.raises(ConfigError, match="unknown backend"):
        resolve_backend("vllm")


def _run(backend: str, model: Path, out: Path) -> dict:
    cmd = [sys.executable, "-m", "ftk", "run", str(RECIPE), f"model={model}", "train.max_steps=6",
           "train.learning_rate=0.01", "--backend", backend, "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((out / "eval.json").read_text())


@pytest.mark.parametrize("backend", ["hf", "unsloth"])
def test_backend_trains_the_tiny_model(backend, tmp_path):
    from tests.train.test_run import make_tiny_model

    model = make_tiny_model(tmp_path / "tiny")
    report = _run(backend, model, tmp_path / backend)
    assert report["backend"] == backend
    assert report["after"]["loss"] < report["before"]["loss"]
    assert (tmp_path / backend / "adapter" / "adapter_model.safetensors").is_file()
