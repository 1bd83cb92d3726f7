"""GPU tests (marker `gpu`, skipped without CUDA): each QLoRA recipe's model loads in 4-bit and trains
a few steps with both backends, and the Unsloth-vs-HF figures are printed for BENCHMARKS.md.

The models come from the local Hugging Face cache (tests never download): on a GPU machine, fetch
them once with `huggingface-cli download <model id>`; a recipe whose model is not cached is skipped
with its id.
"""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ftk.cli import main
from ftk.train.recipe import load_recipe

REPO = Path(__file__).resolve().parents[2]
RECIPES = sorted(p for p in (REPO / "recipes").glob("*-qlora.py"))

pytestmark = pytest.mark.gpu


def _cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def _cached(model_id: str) -> bool:
    try:
        from huggingface_hub import snapshot_download

        snapshot_download(model_id, local_files_only=True)
        return True
    except Exception:
        return False


@pytest.mark.skipif(not _cuda(), reason="needs CUDA")
@pytest.mark.parametrize("backend", ["unsloth", "hf"])
@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.stem)
def test_qlora_recipe_trains_a_few_steps(recipe, backend, tmp_path):
    import torch

    cfg = load_recipe(recipe)
    if not _cached(cfg["model"]):
        pytest.skip(f"{cfg['model']} is not in the local Hugging Face cache")
    torch.cuda.reset_peak_memory_stats()
    out = tmp_path / "run"
    r = CliRunner().invoke(main, ["run", str(recipe), "train.max_steps=5", "train.save_steps=5", "--backend", backend,
                                  "--data", str(REPO / "sample_data" / "clean_chat.jsonl"), "--out", str(out)],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    report = json.loads((out / "eval.json").read_text())
    assert report["after"]["loss"] < report["before"]["loss"]
    steps = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    steps = [s for s in steps if "loss" in s and s.get("num_input_tokens_seen")]
    rate = ((steps[-1]["num_input_tokens_seen"] - steps[0]["num_input_tokens_seen"]) /
            (steps[-1]["elapsed_s"] - steps[0]["elapsed_s"])) if len(steps) > 1 else float("nan")
    print(f"\n{recipe.stem} {backend}: peak VRAM {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB, "
          f"{rate:,.0f} tokens/s over steps {steps[0]['step']}-{steps[-1]['step']}")
