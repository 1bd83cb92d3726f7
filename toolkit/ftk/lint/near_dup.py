"""Near-duplicate search: shingles -> one-permutation MinHash signatures (a chunk of rows at a time,
in compiled loops) -> LSH band candidates -> verification -> clusters.

- Words are the `\\w+` runs of the normalised text (punctuation dropped). A chunk's texts, laid end to
  end in one UTF-8 buffer (features.TextTable's), are hashed into words and shingles by one compiled
  loop over the bytes (`_word_shingles`, numba), not per word in Python nor in a dozen numpy passes.
- Shingles are word 3-grams, mixed to 32 bits; texts of fewer than SHORT_WORDS words use character
  5-grams instead, so short rows still get enough shingles to compare.
- Boilerplate: a shingle found in more than `boilerplate_share` of the first rows (a system prompt
  or tool description repeated in every row) is dropped before signing, so shared preambles do not
  make every row a near-duplicate of every other.
- Signatures: one-permutation hashing (Li, Owen & Zhang 2012) with densification by rotation
  (Shrivastava & Li 2014): each shingle falls in one of `num_perm` bins by its top bits and each bin
  keeps its least hash, so a row costs O(shingles), not O(shingles x num_perm) as classic MinHash
  (datasketch's `MinHash.update`) does; a bin left empty borrows from the next filled one. Only the
  low 8 bits of each bin are kept (b-bit minwise hashing, Li & König 2010): 128 bytes a row; two
  unrelated bins then agree 1 time in 256, which the estimate corrects for.
- LSH only proposes candidates; a pair is kept when the Jaccard similarity estimated from all
  `num_perm` bins reaches the threshold (callers that verify exactly ask for a margin).
"""

from __future__ import annotations

import re
import zlib
from bisect import bisect_right
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numba
import numpy as np
from numba.typed import List

SHORT_WORDS = 8
CHAR_NGRAM = 5
WORD_NGRAM = 3  # shingles are word 3-grams: the window _word_shingles hashes
_MULT = (np.uint32(0x9E3779B1), np.uint32(0x85EBCA77))
WORD = re.compile(r"\w+")  # a word: a run of \w (punctuation is not part of words)
BATCH = 1024  # rows signed together by NearDuplicateIndex.add
BITS = 8  # bits kept per signature bin
_CHANCE = 1.0 / (1 << BITS)  # two bins of unrelated rows agree this often
# Bytes that belong to a word: ASCII letters, digits, "_" (ASCII's \w), and every byte of a non-ASCII
# character (texts with non-ASCII characters are reduced to their \w+ words first, see text_features).
_WORD_BYTE = np.zeros(256, dtype=bool)
for _c in b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_":
    _WORD_BYTE[_c] = True
_WORD_BYTE[0x80:] = True
_P = np.uint64(0x100000001B3)  # a word's hash: its bytes as a polynomial in _P, mod 2^64 ...
_WORD_MIX = np.uint64(0x9E3779B97F4A7C15)  # ... plus its length, times this, top 32 bits


def fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser: spreads structured hashes over all 32 bits."""
    h = h.astype(np.uint32)
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h


def sorted_unique(a: np.ndarray) -> np.ndarray:
    """np.unique for 1-d integers, by sorting (numpy 2's np.unique hashes first, which is slower here)."""
    a = np.sort(a)
    if len(a) > 1:
        a = a[np.concatenate(([True], a[1:] != a[:-1]))]
    return a


class Ragged:
    """Per row, a variable-length run of values, added a chunk of rows at a time (values laid end to
    end and each row's length): a few arrays per chunk, not an object per row. The chunks are kept
    as they came, not joined, so that no moment holds two copies."""

    def __init__(self, dtype):
        self.dtype = dtype
        self.chunks: list[tuple[np.ndarray, np.ndarray]] = []  # (values, offsets of its rows)
        self.first_rows: list[int] = []  # the row each chunk starts at
        self.rows = 0

    def extend(self, values: np.ndarray, lengths: np.ndarray) -> None:
        self.chunks.append((values.astype(self.dtype, copy=False), np.concatenate(([0], np.cumsum(lengths)))))
        self.first_rows.append(self.rows)
        self.rows += len(lengths)

    def __getitem__(self, row: int) -> np.ndarray:
        c = bisect_right(self.first_rows, row) - 1
        values, offsets = self.chunks[c]
        i = row - self.first_rows[c]
        return values[offsets[i]:offsets[i + 1]]

    def jaccards(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The Jaccard similarity of rows a[i] and b[i], for rows that are sets (sorted, unique), as
        rules.near_duplicates.jaccard gives it (1.0 for two empty sets), all pairs in one compiled
        pass (FTK204 verifies a hundred thousand prompt pairs at a million rows)."""
        if not len(a):
            return np.empty(0, dtype=np.float64)
        values, offsets = List(), List()
        for v, o in self.chunks:
            values.append(np.ascontiguousarray(v))
            offsets.append(o)
        return _ragged_jaccards(values, offsets, np.array(self.first_rows, dtype=np.int64),
                                np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64))

    def ends(self, rows: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For many rows at once: their lengths, their first `width` values and their last `width`
        values from the end backwards, as (len(rows), width) matrices padded with zeros."""
        lengths = np.zeros(len(rows), dtype=np.int64)
        heads = np.zeros((len(rows), width), dtype=self.dtype)
        tails = np.zeros((len(rows), width), dtype=self.dtype)
        chunk_of = np.searchsorted(self.first_rows, rows, side="right") - 1
        step = np.arange(width)
        for c in np.unique(chunk_of).tolist():
            at = np.flatnonzero(chunk_of == c)
            values, offsets = self.chunks[c]
            i = rows[at] - self.first_rows[c]
            start, end = offsets[i], offsets[i + 1]
            lengths[at] = end - start
            inside = step < (end - start)[:, None]
            if values.size:
                heads[at] = np.where(inside, values[np.minimum(start[:, None] + step, values.size - 1)], 0)
                tails[at] = np.where(inside, values[np.maximum(end[:, None] - 1 - step, 0)], 0)
        return lengths, heads, tails


@numba.njit(cache=True, nogil=True)
def _ragged_jaccards(values, offsets, first_rows, a, b):
    """Ragged.jaccards' loop: each pair's two sorted runs merged, their common values counted."""
    out = np.empty(len(a), np.float64)
    for i in range(len(a)):
        ca = np.searchsorted(first_rows, a[i], side="right") - 1
        cb = np.searchsorted(first_rows, b[i], side="right") - 1
        ra, rb = a[i] - first_rows[ca], b[i] - first_rows[cb]
        x = values[ca][offsets[ca][ra]:offsets[ca][ra + 1]]
        y = values[cb][offsets[cb][rb]:offsets[cb][rb + 1]]
        p, q, common = 0, 0, 0
        while p < len(x) and q < len(y):
            if x[p] == y[q]:
                common += 1
                p += 1
                q += 1
            elif x[p] < y[q]:
                p += 1
            else:
                q += 1
        total = len(x) + len(y) - common
        out[i] = 1.0 if total == 0 else common / total
    return out


def sets_of(h: np.ndarray, owner: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The n sets given as values and owners (repeats allowed, any order): each set's unique values,
    sorted, laid end to end, and each set's size (for Ragged)."""
    keys = sorted_unique((owner.astype(np.uint64) << np.uint64(32)) | h.astype(np.uint64))
    return keys.astype(np.uint32), np.bincount((keys >> np.uint64(32)).astype(np.int64), minlength=n)


def words_of(text: str) -> list[str]:
    return WORD.findall(text)  # punctuation out: "germany?" and "germany," are one word


def text_shingles(texts: list[str], salts: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For already normalised texts (see features.normalise_for_match), all hashed together:
    (word hashes: uint32, one per `\\w+` word, every text's in order; words per text; shingle
    hashes: uint32, salted with the text's salt (e.g. one per role, so that the same words in
    different places stay apart), repeats kept, in no set order; the text each shingle is from).

    The result for a text does not depend on the others in the batch."""
    encoded = [shingle_form(t) for t in texts]
    ends = np.cumsum([len(e) for e in encoded], dtype=np.int64)
    return buffer_shingles(b"".join(encoded), ends - [len(e) for e in encoded], ends, salts)


def shingle_form(text: str) -> bytes:
    """A normalised text as _word_shingles reads it, UTF-8: a non-ASCII text reduced to its \\w+
    words (Unicode's definition), after which the byte classes of _WORD_BYTE find exactly those
    words; an ASCII text as it is (the byte classes are ASCII's \\w)."""
    return (text if text.isascii() else " ".join(WORD.findall(text))).encode("utf-8", "surrogatepass")


def buffer_shingles(data: bytes, starts: np.ndarray, ends: np.ndarray,
                    salts: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """text_shingles for texts given as stretches of one UTF-8 buffer (text i is
    data[starts[i]:ends[i]]), each normalised and, if not ASCII, already reduced to its words
    joined by spaces (shingle_form): a chunk's texts as features.TextTable holds them,
    hashed without a Python string per text."""
    salt = np.array(salts, dtype=np.uint32)
    word_hash, counts, grams, owner = _word_shingles(np.frombuffer(data, dtype=np.uint8), starts, ends, _WORD_BYTE,
                                                     salt, SHORT_WORDS)
    short = np.flatnonzero((counts > 0) & (counts < SHORT_WORDS)).tolist()
    if short:  # character 5-grams of the text's words, spaced
        extra, extra_owner = [], []
        for i in short:
            s = " ".join(words_of(data[starts[i]:ends[i]].decode("utf-8", "surrogatepass")))
            g = [s[j:j + CHAR_NGRAM] for j in range(max(1, len(s) - CHAR_NGRAM + 1))]
            extra += [zlib.crc32(x.encode("utf-8", "surrogatepass")) for x in g]
            extra_owner += [i] * len(g)
        extra_owner = np.array(extra_owner, dtype=np.int64)
        grams = np.concatenate((grams, fmix32(np.array(extra, dtype=np.uint32) ^ salt[extra_owner])))
        owner = np.concatenate((owner, extra_owner))
    return word_hash, counts, grams, owner


_U32 = np.uint32  # numba widens uint32 arithmetic to 64 bits: each step is cast back, to wrap as uint32 does


@numba.njit(inline="always")
def _fmix32_one(h):
    """fmix32 of one uint32, for the compiled loops."""
    h = _U32(h ^ (h >> _U32(16)))
    h = _U32(h * _U32(0x85EBCA6B))
    h = _U32(h ^ (h >> _U32(13)))
    h = _U32(h * _U32(0xC2B2AE35))
    return _U32(h ^ (h >> _U32(16)))


@numba.njit(cache=True, nogil=True)
def _word_shingles(data, starts, ends, is_word, salt, short_words):
    """text_shingles' word hashes, words per text, and word 3-gram shingles (salted, fmix32-mixed)
    with the text of each, for texts at data[starts[i]:ends[i]]; texts of fewer than `short_words`
    words get none here (buffer_shingles gives them character 5-grams).

    Written by hand because no library hashes a chunk's words and 3-grams in one pass over its
    bytes; compiled with numba because in numpy it took a dozen passes over the bytes and about
    30 µs a row, an eighth of linting (BENCHMARKS.md)."""
    n_texts = len(starts)
    size = 1
    for t in range(n_texts):
        size += (ends[t] - starts[t]) // 2 + 1
    word_hash = np.empty(size, np.uint32)
    text_of = np.empty(size, np.int64)
    counts = np.zeros(n_texts, np.int64)
    words = 0
    for text in range(n_texts):
        i, end = starts[text], ends[text]
        while i < end:
            if is_word[data[i]]:
                h, power, start = np.uint64(0), np.uint64(1), i
                while i < end and is_word[data[i]]:
                    h += np.uint64(data[i]) * power
                    power *= _P
                    i += 1
                word_hash[words] = _U32((h + np.uint64(i - start)) * _WORD_MIX >> np.uint64(32))
                text_of[words] = text
                counts[text] += 1
                words += 1
            else:
                i += 1
    grams = np.empty(max(words, 1), np.uint32)
    owner = np.empty(max(words, 1), np.int64)
    n = 0
    for k in range(words - 2):
        t = text_of[k]
        if text_of[k + 2] == t and counts[t] >= short_words:
            g = _U32(_U32(word_hash[k] * _MULT[0]) ^ _U32(word_hash[k + 1] * _MULT[1]) ^ word_hash[k + 2])
            grams[n], owner[n] = _fmix32_one(_U32(g ^ salt[t])), t
            n += 1
    return word_hash[:words], counts, grams[:n], owner[:n]


def text_features(texts: list[str], salts: list[int]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """text_shingles, per text: (its word hashes, its unique shingles, sorted)."""
    word_hash, counts, grams, owner = text_shingles(texts, salts)
    return split_runs(word_hash, counts), split_runs(*sets_of(grams, owner, len(texts)))


def split_runs(values: np.ndarray, sizes: np.ndarray) -> list[np.ndarray]:
    """Values laid end to end, `sizes[i]` each, as one array per run (views, not copies)."""
    bounds = np.concatenate(([0], np.cumsum(sizes))).tolist()
    return [values[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def shingles(text: str, salt: int = 0) -> np.ndarray:
    """Unique 32-bit shingle hashes of one already normalised text (see features.normalise_for_match)."""
    return text_features([text], [salt])[1][0]


def union_sets(groups: list[list[np.ndarray]]) -> list[np.ndarray]:
    """The sorted union of each group of shingle arrays, all groups in one sort."""
    parts = [np.concatenate(g) if len(g) > 1 else (g[0] if g else np.empty(0, dtype=np.uint32)) for g in groups]
    sizes = np.array([len(p) for p in parts], dtype=np.int64)
    flat = np.concatenate(parts) if parts else np.empty(0, dtype=np.uint32)
    return split_runs(*sets_of(flat, np.repeat(np.arange(len(parts), dtype=np.int64), sizes), len(parts)))


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


# lsh_params at the defaults, worked out once (tested equal): it costs 0.2 s, on one core, before
# any row is read.
KNOWN_LSH_PARAMS = {(0.8, 128): (16, 8)}


def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) for the threshold (optimal_lsh_params, or its known answer)."""
    known = KNOWN_LSH_PARAMS.get((threshold, num_perm))
    return known if known is not None else optimal_lsh_params(threshold, num_perm)


@lru_cache(maxsize=16)
def optimal_lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) for the threshold: datasketch's optimiser (`datasketch.lsh._optimal_param`,
    which integrates each (b, r) numerically, ~70 ms to 4 s a call), vectorised over every (b, r)
    at once (tested equal to datasketch's).

    Missed pairs weigh 19x more than false candidates: every candidate is verified on the full
    signature, so a false one costs a comparison, a missed one costs recall. At 0.8 and 128
    permutations this gives 16 bands of 8: a pair at J = 0.8 is a candidate 95% of the time (the
    even weighting datasketch defaults to gives 9 x 13, and 40%).
    """
    fp_weight, fn_weight = 0.05, 0.95
    pairs = np.array([(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)], dtype=float)
    b, r = pairs[:, :1], pairs[:, 1:]

    def integral(lo: float, hi: float, f) -> np.ndarray:
        s = np.linspace(lo, hi, 2001)[None, :]
        return np.trapezoid(f(s), s, axis=1)

    candidate = lambda s: 1 - (1 - s ** r) ** b  # noqa: E731  (P[a pair at similarity s shares a band])
    error = fp_weight * integral(0.0, threshold, candidate) + fn_weight * integral(threshold, 1.0, lambda s: 1 - candidate(s))
    best = int(np.argmin(error))  # the first minimum, in datasketch's (b, r) order
    return int(pairs[best, 0]), int(pairs[best, 1])


_BAND_MULT = np.random.RandomState(7).randint(1, 2**62, size=256, dtype=np.int64).astype(np.uint64) | np.uint64(1)
_FOLD = np.uint64(0x9E3779B97F4A7C15)  # odd: multiplying by it mixes every bit of a key into the top ones


def band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """uint64[n, bands]: each band's `rows` values folded into one key (collisions are re-checked)."""
    n = sigs.shape[0]
    if sigs.dtype == np.uint8 and rows == 8:  # eight one-byte bins are one 8-byte key as they lie
        return np.ascontiguousarray(sigs[:, :bands * rows]).view(np.uint64)
    cut = sigs[:, :bands * rows].reshape(n, bands, rows).astype(np.uint64)
    return (cut * _BAND_MULT[:rows]).sum(axis=2)  # wraps mod 2^64


class Signer:
    """One-permutation MinHash signatures of many shingle sets at once (see the module notes)."""

    def __init__(self, num_perm: int = 128):
        if num_perm & (num_perm - 1) or not 8 <= num_perm <= 1024:
            raise ValueError("num_perm must be a power of two between 8 and 1024")
        self.num_perm = num_perm
        self.bin_shift = np.uint32(32 - (num_perm.bit_length() - 1))

    def signatures(self, sets: list[np.ndarray]) -> np.ndarray:
        """uint8[len(sets), num_perm] for non-empty sets of 32-bit shingle hashes. The hashes are the
        permutation: they must be well mixed (text_shingles' are)."""
        sizes = np.array([len(x) for x in sets], dtype=np.int64)
        if not sizes.all():
            raise ValueError("every set needs at least one shingle")
        h = np.concatenate(sets) if sets else np.empty(0, dtype=np.uint32)
        return self.signatures_of(h, np.repeat(np.arange(len(sets), dtype=np.int64), sizes), len(sets))

    def signatures_of(self, h: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
        """signatures() of n sets given as their values `h` and the set each is in (`owner`): in any
        order, repeats allowed (a bin's least value is the same either way), every set non-empty."""
        if n == 0:
            return np.empty((0, self.num_perm), dtype=np.uint8)
        return _one_permutation(h.astype(np.uint32, copy=False), owner.astype(np.int64, copy=False), n, self.num_perm,
                                self.bin_shift, (1 << BITS) - 1)


_EMPTY_BIN = np.uint32(0xFFFFFFFF)


@numba.njit(cache=True, nogil=True)
def _one_permutation(h, owner, n, k, shift, mask):
    """Signer.signatures_of, compiled: each bin's least hash in one pass over the values, then per
    row the densification and fmix32, keeping `mask`'s low bits. (In numpy this was ufunc.at and a
    dozen passes over the n x k bins: 8.5-10 µs a set of up to 400 shingles at 128 bins, now 2.3.)"""
    best = np.full((n, k), _EMPTY_BIN, np.uint32)
    for j in range(len(h)):
        b = h[j] >> shift
        if h[j] < best[owner[j], b]:
            best[owner[j], b] = h[j]
    out = np.empty((n, k), np.uint8)
    for r in range(n):
        # Densification by rotation (Shrivastava & Li 2014): an empty bin takes the value of the next
        # filled bin to its right (circularly), salted with the distance, so that rows agree on an
        # empty bin exactly when they agree on the bin it borrows from.
        first = 0
        while first < k and best[r, first] == _EMPTY_BIN:
            first += 1
        if first == k:  # no bin filled (every value is the empty marker): all borrow bin 0, at distance 3k - i
            first = 2 * k
        nxt = first + k  # past the last filled bin: wrap around to the first
        for i in range(k - 1, -1, -1):
            if best[r, i] != _EMPTY_BIN:
                nxt = i
            out[r, i] = np.uint8(_fmix32_one(_U32(best[r, nxt % k] + _U32(_U32(nxt - i) * _U32(0x9E3779B1)))) & mask)
    return out


def estimate(agree: np.ndarray | float) -> np.ndarray | float:
    """Jaccard estimate from the share of agreeing bins (b-bit bins agree by chance too)."""
    return np.maximum(0.0, (agree - _CHANCE) / (1 - _CHANCE))


def estimates(sigs: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """estimate() for the pairs of rows (a[i], b[i]) of `sigs` (uint8[n, num_perm])."""
    words = np.ascontiguousarray(sigs).view(np.uint64)  # 8 bins a word
    agree = _agreeing_bins(words, np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64))
    return estimate(agree / sigs.shape[1])


_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_LOW1 = np.uint64(0x0101010101010101)


@numba.njit(inline="always")
def _agree(words, a, b):
    """How many bins rows a and b of the signatures agree in, 8 bins (bytes) a uint64 word at a time:
    a byte of a ^ b is 0 where they agree, and ((x & 0x7F..) + 0x7F..) | x has a byte's top bit set
    exactly where that byte of x is not 0."""
    per_row = words.shape[1]
    differ = 0
    for w in range(per_row):
        x = words[a, w] ^ words[b, w]
        t = ((x & _LOW7) + _LOW7) | x
        differ += ((t >> np.uint64(7)) & _LOW1) * _LOW1 >> np.uint64(56)
    return per_row * 8 - differ


@numba.njit(cache=True, nogil=True)
def _agreeing_bins(words, a, b):
    """_agree for each pair (a[i], b[i]). Compiled because LSH hands over millions of pairs (16
    million at a million rows, prompts mostly) and in numpy gathering both rows, comparing and
    summing took 3.6 s of them."""
    out = np.empty(len(a), dtype=np.int64)
    for i in range(len(a)):
        out[i] = _agree(words, a[i], b[i])
    return out


@numba.njit(cache=True, nogil=True)
def _band_pairs(packed, shift, words, min_agree):
    """One LSH band's candidates, from its rows sorted as (band key << shift | position): each row
    is linked to the previous row with the same key and to the first row of that run; the pairs
    whose signatures agree in at least `min_agree` bins, as (later << 32 | earlier).

    Compiled because in numpy the same took a dozen passes over the band (about 0.1 s a band at a
    million rows, 32 bands a run): here one pass, with the signatures compared as pairs are found."""
    mask = (np.uint64(1) << shift) - np.uint64(1)
    out = np.empty(2 * len(packed), np.uint64)
    m, first = 0, 0
    for i in range(1, len(packed)):
        if packed[i] >> shift != packed[i - 1] >> shift:
            first = i
            continue
        later = packed[i] & mask
        for j in (i - 1, first):
            earlier = packed[j] & mask
            if _agree(words, np.int64(later), np.int64(earlier)) >= min_agree:
                out[m] = later << np.uint64(32) | earlier
                m += 1
            if first == i - 1:
                break
    return out[:m]


def boilerplate_of(shingle_sets: list[np.ndarray], share: float = 0.2, min_rows: int = 50) -> np.ndarray:
    """Shingles found in more than `share` of the rows (sorted): a system prompt or tool description
    repeated in every row. Needs `min_rows` rows to say anything."""
    if len(shingle_sets) < min_rows or not shingle_sets:
        return np.empty(0, dtype=np.uint32)
    values = np.sort(np.concatenate(shingle_sets))  # each set is unique: a count is a row count
    starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    counts = np.diff(np.concatenate((starts, [len(values)])))
    values = values[starts]
    return values[counts > share * len(shingle_sets)].astype(np.uint32)


def in_sorted(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """np.isin(values, sorted_set) for 32-bit values and a sorted, non-empty set (the boilerplate
    shingles: a few dozen to a few thousand). A table of the set's top 16 bits rules most values
    out with one lookup each; only the rest are binary-searched. (np.isin compares every value with
    each member in turn when the set is small; a binary search of every value costs 15x the table.)"""
    table = np.zeros(1 << 16, dtype=bool)
    table[sorted_set >> np.uint32(16)] = True
    return _in_sorted(values, table, sorted_set)


@numba.njit(cache=True, nogil=True)
def _in_sorted(values, table, sorted_set):
    """in_sorted's loop: compiled, one pass, where numpy took six passes and a gather (about 4 µs of
    a lint row's 100 when a system prompt is boilerplate and a third of the shingles need the search)."""
    out = np.zeros(len(values), np.bool_)
    for i in range(len(values)):
        v = values[i]
        if table[v >> 16]:
            j = np.searchsorted(sorted_set, v)
            out[i] = j < len(sorted_set) and sorted_set[j] == v
    return out


def drop_boilerplate(shingle_hashes: np.ndarray, boilerplate: np.ndarray) -> np.ndarray:
    if not boilerplate.size:
        return shingle_hashes
    return shingle_hashes[~in_sorted(shingle_hashes, boilerplate)]


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
        self.hasher = Signer(num_perm)
        self.boilerplate_share, self.warmup = boilerplate_share, warmup
        self.min_rows_for_boilerplate = min_rows_for_boilerplate
        self.warming = True
        self.boilerplate: np.ndarray = np.empty(0, dtype=np.uint32)
        self.pending: list[tuple[int, np.ndarray]] = []
        self.ids: list[np.ndarray] = []  # per batch: row ids
        self.sigs: list[np.ndarray] = []  # per batch: signatures

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
        sizes = np.array([len(x) for x in shingle_sets], dtype=np.int64)
        flat = np.concatenate(shingle_sets) if shingle_sets else np.empty(0, dtype=np.uint32)
        return self.sign_flat(flat, np.repeat(np.arange(len(sizes), dtype=np.int64), sizes), len(sizes))

    def sign_flat(self, h: np.ndarray, owner: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """sign() of n sets given as values and owners (Signer.signatures_of)."""
        return self.sign_clean(*self.without_boilerplate_flat(h, owner), n)

    def sign_clean(self, h: np.ndarray, owner: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """sign_flat() of values that are already without the boilerplate."""
        sizes = np.bincount(owner, minlength=n)
        kept = np.flatnonzero(sizes)
        position = np.cumsum(sizes > 0) - 1  # a kept set's row in the signatures
        return kept, self.hasher.signatures_of(h, position[owner], len(kept))

    def without_boilerplate_flat(self, h: np.ndarray, owner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.boilerplate.size and h.size:
            keep = ~in_sorted(h, self.boilerplate)
            h, owner = h[keep], owner[keep]
        return h, owner

    def _flush(self) -> None:
        pending, self.pending = self.pending, []
        if self.warming:
            self.boilerplate = boilerplate_of([sh for _, sh in pending], self.boilerplate_share,
                                              self.min_rows_for_boilerplate)
            self.warming = False
        at, sigs = self.sign([sh for _, sh in pending])
        self.add_signatures(np.array([pending[i][0] for i in at.tolist()], dtype=np.int64), sigs)

    def finish(self, margin: float = 0.0, threads: int = 1) -> list[tuple[int, int, float]]:
        """Pairs whose estimated similarity reaches threshold - margin (a caller that verifies pairs
        exactly asks for a margin, so that pairs the estimate puts just below still get checked),
        the bands searched by `threads` threads (the pairs are the same however many)."""
        if self.pending:
            self._flush()
        if not self.ids:
            return []
        ids, sigs = np.concatenate(self.ids), np.concatenate(self.sigs)
        self.ids, self.sigs = [ids], [sigs]
        keys = band_keys(sigs, self.bands, self.band_rows)
        cut = self.threshold - margin
        # Each band is sorted as one uint64 per row: the band key folded to its top bits, the row's
        # position in the low `shift` bits. Equal keys then lie together in row order, as a stable
        # argsort would leave them, at a quarter of its cost. (Two keys that differ can fold to the
        # same top bits: about one pair in 30 bands at a million rows, a candidate like any other
        # that the estimate below turns away.)
        shift = np.uint64(max(1, (len(ids) - 1).bit_length()))
        position = np.arange(len(ids), dtype=np.uint64)

        words = np.ascontiguousarray(sigs).view(np.uint64)
        # The fewest agreeing bins whose estimate reaches the cut (estimate() grows with them).
        bins = sigs.shape[1]
        passing = np.flatnonzero(estimate(np.arange(bins + 1) / bins) >= cut)
        min_agree = int(passing[0]) if passing.size else bins + 1

        def band_candidates(band: int) -> np.ndarray:
            """The band's candidate pairs that pass the estimate, as (later << 32 | earlier)."""
            return _band_pairs(np.sort(((keys[:, band] * _FOLD) >> shift << shift) | position), shift, words, min_agree)

        # Bands are independent, and their steps (numpy's sort, the compiled pass) let go of the
        # GIL: threads run them on every core, sharing the signatures.
        with ThreadPoolExecutor(max(1, min(threads, self.bands))) as pool:
            found = list(pool.map(band_candidates, range(self.bands)))
        codes = sorted_unique(np.concatenate(found)) if found else np.empty(0, dtype=np.uint64)
        if not codes.size:
            return []
        a, b = (codes >> np.uint64(32)).astype(np.int64), (codes & np.uint64(0xFFFFFFFF)).astype(np.int64)
        sims = estimates(sigs, a, b)
        return list(zip(ids[a].tolist(), ids[b].tolist(), sims.tolist()))

    def release(self) -> None:
        """Drop the signatures (after finish(), when the pairs are all that is needed)."""
        self.ids, self.sigs = [], []

    def without_boilerplate(self, shingle_hashes: np.ndarray) -> np.ndarray:
        return drop_boilerplate(shingle_hashes, self.boilerplate)


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
