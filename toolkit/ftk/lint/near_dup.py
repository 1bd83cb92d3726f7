"""Near-duplicate search: shingles -> MinHash signatures (datasketch) -> LSH candidates (datasketch
MinHashLSH) -> verification on the full signatures -> clusters.

- Shingles are word 3-grams of the normalised text (punctuation dropped), hashed to 32 bits with
  numpy; texts of fewer
  than SHORT_WORDS words use character 5-grams instead, so short rows still get enough shingles
  to compare.
- Boilerplate: a shingle found in more than `boilerplate_share` of the rows seen so far (a system
  prompt or tool description repeated in every row) is dropped before hashing, so shared preambles
  do not make every row a near-duplicate of every other. Document frequencies are counted on the
  first `warmup` rows, which are buffered until then.
- LSH only proposes candidates; a pair is kept when the Jaccard similarity estimated from all
  `num_perm` signature values reaches the threshold, which keeps precision high.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Callable

import numpy as np

SHORT_WORDS = 8
CHAR_NGRAM = 5
WORD_NGRAM = 3
_MULT = (np.uint32(0x9E3779B1), np.uint32(0x85EBCA77))
_WORD = re.compile(r"\w+")


def _identity(x):
    return x


def shingles(text: str) -> np.ndarray:
    """Unique 32-bit shingle hashes of an already normalised text (see duplicates.normalise_for_match)."""
    words = _WORD.findall(text)  # punctuation out: "germany?" and "germany," are one word
    if len(words) < SHORT_WORDS:
        s = " ".join(words)
        grams = [s[i:i + CHAR_NGRAM] for i in range(max(1, len(s) - CHAR_NGRAM + 1))] if s else []
        return np.unique(np.fromiter((zlib.crc32(g.encode()) for g in grams), dtype=np.uint32, count=len(grams)))
    w = np.fromiter((zlib.crc32(x.encode()) for x in words), dtype=np.uint32, count=len(words))
    # Combine three consecutive word hashes into one (uint32 arithmetic wraps, as intended).
    grams = (w[:-2] * _MULT[0]) ^ (w[1:-1] * _MULT[1]) ^ w[2:]
    return np.unique(grams)


class UnionFind:
    def __init__(self):
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        root = x
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while x != root:  # path compression
            self.parent[x], x = root, self.parent.get(x, x)
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)  # the earliest row is the root: the representative


class NearDuplicateIndex:
    """Add rows in order; get back the verified pairs (new row, earlier row, estimated similarity)."""

    def __init__(self, threshold: float = 0.8, num_perm: int = 128, boilerplate_share: float = 0.2,
                 warmup: int = 2000, min_rows_for_boilerplate: int = 50):
        from datasketch import MinHashLSH

        self.threshold, self.num_perm = threshold, num_perm
        self.boilerplate_share, self.warmup = boilerplate_share, warmup
        self.min_rows_for_boilerplate = min_rows_for_boilerplate
        self.lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self.signatures: list[np.ndarray] = []  # by row id; uint32[num_perm]
        self.df: Counter | None = Counter()  # shingle document frequency during warm-up
        self.boilerplate: np.ndarray = np.empty(0, dtype=np.uint32)
        self.pending: list[tuple[int, np.ndarray]] = []
        self.pairs: list[tuple[int, int, float]] = []
        self.empty_rows = 0

    def add(self, row_id: int, shingle_hashes: np.ndarray) -> None:
        if self.df is not None:
            self.df.update(shingle_hashes.tolist())
            self.pending.append((row_id, shingle_hashes))
            if len(self.pending) >= self.warmup:
                self._end_warmup()
            return
        self._index([(row_id, shingle_hashes)])

    def _end_warmup(self) -> None:
        n = len(self.pending)
        if n >= self.min_rows_for_boilerplate:
            cut = self.boilerplate_share * n
            self.boilerplate = np.array(sorted(h for h, c in self.df.items() if c > cut), dtype=np.uint32)
        self.df = None
        pending, self.pending = self.pending, []
        self._index(pending)

    def _index(self, rows: list[tuple[int, np.ndarray]]) -> None:
        from datasketch import LeanMinHash, MinHash

        kept = []
        for row_id, sh in rows:
            if self.boilerplate.size:
                sh = sh[~np.isin(sh, self.boilerplate, assume_unique=True)]
            if sh.size == 0:
                self.empty_rows += 1
                continue
            kept.append((row_id, sh))
        if not kept:
            return
        hashes = MinHash.bulk([sh for _, sh in kept], num_perm=self.num_perm, hashfunc=_identity)
        for (row_id, _), m in zip(kept, hashes):
            sig = m.hashvalues
            self._grow(row_id)
            self.signatures[row_id] = sig
            lean = LeanMinHash(m)
            for other in self.lsh.query(lean):
                sim = float(np.count_nonzero(self.signatures[other] == sig)) / self.num_perm
                if sim >= self.threshold:
                    self.pairs.append((row_id, other, sim))
            self.lsh.insert(row_id, lean, check_duplication=False)

    def _grow(self, row_id: int) -> None:
        while len(self.signatures) <= row_id:
            self.signatures.append(None)

    def similarity(self, a: int, b: int) -> float | None:
        sa = self.signatures[a] if a < len(self.signatures) else None
        sb = self.signatures[b] if b < len(self.signatures) else None
        if sa is None or sb is None:
            return None
        return float(np.count_nonzero(sa == sb)) / self.num_perm

    def finish(self) -> list[tuple[int, int, float]]:
        if self.df is not None:
            self._end_warmup()
        return self.pairs


def clusters(pairs: list[tuple[int, int, float]], skip: Callable[[int, int], bool] | None = None) -> dict[int, list[int]]:
    """Group verified pairs into clusters keyed by their earliest row."""
    uf = UnionFind()
    for a, b, _ in pairs:
        if skip is None or not skip(a, b):
            uf.union(a, b)
    out: dict[int, list[int]] = {}
    for x in list(uf.parent):
        out.setdefault(uf.find(x), []).append(x)
    for root, members in out.items():
        if root not in members:
            members.append(root)
        members.sort()
    return out
