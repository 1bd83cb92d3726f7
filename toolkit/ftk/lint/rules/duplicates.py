"""FTK2xx — exact duplicates and contradictions, across every file linted together.

Rows are compared after normalisation (ftk.lint.features: Unicode NFC, case, whitespace runs,
control characters; key order and format do not matter because the comparison is on the
normalised example), and only an 8-byte hash of each row and prompt is kept, so memory stays
small on large files.
"""

from __future__ import annotations

from collections.abc import Iterator

from ftk.data.formats import Example
from ftk.lint.features import hash_turns, row_key
from ftk.lint.registry import DatasetRule, Finding, Fix, Location, Severity, dataset_rule

_MAX_LISTED = 10  # lines listed in one message; the JSON report carries them all


def list_lines(locs: list[Location], path: str) -> str:
    """Line numbers for a message: bare in the same file, path:line across files, at most 10."""
    shown = [str(loc.line) if loc.path == path else f"{loc.path}:{loc.line}" for loc in locs[:_MAX_LISTED]]
    more = f" and {len(locs) - _MAX_LISTED} more" if len(locs) > _MAX_LISTED else ""
    return ", ".join(shown) + more


@dataset_rule(
    ("FTK201", "exact-duplicate", Severity.WARNING, "Row duplicates an earlier row",
     """
     What it does: finds rows that are identical after normalisation (Unicode NFC, case,
     whitespace, key order, and format: an alpaca row and the same chat row match) and reports
     every copy after the first, with all the lines of its group.
     Why it matters: duplicates are trained on several times per epoch, skewing the model toward
     them, and they leak between train and eval splits.
     Example: lines 12 and 845 hold the same question and answer, once with a trailing space.
     Use instead: keep one copy; `--fix` keeps the first of each group.
     """, Fix.KEEP_FIRST),
    ("FTK202", "contradiction", Severity.WARNING, "Same prompt, different responses",
     """
     What it does: groups rows whose prompts (every turn before the last assistant turn, system
     prompt included, normalised as for FTK201) are identical but whose responses differ, and
     reports every row of each group.
     Why it matters: the model is taught two answers to one question; for factual data one of
     them is usually wrong, and the loss cannot go down on either.
     Example: "What is the capital of Australia?" answered "Canberra" on line 3 and "Sydney" on
     line 90.
     Use instead: keep the right answer. For tasks with many valid answers (stories, poems),
     ignore this rule: `--ignore FTK202`.
     """),
)
class DuplicatesAndContradictions(DatasetRule):
    """Both rules in one pass over the shared per-example hashes (ftk.lint.features)."""

    def __init__(self, options, selected):
        super().__init__(options, selected)
        self.first_row: dict[bytes, Location] = {}
        self.duplicates: dict[bytes, list[Location]] = {}
        # prompt hash -> (first location, its response hash); prompts seen twice or more keep all rows.
        self.first_prompt: dict[bytes, tuple[Location, bytes]] = {}
        self.prompts: dict[bytes, list[tuple[Location, bytes]]] = {}

    def observe(self, loc: Location, example: Example) -> None:
        if "FTK201" in self.selected:
            key = row_key(example)
            first = self.first_row.setdefault(key, loc)
            if first is not loc:
                self.duplicates.setdefault(key, [first]).append(loc)
        if "FTK202" in self.selected:
            self._observe_prompt(loc, example)

    def _observe_prompt(self, loc: Location, example: Example) -> None:
        prompt, response = example.prompt_and_response()
        if not prompt or response is None or not any(t.role == "user" for t in prompt):
            return
        entry = (loc, hash_turns(example, [response]))
        key = hash_turns(example, prompt)
        first = self.first_prompt.setdefault(key, entry)
        if first is not entry:
            self.prompts.setdefault(key, [first]).append(entry)

    def finish(self) -> Iterator[Finding]:
        for locs in self.duplicates.values():
            for loc in locs[1:]:
                yield Finding("FTK201", loc, None,
                              f"duplicate of line {list_lines([locs[0]], loc.path)} "
                              f"(group of {len(locs)}: lines {list_lines(locs, loc.path)})",
                              tuple(locs))
        for entries in self.prompts.values():
            answers = {r for _, r in entries}
            if len(answers) < 2:
                continue
            locs = [loc for loc, _ in entries]
            for loc, _ in entries:
                others = [o for o in locs if o != loc]
                yield Finding("FTK202", loc, None,
                              f"same prompt as line {list_lines(others[:1], loc.path)} with a different response "
                              f"({len(answers)} distinct responses in lines {list_lines(locs, loc.path)})",
                              tuple(locs))

    def stats(self) -> dict:
        return {"duplicates": {"groups": len(self.duplicates), "rows": sum(len(g) - 1 for g in self.duplicates.values())},
                "contradictions": {"groups": sum(1 for g in self.prompts.values() if len({r for _, r in g}) > 1)}}
