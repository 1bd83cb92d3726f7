"""Rule tests as data: one directory per rule code under tests/cases/, run by one parametrised test.

Layout of `tests/cases/FTKnnn/`:

- `fail.jsonl`: a small file in which the rule must fire; `expect.json` lists the 1-based lines
  where the code must be reported (`fail_lines`) and where it must not (`pass_lines`). Every row
  of the file is in exactly one of the two lists, so each line is a deliberate case.
- `pass.jsonl`: a file in which the rule must not fire at all (near misses, tricky legitimate text).
- `expect.json`:
  ```
  {"fail_lines": [2, 5], "pass_lines": [1, 3, 4],
   "options": {"max_length": 64, "langs": ["en"]},   # optional: ftk.lint.registry.Options fields
   "tokenizer": "smollm2",                            # optional: a shipped tokenizer (default: estimate)
   "notes": {"2": "why line 2 must fire"},            # optional, documentation only
   "train": "train.jsonl",                            # optional: the case files are eval sets, linted
                                                      # as `ftk lint train.jsonl --against CASE` (FTK205)
   "files": {"fail-dpo.jsonl": {"fail_lines": [...], "pass_lines": [...], "options": {...}},
             "pass-sharegpt.jsonl": {"options": {...}}}}
  ```
  Top-level `fail_lines`/`pass_lines` describe `fail.jsonl`. Extra files (`fail-*.jsonl`,
  `pass-*.jsonl`, or `.json`/`.csv` variants) are allowed for rules whose checks depend on the
  file's format; `files` gives their expectations, and may override `options`/`tokenizer` per file.

A `train` file is data for the case files, not a case itself. Each file is linted on its own with
every rule selected (`select_codes(None, None)`), so a case also
proves that the other rules do not stop this one from being reported.
"""

from __future__ import annotations

import json
import re
from dataclasses import fields
from pathlib import Path

import pytest

from ftk.data.reader import read_records
from ftk.lint.engine import Checker, lint_paths
from ftk.lint.registry import RULES, Options, select_codes
from ftk.lint.tokens import load_token_counter

CASES = Path(__file__).resolve().parent.parent / "cases"
CODE_DIR = re.compile(r"FTK\d{3}")
CASE_FILE = re.compile(r"(fail|pass)(-[a-z0-9][a-z0-9-]*)?\.(jsonl|json|csv)")
TOP_KEYS = {"fail_lines", "pass_lines", "options", "tokenizer", "notes", "files", "train"}
FILE_KEYS = {"fail_lines", "pass_lines", "options", "tokenizer", "notes", "train"}
OPTION_FIELDS = {f.name for f in fields(Options)} - {"tokenizer", "against"}
DOC_SECTIONS = ("What it does:", "Why it matters:", "Example:", "Use instead:")


def _case_dirs() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def _load_expect(d: Path) -> dict:
    path = d / "expect.json"
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def _file_expect(expect: dict, name: str) -> dict:
    """Expectations for one case file: its own entry in `files`, over the directory's defaults."""
    own = dict(expect.get("files", {}).get(name, {}))
    if name == "fail.jsonl":
        for key in ("fail_lines", "pass_lines", "notes"):
            if key in expect:
                assert key not in own, f"{name}: '{key}' given both at top level and under 'files'"
                own[key] = expect[key]
    return {
        "options": {**expect.get("options", {}), **own.get("options", {})},
        "tokenizer": own.get("tokenizer", expect.get("tokenizer")),
        "train": own.get("train", expect.get("train")),
        "fail_lines": own.get("fail_lines"),
        "pass_lines": own.get("pass_lines"),
    }


def _params() -> list:
    out = []
    for d in _case_dirs():
        for f in sorted(d.iterdir()):
            if CASE_FILE.fullmatch(f.name):
                out.append(pytest.param(d.name, f.name, id=f"{d.name}/{f.name}"))
    return out


def _checker(spec: dict, against: Path | None = None) -> Checker:
    opts = dict(spec["options"])
    unknown = set(opts) - OPTION_FIELDS
    assert not unknown, f"unknown options {sorted(unknown)} (Options has {sorted(OPTION_FIELDS)})"
    if "langs" in opts:
        opts["langs"] = tuple(opts["langs"])
    options = Options(**opts)
    if against is not None:
        options.against = (str(against),)
    if spec["tokenizer"]:
        options.tokenizer = load_token_counter(spec["tokenizer"])
    return Checker(select_codes(None, None), options)


def _lint(path: Path, spec: dict):
    """(result, the lines of the rows of `path`, its diagnostics)."""
    if spec["train"]:  # `path` is an eval set: lint the training file against it
        result = lint_paths([str(path.parent / spec["train"])], _checker(spec, against=path))
        lines = [rec.line for rec in read_records(path)]
    else:
        lines = [rec.line for rec in read_records(path)]
        result = lint_paths([str(path)], _checker(spec))
        assert result.rows == len(lines)
    return result, lines, [d for d in result.diagnostics if d.path == str(path)]


