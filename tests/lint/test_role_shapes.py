"""Row checks registered `roles_only` run once per shape of row (format and roles): the engine
skips them on rows shaped like one they found nothing in. That is only right if what they find
depends on the roles alone, and if a shape they flag is flagged on every row that has it."""

import itertools
import random

from ftk.data.formats import Format, normalise
from ftk.lint.engine import Checker, lint_paths, role_shape
from ftk.lint.registry import ROLES_ONLY, ROW_CHECKS, Options, load_all_rules, select_codes
from tests.conftest import write_jsonl

ROLES = ["system", "user", "assistant", "tool", "bot"]
TEXTS = ["", "   ", "Hi", "What is 2 + 2?", "4", "```\ncode\n```", "Sure, here you go: ..."]


def _examples(rng: random.Random, n: int):
    for _ in range(n):
        roles = [rng.choice(ROLES) for _ in range(rng.randint(1, 5))]
        obj = {"messages": [{"role": r, "content": rng.choice(TEXTS)} for r in roles]}
        example, _ = normalise(obj, Format.CHAT)
        if example is not None:
            yield example


def test_roles_only_checks_find_the_same_on_rows_of_the_same_shape():
    load_all_rules()
    assert {"FTK101", "FTK103", "FTK107"} <= ROLES_ONLY
    rng = random.Random(0)
    seen: dict = {}
    for example in _examples(rng, 3000):
        found = tuple(bool(list(ROW_CHECKS[code](example, Options()))) for code in sorted(ROLES_ONLY))
        assert seen.setdefault(role_shape(example), found) == found, role_shape(example)
    assert len(seen) > 100 and any(any(f) for f in seen.values()) and any(not any(f) for f in seen.values())


def test_a_flagged_shape_is_flagged_on_every_row_after_clean_rows(tmp_path):
    good = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}
    twice = {"messages": [{"role": "user", "content": "Hi"}, {"role": "user", "content": "Hi?"},
                          {"role": "assistant", "content": "Hello"}]}
    rows = list(itertools.chain.from_iterable([good, good, twice] for _ in range(4)))
    path = write_jsonl(tmp_path / "d.jsonl", rows)
    result = lint_paths([str(path)], Checker(select_codes(None, None)), jobs=1)
    assert [d.line for d in result.diagnostics if d.code == "FTK103"] == [3, 6, 9, 12]
