"""FTK205 — train/eval leakage: `ftk lint train.jsonl --against eval.jsonl`.

The eval set is usually small, so it is indexed up front — exact keys, MinHash band keys, and its
13-gram hashes, as lm-evaluation-harness's decontamination does — and the training rows are
checked against it a chunk at a time (in worker processes on large inputs). Findings are reported
on the eval rows, with the strongest evidence found: exact, then near-duplicate, then a shared
13-gram; among equals, the first training row.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ftk.data.formats import Example, normalise
from ftk.data.reader import read_records
from ftk.lint.engine import majority_format, row_format
from ftk.lint.features import LEAK_NGRAM, content_turns, row_key, row_ngrams, rows_table, shingle_sets, shingles_of
from ftk.lint.near_dup import Signer, band_keys, estimate, lsh_params
from ftk.lint.registry import DatasetRule, Finding, Location, Severity, dataset_rule

SHARED_NGRAM, NEAR, EXACT = 1, 2, 3  # strength of the evidence that an eval row leaked


@dataset_rule(
    ("FTK205", "eval-leakage", Severity.ERROR, "Eval row also appears in the training data",
     """
     What it does: with `--against EVAL`, indexes the eval file's rows and flags each eval row that
     is an exact duplicate of a training row (after normalisation), a near-duplicate (MinHash,
     estimated Jaccard ≥ the near-duplicate threshold), or that shares a 13-word sequence within
     one turn with a training row (the n-gram test of lm-evaluation-harness). System prompts, which
     train and eval sets share legitimately, are left out of the near and n-gram tests. Findings are on the eval file's lines
     and name the training line.
     Why it matters: a model evaluated on rows it was trained on scores what it memorised, not what
     it learnt; the before/after comparison becomes meaningless.
     Example: an eval question copied into train.jsonl with a different greeting.
     Use instead: drop the leaked rows from one of the two files (usually the training file).
     """),
)
class EvalLeakage(DatasetRule):
    def __init__(self, options, selected):
        super().__init__(options, selected)
        self.eval_locs: list[Location] = []
        self.exact: dict[bytes, list[int]] = {}
        self.ngrams: dict[int, list[int]] = {}
        self.hits: dict[int, tuple[int, str, Location]] = {}  # eval row -> (strength, how, training row)
        self.active = bool(options.against)
        if self.active:
            self.hasher = Signer(options.num_perm)
            self.bands, self.band_rows = lsh_params(options.near_threshold, options.num_perm)
            self._index_eval(options.against)

    def _index_eval(self, paths: tuple[str, ...]) -> None:
        eval_sets = []
        for path in paths:
            records = list(read_records(path))  # eval sets are small: read whole
            fmt = majority_format(records[:256])
            for rec in records:
                row_fmt = row_format(rec.value, fmt) if rec.parsed and isinstance(rec.value, dict) else None
                example = normalise(rec.value, row_fmt)[0] if row_fmt is not None else None
                if example is None:
                    continue  # the eval file's own faults are for `ftk lint EVAL` to report
                i = len(self.eval_locs)
                self.eval_locs.append(Location(rec.path, rec.line))
                self.exact.setdefault(row_key(example), []).append(i)
                for h in row_ngrams(example).tolist():
                    self.ngrams.setdefault(h, []).append(i)
                eval_sets.append(shingles_of(example, content_turns(example)))
        self.eval_ngrams = np.array(sorted(self.ngrams), dtype=np.uint64)
        signed = [i for i, x in enumerate(eval_sets) if x.size]  # a row without shingles has no signature
        self.eval_sigs = np.zeros((len(eval_sets), self.options.num_perm), dtype=np.uint8)
        self.eval_sigs[signed] = self.hasher.signatures([eval_sets[i] for i in signed])
        self.buckets: list[dict[int, list[int]]] = [{} for _ in range(self.bands)]
        for i, keys in zip(signed, band_keys(self.eval_sigs[signed], self.bands, self.band_rows).tolist()):
            for band, key in enumerate(keys):
                self.buckets[band].setdefault(key, []).append(i)

    def map(self, rows: list[tuple[Location, Example]]) -> list[tuple[int, int, Location, str]]:
        """Every (eval row, strength, training row, how) the chunk's rows give, in row order."""
        if not self.active or not rows:
            return []
        hits: list[tuple[int, int, Location, str]] = []
        keys = rows_table(rows).row_keys().tolist()
        for (loc, example), key in zip(rows, keys):
            for i in self.exact.get(key, ()):
                hits.append((i, EXACT, loc, "exact duplicate of"))
            if self.ngrams:
                grams = row_ngrams(example)
                # eval_ngrams is sorted: a binary search per gram, not a pass over all eval grams per row.
                at = np.searchsorted(self.eval_ngrams, grams).clip(max=len(self.eval_ngrams) - 1)
                for h in grams[self.eval_ngrams[at] == grams].tolist():
                    for i in self.ngrams[h]:
                        hits.append((i, SHARED_NGRAM, loc, f"shares a {LEAK_NGRAM}-word sequence with"))
        if self.eval_locs:
            examples = [ex for _, ex in rows]
            sets = shingle_sets([content_turns(ex) for ex in examples])
            signed = [i for i, x in enumerate(sets) if x.size]
            sigs = self.hasher.signatures([sets[i] for i in signed])
            for i_row, sig, keys in zip(signed, sigs, band_keys(sigs, self.bands, self.band_rows).tolist()):
                loc = rows[i_row][0]
                candidates = {i for band, key in enumerate(keys) for i in self.buckets[band].get(key, ())}
                for i in sorted(candidates):
                    sim = float(estimate(np.count_nonzero(self.eval_sigs[i] == sig) / self.options.num_perm))
                    if sim >= self.options.near_threshold:
                        hits.append((i, NEAR, loc, f"near-duplicate ({sim:.2f}) of"))
        return hits

    def reduce(self, part: list[tuple[int, int, Location, str]]) -> None:
        # The strongest evidence wins (exact, then near-duplicate, then a shared 13-gram); among equals, the first row.
        for i, strength, loc, how in part:
            if i not in self.hits or strength > self.hits[i][0]:
                self.hits[i] = (strength, how, loc)

    def finish(self) -> Iterator[Finding]:
        for i in sorted(self.hits):
            _, how, train = self.hits[i]
            yield Finding("FTK205", self.eval_locs[i], None, f"{how} training row {train.path}:{train.line}", (train,))

    def stats(self) -> dict:
        if not self.active:
            return {}
        return {"leakage": {"eval_rows": len(self.eval_locs), "leaked_rows": len(self.hits)}}
