"""FTK3xx — length: token counts against the recipe's max length, and near-empty responses."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator

import numpy as np

from ftk.data.formats import Example, Format, Turn
from ftk.lint.features import rows_table
from ftk.lint.registry import (
    DatasetRule,
    Finding,
    Fix,
    Location,
    Options,
    Severity,
    dataset_rule,
    row_rule,
)
from ftk.lint.tokens import EstimateCounter

_WORD = re.compile(r"[^\W_]")  # a letter or digit in any script
CODE_ANSWERS = {"[]", "{}", "()", '""', "''", "``"}  # empty literals are real answers to code questions


def _histograms(groups: np.ndarray, values: np.ndarray, n_groups: int) -> list[tuple[int, Counter]]:
    """Per group (0 .. n_groups-1), how many times each value occurs in it."""
    keys, times = np.unique(groups * (1 << 32) + values, return_counts=True)
    out: list[tuple[int, Counter]] = [(g, Counter()) for g in range(n_groups)]
    for key, n in zip(keys.tolist(), times.tolist()):
        out[key >> 32][1][key & 0xFFFFFFFF] = n
    return out


def percentiles(hist: Counter, qs=(0.5, 0.95, 0.99)) -> dict:
    """min/median/p95/p99/max from a histogram of lengths (exact; memory bounded by distinct lengths)."""
    n = sum(hist.values())
    if not n:
        return {"count": 0}
    out = {"count": n, "min": min(hist), "max": max(hist), "mean": round(sum(k * v for k, v in hist.items()) / n, 1)}
    keys = sorted(hist)
    for q in qs:
        rank, seen = max(1, math.ceil(q * n)), 0  # nearest-rank percentile
        for k in keys:
            seen += hist[k]
            if seen >= rank:
                out["median" if q == 0.5 else f"p{round(q * 100)}"] = k
                break
    return out


def histogram(hist: Counter, max_length: int, bins: int = 40) -> dict:
    """Row lengths in equal-width bins up to the larger of max_length and the longest row (for plots)."""
    top = max([max_length, *hist]) if hist else max_length
    width = max(1, math.ceil((top + 1) / bins))
    counts = [0] * bins
    for length, n in hist.items():
        counts[min(bins - 1, length // width)] += n
    return {"bin_width": width, "counts": counts}


@dataset_rule(
    ("FTK301", "too-long", Severity.WARNING, "Row is longer than the max length and will be truncated",
     """
     What it does: counts each row's tokens as the recipe's tokenizer and chat template will see
     them and flags rows longer than the max length (`--max-length`, the recipe's, or 2048).
     Why it matters: the trainer truncates them: the end of the answer — often the conclusion and
     the end-of-turn token — is never learnt, and the model learns not to stop.
     Example: a 3,000-token answer with max length 2048.
     Use instead: raise the max length, split the conversation, or drop the row.
     """),
    ("FTK302", "response-truncated-away", Severity.ERROR,
     "The prompt alone fills the max length: no response token survives truncation",
     """
     What it does: flags rows whose tokens before the first assistant response already reach the
     max length, so truncation removes the whole response.
     Why it matters: with assistant-only loss the row trains nothing; with full loss it trains on
     the prompt only. Either way it is wasted compute that looks fine in the logs.
     Example: a 5,000-token document to summarise, max length 2048.
     Use instead: shorten the prompt (chunk the document) or raise the max length.
     """, Fix.DROP_ROW),
)
class TokenLengths(DatasetRule):
    def __init__(self, options: Options, selected: set[str]):
        super().__init__(options, selected)
        self.counter = options.tokenizer or EstimateCounter()
        self.by_role: dict[str, Counter] = {}
        self.found: list[Finding] = []

    def map(self, rows: list[tuple[Location, Example]]) -> tuple[dict[str, Counter], list[Finding]]:
        """Token counts per turn (one tokenizer call a chunk; the estimate from the lengths alone),
        then each row's total as array sums over the chunk's TextTable: the template's layout is
        looked up once per distinct sequence of roles, not once a row. A DPO row's two
        conversations, prompt + chosen and prompt + rejected, are summed one by one."""
        by_role: dict[str, Counter] = {}
        found: list[Finding] = []
        examples = [ex for _, ex in rows]
        table = rows_table(rows)
        if not table.turns:
            return by_role, found
        counts = self._turn_tokens(table)
        for role, hist in _histograms(table.role_codes, counts, len(table.role_names)):
            by_role.setdefault(table.role_names[role], Counter()).update(hist)

        n, row_of, bounds, turns = table.size, table.row_of_turn(), table.turn_starts.tolist(), table.turns
        dpo = np.fromiter((ex.format is Format.DPO for ex in examples), dtype=bool, count=n)
        shape_of, sequences, position = table.shapes()
        overhead = np.zeros(len(sequences), dtype=np.int64)  # a DPO row's total is summed below
        kept_grid = np.ones((len(sequences), int(position.max()) + 1), dtype=bool)  # the template may drop a turn
        for s in np.unique(shape_of[~dpo]).tolist():
            lay = self.counter.layout(sequences[s])
            overhead[s] = lay.overhead
            kept_grid[s, :len(lay.kept)] = lay.kept
        kept = kept_grid[shape_of[row_of], position]
        row_total = overhead[shape_of] + np.bincount(row_of, weights=counts * kept, minlength=n).astype(np.int64)

        def n_tokens(r: int) -> dict[int, int]:
            """Row r's token count per turn (by the turn's id: the chunk's turns are all alive)."""
            return dict(zip(map(id, turns[bounds[r]:bounds[r + 1]]), counts[bounds[r]:bounds[r + 1]].tolist()))

        for r in np.flatnonzero(dpo).tolist():
            counted = n_tokens(r)
            row_total[r] = max(self._total(conv, counted) for conv in examples[r].conversations())
        by_role.setdefault("total", Counter()).update(_histograms(np.zeros(n, dtype=np.int64), row_total, 1)[0][1])
        # Findings: only rows over the limit are looked at again, conversation by conversation.
        for r in np.flatnonzero(row_total > self.options.max_length).tolist():
            loc, ex = rows[r]
            counted = n_tokens(r)
            for conv in ex.conversations():
                self._check(loc, conv, counted, found)
        return by_role, found

    def _turn_tokens(self, table) -> np.ndarray:
        """Tokens per turn of the table."""
        if isinstance(self.counter, EstimateCounter):
            return self.counter.count_lengths(table.char_lengths)
        return np.array(self.counter.count([t.content for t in table.turns]), dtype=np.int64)

    def _total(self, conv: list[Turn], n_tokens: dict[int, int]) -> int:
        """A conversation's tokens: the template's own and those of the contents it keeps."""
        layout = self.counter.layout(tuple(t.role for t in conv))
        return layout.overhead + sum(n_tokens[id(t)] for t, kept in zip(conv, layout.kept) if kept)

    def reduce(self, part: tuple[dict[str, Counter], list[Finding]]) -> None:
        by_role, found = part
        for role, hist in by_role.items():
            self.by_role.setdefault(role, Counter()).update(hist)
        self.found.extend(found)

    def _check(self, loc: Location, conv: list[Turn], n_tokens: dict[int, int], found: list[Finding]) -> int:
        total = self._total(conv, n_tokens)
        limit = self.options.max_length
        if total <= limit:
            return total
        approx = "" if self.counter.exact else "≈"
        first_answer = next((i for i, t in enumerate(conv) if t.role == "assistant"), None)
        if first_answer is not None:
            head = self.counter.layout(tuple(t.role for t in conv[:first_answer + 1]))
            prompt = head.overhead + sum(n_tokens[id(t)] for t, kept in zip(conv[:first_answer], head.kept) if kept)
            if prompt >= limit:
                found.append(Finding("FTK302", loc, conv[first_answer].field,
                                          f"the prompt is {approx}{prompt} tokens, max length {limit}: "
                                          f"the response is truncated away"))
                return total
        found.append(Finding("FTK301", loc, None,
                                  f"{approx}{total} tokens > max length {limit}: the last {total - limit} are truncated"))
        return total

    def finish(self) -> Iterator[Finding]:
        yield from self.found

    def stats(self) -> dict:
        return {"tokens": {"tokenizer": self.counter.label, "exact": self.counter.exact,
                           "max_length": self.options.max_length,
                           "by_role": {role: percentiles(h) for role, h in sorted(self.by_role.items())},
                           "histogram": histogram(self.by_role.get("total", Counter()), self.options.max_length)}}


@row_rule("FTK303", "near-empty-response", Severity.WARNING, "Response has no letters or digits")
def near_empty_response(ex: Example, opts: Options):
    """
    What it does: flags an assistant response that is not empty but holds no letter or digit in
    any script ("...", "-", "?", "!!"); empty literals such as `[]` or `{}` are allowed.
    Why it matters: such rows teach the model to answer with punctuation; they are usually
    generation failures. (Empty responses are FTK106/FTK009.)
    Example: `{"prompt": "Summarise the article.", "completion": "..."}`
    Use instead: write the response or drop the row.
    """
    for t in ex.all_turns():
        # The regex first: it stops at a response's first letter, where strip() copies the text.
        if t.role == "assistant" and not _WORD.search(t.content) and t.content.strip() \
                and t.content.strip() not in CODE_ANSWERS:
            yield t.field, f"response {t.content.strip()[:20]!r} has no letters or digits"
