"""End to end on the real SmolLM2-135M: a short real fine-tune, `ftk export` (f16 + q4_k_m) verified
by llama.cpp, the Modelfile's template against the training template, and `ftk chat`."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.export.conftest import llama_cpp_or_skip

from ftk.cli import main

REPO = Path(__file__).resolve().parents[2]
RECIPE = REPO / "recipes" / "smollm2-lora.py"


@pytest.fixture(scope="module")
def smollm2_export(tmp_path_factory):
    llama_cpp_or_skip()
    root = tmp_path_factory.mktemp("smollm2")
    runner = CliRunner()
    r = runner.invoke(main, ["run", str(RECIPE), "train.max_steps=4", "--out", str(root / "run"), "--backend", "hf",
                             "--data", str(REPO / "sample_data" / "clean_chat.jsonl")], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["export", str(root / "run"), "--quant", "f16,q4_k_m", "--out", str(root / "export")],
                      catch_exceptions=False)
    return root, r


@pytest.mark.slow
def test_every_check_passes_on_f16(smollm2_export):
    root, r = smollm2_export
    assert r.exit_code == 0, r.output
    summary = json.loads((root / "export" / "export.json").read_text())
    f16 = next(v for v in summary["verify"] if v["quant"] == "f16")
    assert all(c["passed"] for c in f16["checks"]), f16
    assert f16["greedy_agreement"] == 1.0 and f16["logit_gap"] < 0.5
    tokenizer = next(c for c in f16["checks"] if c["name"] == "tokenizer")
    assert int(tokenizer["summary"].split("/")[1]) > 300  # the training data's texts and the fixed cases


@pytest.mark.slow
def test_gguf_metadata_is_smollm2s(smollm2_export):
    from gguf import GGUFReader

    root, _ = smollm2_export
    fields = GGUFReader(str(root / "export" / "run-f16.gguf")).fields

    def value(key):
        f = fields[key]
        part = f.parts[f.data[0]]
        return bytes(part).decode() if f.types[0].name == "STRING" else int(part[0])

    assert value("tokenizer.ggml.pre") == "smollm"  # not "default": the upstream tokenizer files were used
    assert value("tokenizer.ggml.eos_token_id") == 2  # <|im_end|>, not <|im_start|>
    assert "<|im_start|>" in value("tokenizer.chat_template")


@pytest.mark.slow
def test_modelfile_template_renders_the_training_text(smollm2_export):
    from ftk.export.modelfile import OLLAMA, ollama_render
    from ftk.train.models import hf_tokenizer

    root, _ = smollm2_export
    modelfile = (root / "export" / "Modelfile").read_text()
    template = modelfile.split('TEMPLATE """', 1)[1].split('"""', 1)[0]
    system = modelfile.split('SYSTEM "', 1)[1].split('"\n', 1)[0]
    assert template == OLLAMA["smollm2"].template
    tok = hf_tokenizer(str(root / "run" / "adapter"))
    rows = [json.loads(line) for line in (REPO / "sample_data" / "clean_chat.jsonl").read_text().splitlines()[:20]]
    assert len(rows) == 20
    for row in rows:
        msgs = row["messages"]
        prompt = msgs[:-1] if msgs[-1]["role"] == "assistant" else msgs
        want = tok.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
        assert ollama_render(template, prompt, system) == want


@pytest.mark.slow
def test_chat_answers_and_stops(smollm2_export):
    root, _ = smollm2_export
    r = CliRunner().invoke(main, ["chat", str(root / "export" / "run-q4_k_m.gguf"), "-p", "What is the capital of France?",
                                  "--max-tokens", "64"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    answer = r.output.strip()
    assert answer and "<|im_end|>" not in answer and "<|im_start|>" not in answer
