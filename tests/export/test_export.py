"""`ftk export` on a tiny run: merge → GGUF → verify with llama.cpp in seconds, and the checks fail
when the exported file would misbehave (broken template, wrong EOS)."""

import json

import pytest
from click.testing import CliRunner
from tests.export.conftest import llama_cpp_or_skip

from ftk.cli import main


def export(*args):
    return CliRunner().invoke(main, ["export", *map(str, args)], catch_exceptions=False)


def test_merge_equals_the_adapter_model(tiny_run, tmp_path):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from ftk.export.merge import load_run, merge

    run = load_run(tiny_run)
    merged = merge(run, tmp_path / "merged")
    ids = torch.tensor([[1, 9690, 198, 28, 2]])
    base = AutoModelForCausalLM.from_pretrained(run.cfg["model"])
    with torch.no_grad():
        plain = base(ids).logits
        peft = PeftModel.from_pretrained(base, str(run.adapter)).eval()(ids).logits
        ours = AutoModelForCausalLM.from_pretrained(merged, dtype=torch.float32)(ids).logits
    assert (peft - plain).abs().max() > 1e-3  # the adapter does change the model …
    assert (ours - peft).abs().max() < 2e-2  # … and the merged 16-bit weights are that model
    assert json.loads((merged / "generation_config.json").read_text())["eos_token_id"] == 2


def test_export_verifies_f16_and_q8(tiny_run, tmp_path):
    llama_cpp_or_skip()
    out = tmp_path / "export"
    r = export(tiny_run, "--out", out)
    assert r.exit_code == 0, r.output
    summary = json.loads((out / "export.json").read_text())
    assert summary["passed"] and set(summary["files"]) == {"f16", "q8_0"}
    f16 = next(v for v in summary["verify"] if v["quant"] == "f16")
    assert f16["greedy_agreement"] == 1.0 and f16["logit_gap"] < 0.1
    checks = {c["name"]: c for c in f16["checks"]}
    assert all(c["passed"] for c in checks.values())
    assert "4/4 chat completions stopped" in checks["stops"]["detail"]  # 2 of the data, 2 fixed
    modelfile = (out / "Modelfile").read_text()
    assert "FROM ./run-f16.gguf" in modelfile and 'PARAMETER stop "<|im_end|>"' in modelfile
    assert "llama-server -m" in r.output and "--jinja" in r.output
    assert (out / "merged" / "model.safetensors").is_file() and not (tmp_path / "export.partial").exists()

    again = export(tiny_run, "--out", out)  # refuses to overwrite …
    assert again.exit_code == 2 and "--force" in again.output
    assert export(tiny_run, "--out", out, "--force", "--quant", "q4_k_m", "--no-verify").exit_code == 0  # … unless asked
    # f16 is always written (the quantiser's input and the exact reference) and removed when not asked for
    assert sorted(p.name for p in out.glob("*.gguf")) == ["run-q4_k_m.gguf"]
    assert "FROM ./run-q4_k_m.gguf" in (out / "Modelfile").read_text()


def test_chat_one_shot_and_interactive(tiny_run, tmp_path):
    """The tiny model answers with one of its memorised answers and stops at <|im_end|>, in both modes;
    the same question gets the same (greedy) answer, after /reset too."""
    llama_cpp_or_skip()
    out = tmp_path / "export"
    assert export(tiny_run, "--out", out, "--quant", "f16", "--no-verify").exit_code == 0
    gguf = str(out / "run-f16.gguf")
    one = CliRunner().invoke(main, ["chat", gguf, "-p", "Say hello.", "--max-tokens", "64"], catch_exceptions=False)
    answer = one.output.strip()
    assert one.exit_code == 0 and answer and len(answer) < 40, one.output  # stopped long before 64 tokens
    assert "<|im" not in answer
    talk = CliRunner().invoke(main, ["chat", gguf, "--max-tokens", "64"], input="Say hello.\n/reset\nSay hello.\n\n",
                              catch_exceptions=False)
    assert talk.exit_code == 0
    assert talk.output.count("> ") == 4 and talk.output.count(answer) == 2, talk.output
    bad = CliRunner().invoke(main, ["chat", str(tiny_run / "config.json")])
    assert bad.exit_code == 2 and "llama.cpp cannot load it" in bad.output


