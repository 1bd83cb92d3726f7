"""The sample data sets in sample_data/ lint exactly as documented.

- clean_chat.jsonl: no finding at all, with every rule selected and default options;
- each dirty file: every planted (line, code) of its .expected.json is reported; every other record
  lints clean, except the clean rows listed as partners of a planted duplicate/contradiction group,
  which get exactly their listed codes; the linter reads one record per line (JSONL) or per array
  element (JSON);
- the committed files are what sample_data/make_samples.py writes.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_data"
try:
    import ftk  # noqa: F401
except ImportError:  # run without PYTHONPATH=toolkit
    sys.path.insert(0, str(ROOT / "toolkit"))

from ftk.data.formats import Format  # noqa: E402
from ftk.lint.engine import Checker, LintResult, lint_paths  # noqa: E402
from ftk.lint.registry import RULES, select_codes  # noqa: E402

DIRTY = {  # file -> the format the linter must detect
    "dirty_chat.jsonl": Format.CHAT,
    "alpaca.jsonl": Format.ALPACA,
    "dpo.jsonl": Format.DPO,
    "sharegpt.json": Format.SHAREGPT,
}


@cache
def lint(name: str) -> LintResult:
    return lint_paths([str(SAMPLES / name)], Checker(select_codes(None, None)))


def expected(name: str) -> dict:
    data = json.loads((SAMPLES / name.rsplit(".", 1)[0]).with_suffix(".expected.json").read_text("utf-8"))
    return {key: ({int(k): v for k, v in data[key].items()} if isinstance(data[key], dict) else data[key])
            for key in data}


def codes_by_line(result: LintResult) -> dict[int, set[str]]:
    out: dict[int, set[str]] = defaultdict(set)
    for d in result.diagnostics:
        out[d.line].add(d.code)
    return out


def jsonl_lines(name: str) -> list[bytes]:
    data = (SAMPLES / name).read_bytes()
    assert data.endswith(b"\n")
    return data[:-1].split(b"\n")


def show(result: LintResult, line: int) -> str:
    return "; ".join(f"{d.code} {d.message}" for d in result.diagnostics if d.line == line)


# --- the clean set ----------------------------------------------------------------------------

def test_clean_chat_has_no_findings():
    result = lint("clean_chat.jsonl")
    assert [f"{d.line}: {d.code} {d.message}" for d in result.diagnostics] == []
    (report,) = result.files
    assert report.format is Format.CHAT
    assert report.rows == report.valid_rows == len(jsonl_lines("clean_chat.jsonl"))
    assert 100 <= report.rows <= 150


def test_clean_chat_is_english_and_long_enough_to_judge():
    lang = lint("clean_chat.jsonl").stats["language"]
    assert lang["distribution"] == {"en": lint("clean_chat.jsonl").rows}
    assert lang["undetermined"] == 0  # every row has at least 20 letters of text outside code


def test_clean_chat_shape():
    rows = [json.loads(line) for line in jsonl_lines("clean_chat.jsonl")]
    prompts = [m["content"] for r in rows for m in r["messages"] if m["role"] == "user"]
    assert len(prompts) == len(set(prompts)), "two rows share a user prompt"
    assert sum(1 for r in rows if sum(m["role"] == "user" for m in r["messages"]) >= 2) >= 15  # multi-turn
    assert sum(1 for r in rows if r["messages"][0]["role"] == "system") >= 20
    assert sum(1 for r in rows if "```" in r["messages"][-1]["content"]) >= 20  # code answers
    for r in rows:  # the ftk assistant persona: every answer ends with a one-line summary
        for m in r["messages"]:
            if m["role"] == "assistant":
                last = m["content"].rsplit("\n", 1)[-1]
                assert last.startswith("In short: ") and len(last) < 120, m["content"]
    tokens = lint("clean_chat.jsonl").stats["tokens"]["by_role"]["total"]
    assert tokens["max"] < 1024  # well under the default max length of 2048


# --- the dirty files --------------------------------------------------------------------------

@pytest.mark.parametrize("name", DIRTY)
def test_rows_read(name):
    result, exp = lint(name), expected(name)
    (report,) = result.files
    assert report.format is DIRTY[name]
    if name.endswith(".jsonl"):
        assert report.rows == len(jsonl_lines(name)) == exp["rows"]
    else:  # a JSON array: one record per element
        assert report.rows == len(json.loads((SAMPLES / name).read_text("utf-8"))) == exp["rows"]


@pytest.mark.parametrize("name", DIRTY)
def test_planted_defects_are_reported(name):
    result, exp = lint(name), expected(name)
    found = codes_by_line(result)
    missing = {line: sorted(set(codes) - found.get(line, set()))
               for line, codes in exp["planted"].items() if set(codes) - found.get(line, set())}
    assert missing == {}, f"planted but not reported: {missing}"


@pytest.mark.parametrize("name", DIRTY)
def test_nothing_else_is_reported(name):
    result, exp = lint(name), expected(name)
    found = codes_by_line(result)
    unexpected = {line: f"{sorted(codes)}: {show(result, line)}" for line, codes in found.items()
                  if line not in exp["planted"] and codes != set(exp["partners"].get(line, ()))}
    assert unexpected == {}
    for line, codes in exp["partners"].items():
        assert found.get(line) == set(codes), f"line {line}: partner codes {codes} not reported"


def test_dirty_chat_unplanted_lines_are_unmodified_clean_rows():
    clean = jsonl_lines("clean_chat.jsonl")
    dirty = jsonl_lines("dirty_chat.jsonl")
    planted = expected("dirty_chat.jsonl")["planted"]
    kept = [line for n, line in enumerate(dirty, 1) if n not in planted]
    assert dirty[0] == b"\xef\xbb\xbf" + clean[0]  # line 1: the first clean row behind a BOM
    assert kept == clean[1:], "the dirty file must hold every clean row, unmodified and in order"


def test_dirty_chat_covers_every_rule():
    planted = {c for codes in expected("dirty_chat.jsonl")["planted"].values() for c in codes}
    # FTK205 (eval leakage) needs a second file (--against): tests/lint/test_near_duplicates.py covers it.
    assert planted == set(RULES) - {"FTK205"}, (
        f"rules without a planted defect: {sorted(set(RULES) - planted - {'FTK205'})}; "
        f"planted codes no rule has: {sorted(planted - set(RULES))} (see sample_data/make_samples.py)")


def test_other_formats_show_their_defects():
    # Each small file has a few defects; between them they exercise every family but length.
    planted = {c for name in DIRTY if name != "dirty_chat.jsonl"
               for codes in expected(name)["planted"].values() for c in codes}
    assert {c[3] for c in planted} >= {"0", "1", "2", "4", "5"}


# --- the generator ----------------------------------------------------------------------------

def test_committed_files_match_the_generator():
    spec = importlib.util.spec_from_file_location("make_samples", SAMPLES / "make_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    files = module.render()
    assert module.render() == files, "the generator is not deterministic"
    stale = [name for name, data in files.items() if (SAMPLES / name).read_bytes() != data]
    assert stale == [], f"out of date: {stale}; run python sample_data/make_samples.py"
