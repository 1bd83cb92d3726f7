"""The CLI end to end with click's CliRunner: every exit code, every output format, config."""

import json

import pytest
from click.testing import CliRunner

from ftk import __version__
from ftk.cli import main
from tests.conftest import chat, write_jsonl

CLEAN = [chat("What is the boiling point of water at sea level?", "It boils at 100 degrees Celsius."),
         chat("Name the largest planet in our solar system.", "Jupiter is the largest planet.")]


def run(*args, cwd=None):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def clean(tmp_path):
    return write_jsonl(tmp_path / "clean.jsonl", CLEAN)


@pytest.fixture
def dirty(tmp_path):
    return write_jsonl(tmp_path / "dirty.jsonl", CLEAN + ["{not json", chat("Tell me a joke please, any joke.", "")])


@pytest.fixture
def warn_only(tmp_path):
    return write_jsonl(tmp_path / "warn.jsonl", CLEAN + [CLEAN[0]])  # an exact duplicate: a warning


def test_exit_0_on_clean_data(clean):
    r = run("lint", clean, "--no-progress")
    assert r.exit_code == 0, r.output
    assert "2 rows" in r.output and "0 errors" in r.output


def test_exit_1_on_errors_with_every_bad_line_listed(dirty):
    r = run("lint", dirty)
    assert r.exit_code == 1
    assert f"{dirty}:3" in r.output and "FTK001 invalid-json" in r.output
    assert f"{dirty}:4 messages[1].content" in r.output and "FTK106 empty-turn" in r.output


def test_warnings_pass_unless_strict(warn_only):
    assert run("lint", warn_only).exit_code == 0
    assert run("lint", warn_only, "--strict").exit_code == 1


def test_exit_zero_overrides_findings_but_not_usage_errors(dirty, tmp_path):
    assert run("lint", dirty, "--exit-zero").exit_code == 0
    assert run("lint", tmp_path / "nope.jsonl", "--exit-zero").exit_code == 2


@pytest.mark.parametrize("args, message", [
    (["lint", "MISSING.jsonl"], "no such file"),
    (["lint", "{clean}", "--select", "FTK999"], "no rule matches 'FTK999'"),
    (["lint", "{clean}", "{clean}", "--fix", "out.jsonl"], "--fix takes exactly one input file"),
    (["lint", "{clean}", "--tokenizer", "/no/such/dir"], "not a tokenizer directory"),
    (["lint", "{clean}", "--recipe", "missing-recipe.py"], "no such file"),
    (["rules", "FTK999"], "no rule 'FTK999'"),
])
def test_exit_2_on_usage_and_input_errors(clean, tmp_path, args, message):
    args = [a.replace("{clean}", str(clean)) if isinstance(a, str) else a for a in args]
    args = [str(tmp_path / a) if a in ("MISSING.jsonl", "out.jsonl") else a for a in args]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2, r.output
    assert message in r.output
    assert "Traceback" not in r.output


def test_json_output_carries_every_finding_and_the_stats(dirty, tmp_path):
    out = tmp_path / "report.json"
    r = run("lint", dirty, "--output-format", "json", "-o", out)
    assert r.exit_code == 1
    report = json.loads(out.read_text())
    assert report["summary"]["rows"] == 4
    assert report["summary"]["rows_by_severity"] == {"error": 2, "warning": 0, "info": 0, "clean": 2}
    found = {(d["line"], d["code"], d["field"]) for d in report["diagnostics"]}
    assert found == {(3, "FTK001", None), (4, "FTK106", "messages[1].content")}
    d = report["diagnostics"][0]
    assert set(d) >= {"code", "name", "severity", "message", "path", "line", "field"}
    assert report["stats"]["tokens"]["by_role"]["user"]["count"] == 3
    assert report["stats"]["language"]["distribution"] == {"en": 2}  # the joke prompt is too ambiguous to judge
    assert report["stats"]["language"]["undetermined"] == 1


def test_github_annotations(dirty):
    r = run("lint", dirty, "--output-format", "github")
    lines = r.output.strip().splitlines()
    assert lines[0].startswith(f"::error file={dirty},line=3,title=FTK001 invalid-json::invalid JSON")
    assert any(line.startswith("::error") and "line=4" in line for line in lines)


def test_sarif_is_valid_shape(dirty):
    r = run("lint", dirty, "--output-format", "sarif")
    doc = json.loads(r.output)
    assert doc["version"] == "2.1.0"
    results = doc["runs"][0]["results"]
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert {res["ruleId"] for res in results} == {"FTK001", "FTK106"}
    for res in results:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["locations"][0]["physicalLocation"]["region"]["startLine"] in (3, 4)