def test_a_broken_template_fails_verification(run_copy, tmp_path, monkeypatch):
    """The GGUF gets a template that differs from the training one by one newline."""
    llama_cpp_or_skip()
    import ftk.export.pipeline as pipeline
    from ftk.export import merge as merge_mod

    real_merge = merge_mod.merge

    def merge_with_broken_template(run, out_dir, base=None, trust_remote_code=False):
        out = real_merge(run, out_dir, base)
        cfg = out / "tokenizer_config.json"
        template = out / "chat_template.jinja"
        src = template.read_text() if template.exists() else json.loads(cfg.read_text())["chat_template"]
        broken = src.replace("'\\n'", "''", 1) if "'\\n'" in src else src.replace("\n", "", 1)
        assert broken != src
        if template.exists():
            template.write_text(broken)
        else:
            data = json.loads(cfg.read_text())
            data["chat_template"] = broken
            cfg.write_text(json.dumps(data))
        return out

    monkeypatch.setattr(pipeline, "merge", merge_with_broken_template)
    out = tmp_path / "export"
    r = export(run_copy, "--out", out, "--quant", "f16")
    assert r.exit_code == 1, r.output
    checks = {c["name"]: c for c in json.loads((out / "export.json").read_text())["verify"][0]["checks"]}
    assert not checks["template"]["passed"]
    assert (out / "run-f16.gguf").is_file()  # kept for inspection


def test_a_wrong_eos_fails_verification(run_copy, tmp_path):
    """The pitfall DESIGN.md records: a tokenizer whose EOS is <|im_start|> (as transformers rebuilds
    SmolLM2's from its GGUF) exports a GGUF that runtimes never stop."""
    llama_cpp_or_skip()
    cfg_path = run_copy / "adapter" / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["eos_token"] = "<|im_start|>"
    cfg_path.write_text(json.dumps(cfg))
    out = tmp_path / "export"
    r = export(run_copy, "--out", out, "--quant", "f16")
    assert r.exit_code == 1, r.output
    checks = {c["name"]: c for c in json.loads((out / "export.json").read_text())["verify"][0]["checks"]}
    assert not checks["stops"]["passed"] and "never stop" in checks["stops"]["detail"]


@pytest.mark.parametrize("args, message", [
    (["--quant", "q3_z"], "unknown quant type q3_z"),
])
def test_usage_errors(tiny_run, args, message):
    r = export(tiny_run, *args)
    assert r.exit_code == 2 and message in r.output


def test_every_quant_type_and_a_llama_cpp_checkout(tiny_run, tmp_path):
    """--llama-cpp DIR runs DIR/convert_hf_to_gguf.py with DIR/gguf-py, as in a llama.cpp checkout."""
    llama_cpp_or_skip()
    from ftk.export.llama_cpp import converter_dir

    src = converter_dir()
    checkout = tmp_path / "llama.cpp"
    (checkout / "gguf-py").mkdir(parents=True)
    for name in ("convert_hf_to_gguf.py", "conversion"):
        (checkout / name).symlink_to(src / name)
    (checkout / "gguf-py" / "gguf").symlink_to(src / "gguf")
    out = tmp_path / "export"
    r = export(tiny_run, "--out", out, "--llama-cpp", checkout, "--no-verify", "--quant", "bf16,q5_k_m,q6_k,q4_0")
    assert r.exit_code == 0, r.output
    assert "llama.cpp/convert_hf_to_gguf.py" in (out / "convert.log").read_text()
    from gguf import GGUFReader

    file_types = {}
    for q in ("bf16", "q5_k_m", "q6_k", "q4_0"):
        f = GGUFReader(str(out / f"run-{q}.gguf")).fields["general.file_type"]
        file_types[q] = int(f.parts[f.data[0]][0])
    assert file_types == {"bf16": 32, "q5_k_m": 17, "q6_k": 18, "q4_0": 2}  # llama_ftype values


def test_not_a_run_directory(tmp_path):
    r = export(tmp_path)
    assert r.exit_code == 2 and "not an ftk run directory" in r.output