@pytest.mark.parametrize("code, name", _params())
def test_rule_case(code: str, name: str) -> None:
    path = CASES / code / name
    spec = _file_expect(_load_expect(CASES / code), name)
    result, lines, diagnostics = _lint(path, spec)
    assert lines, f"{name}: no rows read"
    fired = sorted({d.line for d in diagnostics if d.code == code})
    shown = "\n".join(f"  line {d.line}: {d.code} {d.message}" for d in diagnostics if d.code == code)

    if name.startswith("pass"):
        assert spec["fail_lines"] is None and spec["pass_lines"] is None, \
            f"{name}: a pass file takes no fail_lines/pass_lines: the rule must not fire anywhere in it"
        assert not fired, f"{code} must not fire in {name}, but fired on lines {fired}:\n{shown}"
        return

    fail_lines, pass_lines = spec["fail_lines"], spec["pass_lines"]
    assert fail_lines, f"{name}: expect.json must list the lines where {code} fires (fail_lines)"
    assert pass_lines is not None, f"{name}: expect.json must list pass_lines (may be empty)"
    assert not set(fail_lines) & set(pass_lines), f"{name}: lines in both fail_lines and pass_lines"
    assert sorted(set(fail_lines) | set(pass_lines)) == sorted(lines), (
        f"{name}: fail_lines + pass_lines must name every row exactly once; rows are {lines}")
    missed = sorted(set(fail_lines) - set(fired))
    extra = sorted(set(fired) & set(pass_lines))
    assert not missed and not extra, (
        f"{code} in {name}: expected on {sorted(fail_lines)}, fired on {fired} "
        f"(missed {missed}, unexpected {extra}):\n{shown}")


def test_case_directories_are_well_formed() -> None:
    for d in _case_dirs():
        assert CODE_DIR.fullmatch(d.name), f"{d.name}: case directories are named by rule code"
        assert d.name in select_codes(None, None), f"{d.name}: no such rule is registered"
        names = {f.name for f in d.iterdir()}
        assert {"fail.jsonl", "pass.jsonl"} <= names, f"{d.name}: needs fail.jsonl and pass.jsonl"
        expect = _load_expect(d)
        data = {expect.get("train")} | {e.get("train") for e in expect.get("files", {}).values()}
        stray = sorted(n for n in names if n != "expect.json" and n not in data and not CASE_FILE.fullmatch(n))
        assert not stray, f"{d.name}: unexpected files {stray}"
        assert set(expect) <= TOP_KEYS, f"{d.name}/expect.json: unknown keys {sorted(set(expect) - TOP_KEYS)}"
        for fname, entry in expect.get("files", {}).items():
            assert fname in names, f"{d.name}/expect.json: 'files' names {fname}, which does not exist"
            assert set(entry) <= FILE_KEYS, f"{d.name}/expect.json {fname}: unknown keys {sorted(set(entry) - FILE_KEYS)}"
        for fname in names:
            if fname.startswith("fail"):
                spec = _file_expect(expect, fname)
                assert spec["fail_lines"], f"{d.name}/{fname}: no fail_lines in expect.json"


def test_every_rule_has_cases() -> None:
    codes = select_codes(None, None)
    have = {d.name for d in _case_dirs()}
    missing = sorted(codes - have)
    assert not missing, f"rules without a case directory in tests/cases: {missing}"
    stale = sorted(have - codes)
    assert not stale, f"case directories for codes that are not registered: {stale}"


@pytest.mark.parametrize("code", sorted(select_codes(None, None)))
def test_rule_doc_has_sections(code: str) -> None:
    doc = RULES[code].doc
    where = [doc.find(s) for s in DOC_SECTIONS]
    missing = [s for s, i in zip(DOC_SECTIONS, where) if i < 0]
    assert not missing, f"{code} doc lacks {missing}"
    assert where == sorted(where), f"{code} doc sections out of order: {DOC_SECTIONS}"
    for s, start, end in zip(DOC_SECTIONS, where, where[1:] + [len(doc)]):
        assert doc[start + len(s):end].strip(), f"{code} doc section '{s}' is empty"


def test_byte_cases_match_their_generator() -> None:
    """FTK003/4/5 files are written by make_byte_cases.py; the committed bytes must be what it writes."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_byte_cases", CASES / "make_byte_cases.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.FILES
    for rel, data in module.FILES.items():
        assert (CASES / rel).read_bytes() == data, f"{rel} differs from make_byte_cases.py: rerun it"


def test_english_and_foreign_function_words_do_not_overlap():
    """A word in both lists would send ordinary English rows to langdetect (slow), as 'do' once did."""
    from ftk.lint.language import _ENGLISH, _OTHER

    assert not _ENGLISH & _OTHER
