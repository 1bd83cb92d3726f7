"""A rule's trigger is a necessary condition: running text rules only on the rows that hold their
trigger strings finds exactly what running them on every row finds."""

import random
from pathlib import Path

import orjson
import pytest

from ftk.data.reader import parse_line
from ftk.lint.engine import Checker, check_chunk, check_record
from ftk.lint.registry import TRIGGERS, load_all_rules, select_codes
from ftk.lint.triggers import Trigger, TriggerScan, _view

load_all_rules()  # fills TRIGGERS, which the parametrisation below reads
CASES = Path(__file__).resolve().parent.parent / "cases"

# Pieces of text around and inside each trigger's patterns, mixed at random into rows below.
PIECES = [
    "sk-proj-abc123DEF456ghi789JKL0", "sk-learn-compatible", "AKIAIOSFODNN7EXAMPLE", "AKIA1234567890ABCDEF",
    "ghp_" + "a1" * 18, "xoxb-123456-abcdefghij", "xoxb-your-bot-token", "AIza" + "B" * 35, "hf_" + "x9" * 16,
    "sk_live_" + "4" * 24, "eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.SflKxwRJSMeKKF2QT4f",
    "-----BEGIN RSA PRIVATE KEY-----", "PRIVATE KEY", "jane.doe@gmail.com", "git@github.com:org/repo.git",
    "logo@2x.png", "user@example.com", "@", "+44 20 7946 0958", "(555) 123-4567", "555-123-4567", "+12 500 000",
    "٠١٢-٣٤٥-٦٧٨٩", "+٤٤ ٢٠ ٧٩٤٦ ٠٩٥٨", "3.14159", "100.5", "As an AI language model", "AS AN AI MODEL",
    "I’m sorry, but I cannot help", "i'm sorry, but i can't assist", "my knowledge cutoff", "İ AM SORRY",
    "my \u212anowledge cutoff", "<|im_end|>", "[INST]", "<start_of_turn>", "[SYSTEM_PROMPT]", "<|", "\x00", "\x1b[0m",
    "\x7f", "\x85", "\ufffe", "\ufffd", "Ã©", "â€™", "Â ", "cafe\u0301", "café", "N/A", "TODO", "hello", "the", " ",
    "\n", "\t", "123", "-", ".", "sk-", "xox", "eyJ", "hf_", "Ã", "â",
]


def _rows(n: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        turns = []
        for role in ("system", "user", "assistant")[rng.randrange(0, 2):]:
            text = "".join(rng.choice(PIECES) + rng.choice(["", " ", "x", "\n"]) for _ in range(rng.randrange(1, 6)))
            turns.append({"role": role, "content": text})
        out.append(orjson.dumps({"messages": turns}))
    return out


def _findings(lines: list[bytes], use_triggers: bool) -> list[dict]:
    checker = Checker(select_codes(None, None))
    if not use_triggers:
        checker.triggers = None
    records = [parse_line("t.jsonl", i + 1, raw) for i, raw in enumerate(lines)]
    result = check_chunk(records, None, checker, [])
    return [d.to_dict() for d in result.diagnostics]


@pytest.mark.parametrize("seed", range(5))
def test_random_rows_same_findings_with_and_without_triggers(seed):
    lines = _rows(400, seed)
    with_triggers = _findings(lines, True)
    assert with_triggers == _findings(lines, False)
    found = {d["code"] for d in with_triggers}
    assert {"FTK403", "FTK404", "FTK406", "FTK501", "FTK503", "FTK504"} <= found  # the mix fires the rules


@pytest.mark.parametrize("code", sorted(TRIGGERS))
def test_rule_cases_same_findings_with_and_without_triggers(code):
    lines = []
    for path in sorted((CASES / code).glob("*.jsonl")):
        lines += [line for line in path.read_bytes().split(b"\n") if line.strip()]
    assert lines
    with_triggers = _findings(lines, True)
    assert [d for d in with_triggers if d["code"] == code]  # the fail cases fire
    assert with_triggers == _findings(lines, False)


def test_scan_maps_matches_to_rows():
    scan = TriggerScan({"A": Trigger(("ab",)), "B": Trigger(("x0",), view="digits"),
                        "C": Trigger(("hello",), view="lower"), "D": Trigger(non_ascii=True)})
    rows = scan.rows([b"zzab", b"a", b"b", b"x7 HeLLo", "é".encode(), b"ab"])
    assert rows == {"A": {0, 5}, "B": {3}, "C": {3}, "D": {4}}  # "a"+"b" across rows is no match
    assert scan.rows([]) == {"A": set(), "B": set(), "C": set(), "D": set()}


@pytest.mark.parametrize("seed", range(3))
def test_one_folded_scan_finds_what_each_view_finds(seed):
    """The scan looks for every view's strings in one folded copy of the text, then checks each
    match in its own view: the rows must be those a plain search of each view gives."""
    rng = random.Random(seed)
    alphabet = ["a", "A", "b", "B", "0", "1", "7", "9", "-", " ", "é", "K", "k", "\u212a"]
    triggers = {"T": Trigger(("aB", "K1", "b-0")), "L": Trigger(("ab", "k9", "a b"), view="lower"),
                "D": Trigger(("00-0", "a0", "0b"), view="digits"), "N": Trigger(("zz",), non_ascii=True)}
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))).encode() for _ in range(500)]
    expected = {code: {i for i, t in enumerate(texts) if any(s.encode() in _view(t, trig.view) for s in trig.strings)
                       or (trig.non_ascii and not t.isascii())} for code, trig in triggers.items()}
    assert TriggerScan(triggers).rows(texts) == expected
    assert all(expected.values())


def test_trigger_strings_are_checked():
    with pytest.raises(ValueError):
        Trigger(("a\nb",))
    with pytest.raises(ValueError):
        Trigger(("é",), view="lower")


@pytest.mark.parametrize("seed", range(3))
def test_a_chunks_findings_are_its_rows_findings(seed):
    """check_chunk runs each check over the rows it has to see (triggers, clean role shapes);
    check_record runs every check on one row. Same findings, once sorted as reports sort them."""
    rng = random.Random(seed)
    lines = _rows(300, seed)
    for _ in range(300):  # odd role orders, for the checks of the roles alone
        roles = [rng.choice(["system", "user", "assistant", "tool", "bot"]) for _ in range(rng.randint(1, 4))]
        lines.append(orjson.dumps({"messages": [{"role": r, "content": rng.choice(PIECES)} for r in roles]}))
    rng.shuffle(lines)
    records = [parse_line("t.jsonl", i + 1, raw) for i, raw in enumerate(lines)]
    chunk = check_chunk(records, None, Checker(select_codes(None, None)), []).diagnostics
    one_by_one = [d for rec in records for d in check_record(rec, None, Checker(select_codes(None, None)))[0]]
    key = lambda d: (d.line, d.code)  # noqa: E731
    assert sorted(chunk, key=key) == sorted(one_by_one, key=key)
    assert {"FTK101", "FTK103", "FTK107", "FTK501", "FTK106"} <= {d.code for d in chunk}
