"""The compiled (numba) loops of ftk.lint.near_dup against plain-Python statements of what they
compute: word hashes and word 3-gram shingles, and one-permutation MinHash signatures with
densification. The references are slow and obvious; the kernels must agree bit for bit."""

import random
import re

import numpy as np

from ftk.lint.near_dup import SHORT_WORDS, Signer, text_shingles

M32, M64 = (1 << 32) - 1, (1 << 64) - 1
P, MIX = 0x100000001B3, 0x9E3779B97F4A7C15


def fmix32(h: int) -> int:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & M32
    return h ^ (h >> 16)


def word_hash(word: bytes) -> int:
    """A word's bytes as a polynomial in P (mod 2^64), plus its length, mixed to its top 32 bits."""
    h = sum(b * pow(P, j, 1 << 64) for j, b in enumerate(word)) & M64
    return (((h + len(word)) & M64) * MIX & M64) >> 32


def reference_shingles(text: str, salt: int) -> tuple[list[int], list[int]]:
    """(word hashes, word 3-gram shingles) of one normalised text: what text_shingles computes for
    it, but for short texts' character 5-grams."""
    prepared = text if text.isascii() else " ".join(re.findall(r"\w+", text))
    words = [word_hash(w) for w in re.findall(rb"[A-Za-z0-9_\x80-\xff]+", prepared.encode("utf-8", "surrogatepass"))]
    if len(words) < SHORT_WORDS:
        return words, []
    grams = [((a * 0x9E3779B1) & M32) ^ ((b * 0x85EBCA77) & M32) ^ c for a, b, c in zip(words, words[1:], words[2:])]
    return words, [fmix32(g ^ salt) for g in grams]


def test_word_shingles_match_the_plain_python_definition():
    rng = random.Random(0)
    vocab = ["the", "cat", "sat", "on", "mat", "x_1", "42", "naïve", "café", "déjà", "vu", "ünï", "a", "why"]
    texts = ["", "a", "one two three four five six seven eight", "naïve café déjà vu and then some more words here"]
    for _ in range(300):
        n = rng.choice([0, 1, 3, 7, 8, 9, 30])
        texts.append(rng.choice([" ", ", ", " - "]).join(rng.choice(vocab) for _ in range(n)))
    salts = [rng.randrange(1 << 32) for _ in texts]
    words, counts, grams, owner = text_shingles(texts, salts)
    at = 0
    for i, (text, salt) in enumerate(zip(texts, salts)):
        want_words, want_grams = reference_shingles(text, salt)
        assert words[at:at + counts[i]].tolist() == want_words, text
        at += counts[i]
        got = grams[owner == i].tolist()
        if counts[i] >= SHORT_WORDS:
            assert got == want_grams, text
        else:  # character 5-grams, one per position of the spaced words
            assert (len(got) > 0) == (counts[i] > 0), text
    assert at == len(words)


def reference_signature(values: list[int], k: int) -> list[int]:
    """One-permutation MinHash with densification by rotation, 8 bits a bin: each value falls in
    the bin of its top log2(k) bits, a bin keeps its least value, an empty bin takes the next
    filled bin's value to its right (circularly) plus its distance times 0x9E3779B1."""
    shift = 32 - (k.bit_length() - 1)
    best = [None] * k
    for v in values:
        b = v >> shift
        best[b] = v if best[b] is None else min(best[b], v)
    filled = [i for i in range(k) if best[i] is not None]
    out = []
    for i in range(k):
        nxt = next((j for j in filled if j >= i), filled[0] + k)
        out.append(fmix32((best[nxt % k] + (nxt - i) * 0x9E3779B1) & M32) & 0xFF)
    return out


def test_signatures_match_the_plain_python_definition():
    rng = np.random.RandomState(1)
    for k in (8, 128):
        sets = [rng.randint(0, 2**32, size=n, dtype=np.uint64).astype(np.uint32)
                for n in (1, 2, 3, 5, 40, 300, 2000)]  # small sets leave most bins empty
        sigs = Signer(k).signatures(sets)
        assert sigs.dtype == np.uint8 and sigs.shape == (len(sets), k)
        for s, sig in zip(sets, sigs):
            assert sig.tolist() == reference_signature(s.tolist(), k)
        # Order and repeats do not matter.
        shuffled = [np.concatenate((s[::-1], s[:3])) for s in sets]
        assert np.array_equal(Signer(k).signatures(shuffled), sigs)
