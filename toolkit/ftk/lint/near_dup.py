"""Near-duplicate search: shingles -> MinHash signatures (datasketch's scheme, computed a batch at a
time) -> LSH band candidates -> verification on the full signatures -> clusters.

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
- Memory: per row, one signature (4 bytes x num_perm) and nothing else once it is indexed.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from functools import lru_cache

import numpy as np

SHORT_WORDS = 8
CHAR_NGRAM = 5
WORD_NGRAM = 3
_MULT = (np.uint32(0x9E3779B1), np.uint32(0x85EBCA77))
_WORD = re.compile(r"\w+")
BATCH = 1024  # rows per MinHash.bulk call: it rebuilds its permutations on every call


def _identity(x):
    return x


_word_hash_cache: dict[str, int] = {}


def word_hashes(words: list[str]) -> np.ndarray:
    # Words repeat a lot: a dict lookup is ~20x cheaper than encoding and hashing each time.
    cache = _word_hash_cache
    if len(cache) > 2_000_000:
        cache.clear()
    out = []
    for w in words:
        h = cache.get(w)
        if h is None:
            h = cache[w] = zlib.crc32(w.encode("utf-8", "surrogatepass"))  # JSON allows lone surrogates
        out.append(h)
    return np.array(out, dtype=np.uint32)


def words_of(text: str) -> list[str]:
    return _WORD.findall(text)  # punctuation out: "germany?" and "germany," are one word


def shingles(text: str, salt: int = 0) -> np.ndarray:
    """Unique 32-bit shingle hashes of an already normalised text (see features.normalise_for_match).

    `salt` (e.g. one per role) keeps the same words in different places apart.
    """
    return shingles_of_words(words_of(text), salt)


def shingles_of_words(words: list[str], salt: int = 0, hashes: np.ndarray | None = None) -> np.ndarray:
    """`hashes`: word_hashes(words), when the caller has them already."""
    if len(words) < SHORT_WORDS:
        s = " ".join(words)
        grams = [s[i:i + CHAR_NGRAM] for i in range(max(1, len(s) - CHAR_NGRAM + 1))] if s else []
        hashes = np.array([zlib.crc32(g.encode("utf-8", "surrogatepass")) for g in grams], dtype=np.uint32)
    else:
        w = word_hashes(words) if hashes is None else hashes
        # Combine three consecutive word hashes into one (uint32 arithmetic wraps, as intended).
        hashes = (w[:-2] * _MULT[0]) ^ (w[1:-1] * _MULT[1]) ^ w[2:]
    if salt:
        hashes = hashes ^ np.uint32(salt)
    return np.unique(hashes)


_NGRAM_MULT = np.random.RandomState(13).randint(1, 2**62, size=64, dtype=np.int64).astype(np.uint64) | np.uint64(1)


def ngram_hashes(word_hash_array: np.ndarray, n: int) -> np.ndarray:
    """64-bit hashes of every n consecutive words (a random linear combination, wrapping mod 2^64)."""
    if len(word_hash_array) < n:
        return np.empty(0, dtype=np.uint64)
    windows = np.lib.stride_tricks.sliding_window_view(word_hash_array.astype(np.uint64), n)
    return (windows * _NGRAM_MULT[:n]).sum(axis=1)


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


@lru_cache(maxsize=16)  # datasketch's optimiser integrates numerically: ~70 ms a call
def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) for the threshold, from datasketch's own optimiser.

    Missed pairs weigh 19x more than false candidates: every candidate is verified on the full
    signature, so a false one costs a comparison, a missed one costs recall. At 0.8 and 128
    permutations this gives 16 bands of 8: a pair at J = 0.8 is a candidate 95% of the time (the
    even weighting datasketch defaults to gives 9 x 13, and 40%).
    """
    from datasketch.lsh import _optimal_param

    return _optimal_param(threshold, num_perm, 0.05, 0.95)


_BAND_MULT = np.random.RandomState(7).randint(1, 2**62, size=256, dtype=np.int64).astype(np.uint64) | np.uint64(1)


