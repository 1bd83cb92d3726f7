"""Fuzz `ftk lint` with hypothesis: random bytes, random JSON, plausible-but-wrong rows, odd Unicode.

Whatever the input, linting must not raise, must account for every line (rows in = rows out), must
report every line that is not a usable row with at least one diagnostic on that exact line, and
must never point at a line that does not exist.

10,500 generated files in all (4 x 2,500 JSONL, 2 x 250 .json/.csv), about 40 s of CPU on one core;
`FTK_FUZZ_EXAMPLES` sets the per-test count (e.g. 200 for a quick local run, 20000 for a soak).
Slow rules are left out where they add little (see CHEAP); one test runs every rule.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftk.data.formats import normalise
from ftk.data.reader import BOM
from ftk.lint.engine import Checker, LintResult, lint_paths, row_format
from ftk.lint.registry import Options, Severity, select_codes
from ftk.lint.tokens import load_token_counter

EXAMPLES = int(os.environ.get("FTK_FUZZ_EXAMPLES", "2500"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

ALL = frozenset(select_codes(None, None))
# langdetect costs ~2 ms a text: most tests leave the language rule out and one keeps it, on short rows.
NO_LANGUAGE = frozenset(select_codes(None, ["FTK601"]))
# The near-duplicate rules cost ~3 ms per lint_paths call whatever the size (two MinHash/LSH indexes
# are built): the two tests whose rows are mostly unparseable leave them out too.
CHEAP = frozenset(select_codes(None, ["FTK601", "FTK203", "FTK204"]))


@pytest.fixture(scope="module")
def fuzz_file(tmp_path_factory) -> Path:
    """One file per test module, rewritten by every example (nothing accumulates on disk)."""
    return tmp_path_factory.mktemp("fuzz") / "data.jsonl"


# ---------------------------------------------------------------------------------------------
# The oracle


def _reject(name: str):
    raise ValueError(name)


def split_lines(blob: bytes) -> list[bytes]:
    """The lines a JSONL reader sees: split on LF only; a final LF ends the last line."""
    if not blob:
        return []
    lines = blob.split(b"\n")
    return lines[:-1] if blob.endswith(b"\n") else lines


def parse_independently(raw: bytes, first: bool) -> tuple[bool, object]:
    """(parsed, value) for one line, decided without ftk: strict UTF-8 and strict JSON."""
    if first and raw.startswith(BOM):
        raw = raw[len(BOM):]
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    if not raw.strip():
        return False, None
    try:
        return True, json.loads(raw.decode("utf-8"), parse_constant=_reject)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False, None


def has_lone_surrogate(value: object) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, list):
        return any(has_lone_surrogate(v) for v in value)
    if isinstance(value, dict):
        return any(has_lone_surrogate(k) or has_lone_surrogate(v) for k, v in value.items())
    return False


def lint_blob(path: Path, blob: bytes, codes: frozenset[str], options: Options | None = None) -> LintResult:
    path.write_bytes(blob)
    result = lint_paths([str(path)], Checker(set(codes), options or Options()))
    check_invariants(path, blob, result, codes)
    return result


def check_invariants(path: Path, blob: bytes, result: LintResult, codes: frozenset[str]) -> None:
    lines = split_lines(blob)
    n = len(lines)
    assert result.rows == n, f"{n} lines in, {result.rows} rows accounted for"
    assert len(result.files) == 1 and result.files[0].rows == n
    report = result.files[0]

    by_line: dict[int, list[str]] = {}
    for d in result.diagnostics:
        assert 1 <= d.line <= n, f"{d.code} on line {d.line} of a {n}-line file: {d.message}"
        assert d.path == str(path)
        assert d.code in codes, f"{d.code} reported but not selected"
        assert isinstance(d.severity, Severity) and isinstance(d.message, str) and d.message
        by_line.setdefault(d.line, []).append(d.code)
    assert [d.line for d in result.diagnostics] == sorted(d.line for d in result.diagnostics)

    usable = unsure = 0
    for i, raw in enumerate(lines, 1):
        if i == 1 and raw.startswith(BOM):
            assert "FTK004" in by_line.get(1, []), "a BOM on line 1 was not reported"
        parsed, value = parse_independently(raw, i == 1)
        if parsed and has_lone_surrogate(value):
            unsure += 1  # "\ud800" parses, but is not text: ftk may take or refuse the row (see KNOWN BUGS)
            continue
        if parsed and isinstance(value, dict):
            fmt = row_format(value, report.format)
            if fmt is not None and (report.format is None or fmt is report.format) and normalise(value, fmt)[0] is not None:
                usable += 1
                continue
        assert by_line.get(i), f"line {i} is not a usable row but has no diagnostic: {raw[:120]!r}"
    assert usable <= report.valid_rows <= usable + unsure, (
        f"{usable} usable rows (+{unsure} with lone surrogates), engine counted {report.valid_rows}")
    json.dumps(result.to_dict())  # every report must serialise, whatever the input


# ---------------------------------------------------------------------------------------------
# Strategies

FRAGMENTS = [
    b"", b"\n", b"\r\n", b"\r", b" ", b"\t", BOM, b"{", b"}", b"[", b"]", b",", b":", b'"', b"\\", b"\\u",
    b"\\u0000", b"\\ud83d\\ude00", b"NaN", b"Infinity", b"-Infinity", b"null", b"true", b"1e400", b"-0",
    b'{"text": "', b'{"messages": [', b'{"role": "user", "content": "', b'"prompt": ', b'"completion": ',
    b'"chosen": ', b'"rejected": ', b'"conversations": [{"from": "human", "value": ', b'"instruction": ',
    b"\xff", b"\xc3", b"\xc3\xa9", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf", b"\x00", b"\x1b[31m",
    "\u2028".encode(), "\ufffd".encode(), "é".encode(), "😀".encode(),
]

SOUP = FRAGMENTS + [bytes([i]) for i in range(256)]  # JSON-ish pieces and every single byte
# A lone surrogate escape ("\\ud800") is left out of FRAGMENTS: it crashes ftk today (see KNOWN BUGS).

KEYS = ["messages", "conversations", "instruction", "input", "output", "prompt", "completion", "chosen",
        "rejected", "text", "role", "content", "from", "value", "system", "id", "metadata", "tools"]
MESSAGE_KEYS = ["role", "content", "from", "value", "tool_calls", "name", "weight", "tool_call_id", "text", "type"]
ROLES = ["system", "user", "assistant", "tool", "human", "gpt", "bot", "Assistant", "model", "function", "", "USER"]

# Surrogate-free Unicode, control characters included (hypothesis excludes Cs by default).
unicode_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=16)
short_text = st.one_of(
    unicode_text,
    st.sampled_from(["", " ", "\n", "...", "N/A", "<|im_end|>", "[INST]", "Ã©", "\ufffd", "e\u0301", "\x00",
                     "sk-" + "a" * 24, "jane@gmail.com", "+1 415 555 0199", "-----BEGIN PRIVATE KEY-----",
                     "As an AI language model", "Hello, how are you?", "Paris."]),
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), short_text)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.one_of(st.sampled_from(KEYS), unicode_text), children, max_size=3)),
    max_leaves=6,
)

parts = st.lists(st.dictionaries(st.sampled_from(["type", "text", "image_url"]),
                                 st.one_of(st.sampled_from(["text", "image_url"]), short_text, st.none(), st.integers()),
                                 max_size=3), max_size=3)
tool_calls = st.one_of(st.just([]), st.just([{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]),
                       st.none(), short_text)
message_value = st.one_of(st.sampled_from(ROLES), short_text, st.none(), st.integers(), parts, tool_calls)
message = st.one_of(
    st.dictionaries(st.sampled_from(MESSAGE_KEYS), message_value, max_size=4),
    st.builds(lambda r, c: {"role": r, "content": c}, st.sampled_from(ROLES), st.one_of(short_text, st.none(), parts)),
    st.builds(lambda r, c: {"from": r, "value": c}, st.sampled_from(ROLES), short_text),
    short_text, st.integers(), st.none(),
)
messages = st.lists(message, max_size=3)
field_value = st.one_of(short_text, st.none(), st.integers(), st.booleans(), messages, parts)
plausible_row = st.dictionaries(st.sampled_from(KEYS), field_value, max_size=4)


def chat_row(texts: list[str], roles: list[str]) -> dict:
    return {"messages": [{"role": r, "content": t} for r, t in zip(roles, texts)]}


def join(lines: list[bytes], final_newline: bool) -> bytes:
    blob = b"\n".join(lines)
    return blob + b"\n" if final_newline and lines else blob


# ---------------------------------------------------------------------------------------------
# Tests (4 x 2,500 examples by default, plus 2 x 250 on the array and CSV readers)


@FUZZ
@given(lines=st.lists(st.one_of(st.binary(max_size=40), st.lists(st.sampled_from(SOUP), max_size=12).map(b"".join)),
                      max_size=8),
       final_newline=st.booleans())
def test_random_bytes(fuzz_file, lines, final_newline):
    lint_blob(fuzz_file, join(lines, final_newline), CHEAP)


@FUZZ
@given(values=st.lists(st.tuples(json_values, st.booleans(), st.booleans()), max_size=4),
       bom=st.booleans(), crlf=st.booleans())
def test_random_json_values(fuzz_file, values, bom, crlf):
    lines = []
    for value, ascii_only, compact in values:
        text = json.dumps(value, ensure_ascii=ascii_only, allow_nan=True,
                          separators=(",", ":") if compact else None)
        lines.append(text.encode("utf-8") + (b"\r" if crlf else b""))
    if bom and lines:
        lines[0] = BOM + lines[0]
    lint_blob(fuzz_file, join(lines, True), CHEAP)


@FUZZ
@given(rows=st.lists(st.one_of(plausible_row, st.builds(chat_row, st.lists(short_text, max_size=4),
                                                         st.lists(st.sampled_from(ROLES), max_size=4))),
                     min_size=1, max_size=5),
       max_length=st.sampled_from([1, 8, 64, 2048]), real_tokenizer=st.sampled_from([False, False, False, True]))
def test_plausible_rows(fuzz_file, rows, max_length, real_tokenizer):
    """A quarter of the examples count tokens with the shipped SmolLM2 tokenizer and its chat template."""
    lines = [json.dumps(r, ensure_ascii=False).encode("utf-8") for r in rows]
    tokenizer = load_token_counter("smollm2") if real_tokenizer else None
    lint_blob(fuzz_file, join(lines, True), NO_LANGUAGE, Options(max_length=max_length, tokenizer=tokenizer))


@FUZZ
@given(items=st.lists(st.tuples(st.sampled_from(["chat", "alpaca", "text", "dpo", "raw"]),
                                st.lists(st.text(st.characters(exclude_categories=("Cs",)), max_size=12),
                                         min_size=3, max_size=3)),
                      min_size=1, max_size=5),
       langs=st.sampled_from([(), ("en",), ("en", "fr")]))
def test_random_unicode_text_all_rules(fuzz_file, items, langs):
    """Every rule on, the language rule included (texts are short, so langdetect is rarely reached)."""
    lines = []
    for kind, (a, b, c) in items:
        row = {"chat": chat_row([a, b, c], ["system", "user", "assistant"]),
               "alpaca": {"instruction": a, "input": b, "output": c},
               "text": {"text": a + b + c},
               "dpo": {"prompt": a, "chosen": b, "rejected": c}}.get(kind)
        lines.append((a + b + c).encode("utf-8") if row is None else json.dumps(row, ensure_ascii=False).encode("utf-8"))
    lint_blob(fuzz_file, join(lines, True), ALL, Options(langs=langs))


def _lint_other(path: Path, blob: bytes) -> LintResult:
    path.write_bytes(blob)
    result = lint_paths([str(path)], Checker(set(CHEAP)))
    n = len(re.findall(rb"\r\n|\r|\n", blob)) + 1  # CSV counts a lone CR as a line end too
    for d in result.diagnostics:
        assert 1 <= d.line <= n, f"{d.code} on line {d.line} of a {n}-line file"
    assert result.files[0].valid_rows <= result.rows
    json.dumps(result.to_dict())
    return result


@settings(FUZZ, max_examples=max(1, EXAMPLES // 10))
@given(values=st.lists(st.one_of(plausible_row, json_values), max_size=6), indent=st.sampled_from([None, 1, 2]),
       cut=st.integers(min_value=0, max_value=400), bom=st.booleans())
def test_json_array_files(tmp_path_factory, values, indent, cut, bom):
    """A .json array, whole or cut short anywhere: rows keep line numbers inside the file."""
    blob = json.dumps(values, indent=indent, ensure_ascii=False, allow_nan=True).encode("utf-8")
    if cut and cut < len(blob):
        blob = blob[:cut]
    path = tmp_path_factory.getbasetemp() / "fuzz-array.json"
    _lint_other(path, (BOM if bom else b"") + blob)


@settings(FUZZ, max_examples=max(1, EXAMPLES // 10))
@given(header=st.lists(st.sampled_from(KEYS + ["", "x"]), min_size=1, max_size=4),
       cells=st.lists(st.lists(st.one_of(short_text, st.binary(max_size=6).map(lambda b: b.decode("utf-8", "surrogateescape"))),
                               max_size=5), max_size=5))
def test_csv_files(tmp_path_factory, header, cells):
    """CSV with odd headers, long rows, embedded quotes and newlines, and invalid UTF-8."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    for row in cells:
        w.writerow((row + [""] * len(header))[:max(len(header), len(row))])  # no short rows: see KNOWN BUGS
    blob = buf.getvalue().encode("utf-8", "surrogateescape")  # raw bytes back, invalid UTF-8 included
    path = tmp_path_factory.getbasetemp() / "fuzz-table.csv"
    _lint_other(path, blob)


# ---------------------------------------------------------------------------------------------
# KNOWN BUGS found by fuzzing, kept as minimal reproducers. They are expected failures until the
# toolkit is fixed; once they pass (XPASS in the summary), drop the marker.


def test_short_csv_row_is_reported_not_a_crash(tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_bytes(b'prompt,chosen,rejected\n"What is 2+2?","4","5"\n"What is 3+3?","6"\n')
    result = lint_paths([str(path)], Checker(set(NO_LANGUAGE)))
    assert result.rows == 2
    assert [(d.line, d.code, d.field) for d in result.diagnostics] == [(3, "FTK008", "rejected")]


def test_lone_surrogate_escape_is_invalid_encoding(tmp_path):
    path = tmp_path / "surrogate.jsonl"
    path.write_bytes(b'{"prompt": "Say hi \\ud800", "completion": "hello"}\n')
    result = lint_paths([str(path)], Checker(set(NO_LANGUAGE), Options(tokenizer=load_token_counter("smollm2"))))
    assert [(d.line, d.code) for d in result.diagnostics] == [(1, "FTK003")], "not Unicode text: reported, not crashed"
