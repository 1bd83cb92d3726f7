"""FTK205 — train/eval leakage: `ftk lint train.jsonl --against eval.jsonl`.

The eval set is usually small, so it is indexed up front (exact keys, a MinHash LSH index, and
its 13-gram hashes, as lm-evaluation-harness's decontamination does) and every training row is
checked against it as it streams past. Findings are reported on the eval rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import numpy as np

from ftk.data.formats import Example, normalise
from ftk.data.reader import read_records
from ftk.lint.engine import majority_format, row_format
from ftk.lint.near_dup import shingles
from ftk.lint.registry import DatasetRule, Finding, Location, Severity, dataset_rule
from ftk.lint.rules.duplicates import row_key
from ftk.lint.rules.near_duplicates import text_of

NGRAM = 13  # lm-evaluation-harness's decontamination n-gram


def ngram_hashes(text: str, n: int = NGRAM) -> set[int]:
    words = text.split()
    return {int.from_bytes(hashlib.blake2b(" ".join(words[i:i + n]).encode(), digest_size=8).digest(), "little")
            for i in range(len(words) - n + 1)}


def _minhash(text: str, num_perm: int):
    from datasketch import MinHash

    return MinHash.bulk([shingles(text)], num_perm=num_perm, hashfunc=lambda x: x)[0]


def _whole(example: Example) -> str:
    return text_of(example.turns + (example.chosen or []) + (example.rejected or []))


@dataset_rule(
    ("FTK205", "eval-leakage", Severity.ERROR, "Eval row also appears in the training data",
     """
     What it does: with `--against EVAL`, indexes the eval file's rows and flags each eval row that
     is an exact duplicate of a training row (after normalisation), a near-duplicate (MinHash,
     estimated Jaccard ≥ the near-duplicate threshold), or that shares a 13-word sequence with a
     training row (the n-gram test of lm-evaluation-harness). Findings are on the eval file's lines
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
        self.signatures: list[np.ndarray] = []
        self.hits: dict[int, tuple[str, Location]] = {}  # eval row -> (how, first training row)
        self.lsh = None
        if options.against:
            self._index_eval(options.against)

    def _index_eval(self, paths: tuple[str, ...]) -> None:
        from datasketch import LeanMinHash, MinHashLSH

        self.lsh = MinHashLSH(threshold=self.options.near_threshold, num_perm=self.options.num_perm)
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
                text = _whole(example)
                for h in ngram_hashes(text):
                    self.ngrams.setdefault(h, []).append(i)
                m = _minhash(text, self.options.num_perm)
                self.signatures.append(m.hashvalues)
                self.lsh.insert(i, LeanMinHash(m), check_duplication=False)

    def _hit(self, i: int, how: str, loc: Location) -> None:
        self.hits.setdefault(i, (how, loc))

    def observe(self, loc: Location, example: Example) -> None:
        if self.lsh is None:
            return
        for i in self.exact.get(row_key(example), ()):
            self._hit(i, "exact duplicate of", loc)
        from datasketch import LeanMinHash

        text = _whole(example)
        m = _minhash(text, self.options.num_perm)
        for i in self.lsh.query(LeanMinHash(m)):
            sim = float(np.count_nonzero(self.signatures[i] == m.hashvalues)) / self.options.num_perm
            if sim >= self.options.near_threshold:
                self._hit(i, f"near-duplicate ({sim:.2f}) of", loc)
        if self.ngrams:
            for h in ngram_hashes(text):
                for i in self.ngrams.get(h, ()):
                    self._hit(i, f"shares a {NGRAM}-word sequence with", loc)

    def finish(self) -> Iterator[Finding]:
        for i in sorted(self.hits):
            how, train = self.hits[i]
            yield Finding("FTK205", self.eval_locs[i], None, f"{how} training row {train.path}:{train.line}", (train,))

    def stats(self) -> dict:
        if self.lsh is None:
            return {}
        return {"leakage": {"eval_rows": len(self.eval_locs), "leaked_rows": len(self.hits)}}
