"""bench/gen_chat.py (the lint benchmark's data): deterministic, and its manifest tells the truth.

Generator-only checks, no linting, so they stay well under a second.
"""

import io
import json

import pytest

from tests.conftest import load_bench

ROWS = 3000


@pytest.fixture(scope="module")
def gen_chat():
    return load_bench("gen_chat")


@pytest.fixture(scope="module")
def generated(gen_chat):
    out = io.StringIO()
    manifest = gen_chat.generate(ROWS, 0, out)
    return out.getvalue().splitlines(), manifest


def normalise_for_match(s: str) -> str:
    # What the planted duplicates vary (case, whitespace runs, ends); ftk's FTK201 folds these too.
    return " ".join(s.split()).casefold()


def _row(lines, line):
    return json.loads(lines[line - 1])


def _norm(messages):
    return [(m["role"], normalise_for_match(m["content"])) for m in messages]


def test_deterministic(gen_chat, generated):
    again = io.StringIO()
    assert gen_chat.generate(ROWS, 0, again) == generated[1]
    assert again.getvalue().splitlines() == generated[0]
    other = io.StringIO()
    gen_chat.generate(ROWS, 1, other)
    assert other.getvalue().splitlines() != generated[0]


def test_counts_and_disjoint_lines(gen_chat, generated):
    lines, manifest = generated
    assert len(lines) == ROWS
    seen = set()
    for kind, share in gen_chat.SHARES.items():
        planted = manifest["planted"][kind]
        assert len(planted) == round(share * ROWS) == manifest["counts"][kind]
        assert not seen & set(planted)
        seen |= set(planted)


def test_planted_rows_are_what_the_manifest_says(generated):
    lines, manifest = generated
    details = manifest["details"]
    for line, d in details["duplicate"].items():
        copy, source = _row(lines, int(line)), _row(lines, d["of"])
        assert int(line) > d["of"] and _norm(copy["messages"]) == _norm(source["messages"])
    for line, d in details["contradiction"].items():
        row, source = _row(lines, int(line))["messages"], _row(lines, d["of"])["messages"]
        assert row[:-1] == source[:-1] and row[-1]["content"] != source[-1]["content"]
    for line in details["language"]:
        text = " ".join(m["content"] for m in _row(lines, int(line))["messages"])
        assert not text.isascii()  # é, ü, ñ, ¿ …: the phrase banks are real French, German, Spanish
    for line, d in details["schema"].items():
        if d["kind"] == "invalid-json":
            with pytest.raises(json.JSONDecodeError):
                json.loads(lines[int(line) - 1])
    for line in details["reserved_email"]:
        assert "@example.com" in json.dumps(_row(lines, int(line)))


def test_clean_prompts_are_unique(generated):
    lines, manifest = generated
    planted = {line for lines_ in manifest["planted"].values() for line in lines_}
    prompts = [normalise_for_match(next(m["content"] for m in _row(lines, i)["messages"] if m["role"] == "user"))
               for i in range(1, ROWS + 1) if i not in planted]
    assert len(prompts) == len(set(prompts))