def band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """uint64[n, bands]: each band's `rows` values folded into one key (collisions are re-checked)."""
    n = sigs.shape[0]
    cut = sigs[:, :bands * rows].reshape(n, bands, rows).astype(np.uint64)
    return (cut * _BAND_MULT[:rows]).sum(axis=2)  # wraps mod 2^64


@lru_cache(maxsize=8)
def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from datasketch import MinHash

    template = MinHash(num_perm=num_perm, seed=seed, hashfunc=_identity)
    assert template.scheme == "affine32", "signatures() implements datasketch's affine32 scheme"
    a, b = template.permutations
    return np.asarray(a, dtype=np.uint32), np.asarray(b, dtype=np.uint32)


class MinHasher:
    """MinHash signatures of many rows at once, equal to datasketch's `MinHash(num_perm, seed).hashvalues`
    after `update_batch` with the same 32-bit shingle hashes (affine32 scheme; tested). datasketch
    does this one row at a time, rebuilding its permutations per `bulk` call; here one numpy
    pass covers a whole batch, which is what makes a million rows affordable."""

    def __init__(self, num_perm: int = 128, seed: int = 1):
        self.num_perm = num_perm
        self.a, self.b = _permutations(num_perm, seed)

    def signatures(self, rows: list[np.ndarray], chunk: int = 256) -> np.ndarray:
        """uint32[len(rows), num_perm]; every row must have at least one shingle."""
        from datasketch.minhash import _fmix

        out = np.empty((len(rows), self.num_perm), dtype=np.uint32)
        for start in range(0, len(rows), chunk):  # chunks bound the (shingles x perms) temporary
            part = rows[start:start + chunk]
            hv = _fmix(np.concatenate(part).astype(np.uint32), 32)
            phv = hv[:, None] * self.a + self.b
            offsets = np.cumsum([0] + [len(r) for r in part[:-1]])
            out[start:start + len(part)] = np.minimum.reduceat(phv, offsets, axis=0)
        return out


def boilerplate_of(shingle_sets: list[np.ndarray], share: float = 0.2, min_rows: int = 50) -> np.ndarray:
    """Shingles found in more than `share` of the rows (sorted): a system prompt or tool description
    repeated in every row. Needs `min_rows` rows to say anything."""
    if len(shingle_sets) < min_rows or not shingle_sets:
        return np.empty(0, dtype=np.uint32)
    values, counts = np.unique(np.concatenate(shingle_sets), return_counts=True)  # each set is unique
    return values[counts > share * len(shingle_sets)].astype(np.uint32)


def drop_boilerplate(shingle_hashes: np.ndarray, boilerplate: np.ndarray) -> np.ndarray:
    if not boilerplate.size:
        return shingle_hashes
    return shingle_hashes[~np.isin(shingle_hashes, boilerplate, assume_unique=True)]