def test_select_and_ignore(dirty):
    r = run("lint", dirty, "--select", "FTK1", "--output-format", "json")
    assert {d["code"] for d in json.loads(r.output)["diagnostics"]} == {"FTK106"}
    r = run("lint", dirty, "--ignore", "FTK001,FTK106", "--output-format", "json")
    assert json.loads(r.output)["diagnostics"] == [] and r.exit_code == 0


def test_pyproject_config_is_read_and_cli_wins(warn_only, tmp_path):
    cfg = tmp_path / "pyproject.toml"
    cfg.write_text('[tool.ftk.lint]\nignore = ["FTK601"]\n[tool.ftk.lint.severity]\nFTK201 = "error"\n')
    r = run("lint", warn_only, "--config", cfg, "--output-format", "json")
    assert r.exit_code == 1
    report = json.loads(r.output)
    assert [(d["code"], d["severity"]) for d in report["diagnostics"]] == [("FTK201", "error")]
    assert "language" not in report["stats"]
    assert run("lint", warn_only, "--config", cfg, "--ignore", "FTK201").exit_code == 0


def test_bad_config_is_a_usage_error(clean, tmp_path):
    cfg = tmp_path / "pyproject.toml"
    cfg.write_text('[tool.ftk.lint]\nmax-lenght = 10\n')
    r = CliRunner().invoke(main, ["lint", str(clean), "--config", str(cfg)])
    assert r.exit_code == 2 and "unknown key(s) max-lenght" in r.output


def test_recipe_sets_tokenizer_and_max_length(tmp_path):
    long_answer = "word " * 400
    data = write_jsonl(tmp_path / "d.jsonl", [chat("Write four hundred words, please.", long_answer)])
    recipe = tmp_path / "r.py"
    recipe.write_text('tokenizer = "smollm2"\nmax_length = 256\n')
    r = run("lint", data, "--recipe", recipe, "--output-format", "json")
    report = json.loads(r.output)
    assert report["stats"]["tokens"]["exact"] is True and report["stats"]["tokens"]["max_length"] == 256
    [d] = [d for d in report["diagnostics"] if d["code"] == "FTK301"]
    assert d["message"].startswith("4") and "> max length 256" in d["message"]


def test_rules_lists_every_rule_and_explains_one():
    r = run("rules")
    assert r.exit_code == 0 and "FTK001" in r.output and "FTK601" in r.output
    r = run("rules", "ftk201")
    assert "exact-duplicate" in r.output and "What it does" in r.output and "Fix: keep the first" in r.output


def test_help_texts():
    assert "lint" in run("--help").output
    out = run("lint", "--help").output
    for opt in ("--fix", "--strict", "--exit-zero", "--select", "--ignore", "--output-format", "--tokenizer"):
        assert opt in out


def test_json_report_is_the_results_dict_even_with_lone_surrogates():
    """render_json writes with orjson, and with the stdlib where orjson refuses (a lone surrogate
    from the data): both give the report's dict back."""
    from ftk.lint.engine import LintResult
    from ftk.lint.registry import Diagnostic, Severity, load_all_rules
    from ftk.lint.report.json_report import render_json

    load_all_rules()  # a diagnostic's dict names its rule
    for message in ("e-mail address ja…@gmail.com «é»", "odd text \ud800 here"):
        result = LintResult([Diagnostic("FTK503", Severity.WARNING, message, "f.jsonl", 3, "messages[0].content", ())],
                            [], {"language": {"en": 1}}, {"FTK503"})
        text = render_json(result)
        assert json.loads(text) == {"tool": "ftk", "version": __version__} | result.to_dict()


@pytest.mark.parametrize("extra, code", [([], 1), (["--exit-zero"], 0)])
def test_the_command_process_ends_with_every_output_written(dirty, tmp_path, extra, code):
    """`python -m ftk lint` (the console script's path) ends its process without the interpreter's
    teardown: its exit code, the text report on a pipe, the JSON report, the fixed file and the
    HTML page must all be complete when it does."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "ftk", "lint", str(dirty), "--fix", str(tmp_path / "fixed.jsonl"),
                          "--html", str(tmp_path / "r.html"), *extra], capture_output=True, text=True)
    assert out.returncode == code, out.stderr
    in_process = run("lint", dirty, *extra).output  # the same text (but the first line's timing)
    assert "invalid JSON" in out.stdout and out.stdout.splitlines()[1:] == in_process.splitlines()[1:]
    assert "wrote" in out.stderr and (tmp_path / "fixed.jsonl").read_text().count("\n") == 2
    assert (tmp_path / "r.html").read_text().rstrip().endswith("</html>")
    report = subprocess.run([sys.executable, "-m", "ftk", "lint", str(dirty), "--output-format", "json"],
                            capture_output=True, text=True)
    assert report.returncode == 1 and len(json.loads(report.stdout)["diagnostics"]) >= 2
