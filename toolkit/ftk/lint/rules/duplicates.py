"""FTK2xx — exact duplicates and contradictions, across every file linted together.

Rows are compared after normalisation (ftk.lint.features: Unicode NFC, case, whitespace runs,
control characters; key order and format do not matter because the comparison is on the
normalised example), and only 64-bit hashes of each row, prompt and response are kept (in numpy
arrays), so memory stays small on large files.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ftk.data.formats import Example
from ftk.lint.features import pack_rows, rows_table
from ftk.lint.registry import DatasetRule, Finding, Fix, Location, LocationTable, Severity, dataset_rule

_MAX_LISTED = 10  # lines listed in one message; the JSON report carries them all


def list_lines(locs: list[Location], path: str) -> str:
    """Line numbers for a message: bare in the same file, path:line across files, at most 10."""
    shown = [str(loc.line) if loc.path == path else f"{loc.path}:{loc.line}" for loc in locs[:_MAX_LISTED]]
    more = f" and {len(locs) - _MAX_LISTED} more" if len(locs) > _MAX_LISTED else ""
    return ", ".join(shown) + more


class _Listed(dict):
    """list_lines(locs, path) per path, made once: every row of a group in one file shares it."""

    def __init__(self, locs: list[Location]):
        super().__init__()
        self.locs = locs

    def __missing__(self, path: str) -> str:
        self[path] = text = list_lines(self.locs, path)
        return text


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
    """Both rules from the shared per-example hashes (ftk.lint.features): each chunk gives three
    64-bit keys a row (row, prompt, response); groups are found by sorting them at the end."""

    def __init__(self, options, selected):
        super().__init__(options, selected)
        self.locs = LocationTable()
        self.row_keys: list[np.ndarray] = []
        self.prompt_rows: list[np.ndarray] = []  # ids of the rows that have a prompt and a response
        self.prompt_keys: list[np.ndarray] = []
        self.response_keys: list[np.ndarray] = []
        self._groups: dict[str, list] | None = None

    def map(self, rows: list[tuple[Location, Example]]) -> tuple:
        table = rows_table(rows)
        row_keys = table.row_keys() if "FTK201" in self.selected else None
        at, prompts, responses = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.uint64)
        if "FTK202" in self.selected:
            ok, prompt_keys, response_keys, _, _ = table.part_keys()
            at, prompts, responses = np.flatnonzero(ok), prompt_keys[ok], response_keys[ok]
        return pack_rows(rows), row_keys, at, prompts, responses

    def reduce(self, part: tuple) -> None:
        packed, row_keys, at, prompts, responses = part
        first = self.locs.extend(packed)
        if row_keys is not None:
            self.row_keys.append(row_keys)
        self.prompt_rows.append(at + first)
        self.prompt_keys.append(prompts)
        self.response_keys.append(responses)

    def groups(self) -> dict[str, list]:
        if self._groups is None:
            rows = _concat(self.row_keys, np.uint64)
            prompt_rows = _concat(self.prompt_rows, np.int64)
            prompts, responses = _concat(self.prompt_keys, np.uint64), _concat(self.response_keys, np.uint64)
            contradictions = [g for g in same_key_groups(prompts) if len(set(responses[g].tolist())) > 1]
            self._groups = {"duplicates": same_key_groups(rows),
                            "contradictions": [(prompt_rows[g], responses[g]) for g in contradictions]}
        return self._groups

    def finish(self) -> Iterator[Finding]:
        groups = self.groups()
        for group in groups["duplicates"]:
            locs = [self.locs[int(i)] for i in group]
            listed = _Listed(locs)
            for loc in locs[1:]:
                yield Finding("FTK201", loc, None,
                              f"duplicate of line {list_lines([locs[0]], loc.path)} "
                              f"(group of {len(locs)}: lines {listed[loc.path]})",
                              tuple(locs))
        for rows, answers in groups["contradictions"]:
            locs = [self.locs[int(i)] for i in rows]
            listed = _Listed(locs)
            distinct = len(set(answers.tolist()))
            for loc in locs:
                others = [o for o in locs if o != loc]
                yield Finding("FTK202", loc, None,
                              f"same prompt as line {list_lines(others[:1], loc.path)} with a different response "
                              f"({distinct} distinct responses in lines {listed[loc.path]})",
                              tuple(locs))

    def stats(self) -> dict:
        groups = self.groups()
        return {"duplicates": {"groups": len(groups["duplicates"]),
                               "rows": sum(len(g) - 1 for g in groups["duplicates"])},
                "contradictions": {"groups": len(groups["contradictions"])}}


def _concat(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)


def same_key_groups(keys: np.ndarray) -> list[np.ndarray]:
    """Positions of each key that occurs more than once, in input order; groups by first position."""
    if keys.size < 2:
        return []
    # The keys that repeat, from a plain sort (a few ms for a million); only their rows get the
    # stable argsort, which over every row cost 0.18 s a million.
    k = np.sort(keys)
    repeated = k[1:][k[1:] == k[:-1]]
    if not repeated.size:
        return []
    at = np.flatnonzero(_isin_sorted(keys, np.unique(repeated)))
    order = at[np.argsort(keys[at], kind="stable")]
    k = keys[order]
    starts = np.flatnonzero(np.concatenate(([True], k[1:] != k[:-1])))
    sizes = np.diff(np.concatenate((starts, [k.size])))
    groups = [order[s:s + z] for s, z in zip(starts.tolist(), sizes.tolist())]
    groups.sort(key=lambda g: g[0])
    return groups


def _isin_sorted(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """np.isin(values, sorted_set) for a sorted, non-empty set, by binary search."""
    return sorted_set[np.searchsorted(sorted_set, values).clip(max=len(sorted_set) - 1)] == values