class NearDuplicateIndex:
    """Signatures in, verified pairs (later row, earlier row, similarity) out of `finish()`.

    Either `add_signatures` (rows signed elsewhere, e.g. in worker processes, after the caller took
    the boilerplate out) or `add` (shingles; the index learns the boilerplate on its first `warmup`
    rows and signs a batch at a time).

    LSH as datasketch's MinHashLSH does it (b bands of r rows, chosen by datasketch for the
    threshold), but with band keys kept in numpy arrays and candidates found by sorting each band
    at the end, instead of one dict insert and lookup per band and row.
    """

    def __init__(self, threshold: float = 0.8, num_perm: int = 128, boilerplate_share: float = 0.2,
                 warmup: int = 2000, min_rows_for_boilerplate: int = 50):
        self.threshold, self.num_perm = threshold, num_perm
        self.bands, self.band_rows = lsh_params(threshold, num_perm)
        self.hasher = MinHasher(num_perm)
        self.boilerplate_share, self.warmup = boilerplate_share, warmup
        self.min_rows_for_boilerplate = min_rows_for_boilerplate
        self.warming = True
        self.boilerplate: np.ndarray = np.empty(0, dtype=np.uint32)
        self.pending: list[tuple[int, np.ndarray]] = []
        self.ids: list[np.ndarray] = []  # per batch: row ids
        self.sigs: list[np.ndarray] = []  # per batch: signatures
        self.signature_of: np.ndarray | None = None
        self.position: dict[int, int] = {}

    def add(self, row_id: int, shingle_hashes: np.ndarray) -> None:
        self.pending.append((row_id, shingle_hashes))
        if len(self.pending) >= (self.warmup if self.warming else BATCH):
            self._flush()

    def add_signatures(self, ids: np.ndarray, sigs: np.ndarray) -> None:
        if len(ids):
            self.ids.append(np.asarray(ids, dtype=np.int64))
            self.sigs.append(sigs)

    def sign(self, shingle_sets: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(positions of the sets that keep a shingle once the boilerplate is out, their signatures)."""
        kept_at, kept = [], []
        for i, sh in enumerate(shingle_sets):
            sh = drop_boilerplate(sh, self.boilerplate)
            if sh.size:
                kept_at.append(i)
                kept.append(sh)
        sigs = self.hasher.signatures(kept) if kept else np.empty((0, self.num_perm), dtype=np.uint32)
        return np.array(kept_at, dtype=np.int64), sigs

    def _flush(self) -> None:
        pending, self.pending = self.pending, []
        if self.warming:
            self.boilerplate = boilerplate_of([sh for _, sh in pending], self.boilerplate_share,
                                              self.min_rows_for_boilerplate)
            self.warming = False
        at, sigs = self.sign([sh for _, sh in pending])
        self.add_signatures(np.array([pending[i][0] for i in at.tolist()], dtype=np.int64), sigs)

    def finish(self, margin: float = 0.0) -> list[tuple[int, int, float]]:
        """Pairs whose estimated similarity reaches threshold - margin (a caller that verifies pairs
        exactly asks for a margin, so that pairs the estimate puts just below still get checked)."""
        if self.pending:
            self._flush()
        if not self.ids:
            return []
        ids, sigs = np.concatenate(self.ids), np.concatenate(self.sigs)
        self.ids, self.sigs = [ids], [sigs]
        self.signature_of, self.position = sigs, {int(r): i for i, r in enumerate(ids)}
        keys = band_keys(sigs, self.bands, self.band_rows)
        cand = []
        for band in range(self.bands):
            order = np.argsort(keys[:, band], kind="stable")  # stable: rows stay in input order
            k = keys[order, band]
            same = k[1:] == k[:-1]
            if not same.any():
                continue
            # Each row is linked to the previous row with the same key and to the first of the run.
            later, earlier = order[1:][same], order[:-1][same]
            run_start = np.maximum.accumulate(np.where(np.concatenate(([True], ~same)), np.arange(len(k)), 0))
            first = order[run_start[1:][same]]
            cand.append(np.stack([later, earlier], axis=1))
            cand.append(np.stack([later, first], axis=1))
        if not cand:
            return []
        pairs = np.unique(np.concatenate(cand), axis=0)
        pairs = pairs[pairs[:, 0] != pairs[:, 1]]
        sims = np.empty(len(pairs))
        for start in range(0, len(pairs), 65536):
            a, b = pairs[start:start + 65536, 0], pairs[start:start + 65536, 1]
            sims[start:start + 65536] = (sigs[a] == sigs[b]).mean(axis=1)
        ok = sims >= self.threshold - margin
        return [(int(ids[a]), int(ids[b]), float(s)) for (a, b), s in zip(pairs[ok], sims[ok])]

    def without_boilerplate(self, shingle_hashes: np.ndarray) -> np.ndarray:
        return drop_boilerplate(shingle_hashes, self.boilerplate)

    def similarity(self, a: int, b: int) -> float | None:
        pa, pb = self.position.get(a), self.position.get(b)
        if pa is None or pb is None:
            return None
        return float(np.count_nonzero(self.signature_of[pa] == self.signature_of[pb])) / self.num_perm


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
