"""Experiment (not used by ftk): what a compiled pass would save over near_dup.text_shingles.

The same word hashes, counts and word 3-gram shingles as `ftk.lint.near_dup.text_shingles` (checked
equal here), computed in one numba loop over a chunk's bytes instead of about a dozen numpy passes.
Short texts' character 5-grams are left out of both sides of the timing comparison's check.

    pip install numba==0.68.1
    python bench/numba_shingles.py bench/out/chat_20000_seed0.jsonl

numba is not a dependency of ftk: this measures whether it should become one (BENCHMARKS.md).
"""

from __future__ import annotations

import itertools
import sys
import time

import numba
import numpy as np

from ftk.data.reader import read_records
from ftk.lint import near_dup
from ftk.lint.engine import Checker, majority_format, read_example
from ftk.lint.features import normalised, role_salt, whole
from ftk.lint.registry import select_codes

P, MIX = np.uint64(0x100000001B3), np.uint64(0x9E3779B97F4A7C15)  # near_dup's _P and _WORD_MIX
M0, M1 = np.uint32(0x9E3779B1), np.uint32(0x85EBCA77)  # near_dup's _MULT
U32 = np.uint32  # numba widens uint32 products: every step is cast back, as numpy's uint32 arrays wrap


@numba.njit(nogil=True)
def _shingles(data, is_word, salt, n_texts, short_words):
    """(word hashes, words per text, shingles, the text of each) for NUL-separated texts."""
    word_hash = np.empty(len(data) // 2 + 1, np.uint32)
    text_of = np.empty(len(data) // 2 + 1, np.int32)
    counts = np.zeros(n_texts, np.int64)
    words, text, i = 0, 0, 0
    while i < len(data):
        if data[i] == 0:
            text += 1
            i += 1
        elif is_word[data[i]]:
            h, power, start = np.uint64(0), np.uint64(1), i
            while i < len(data) and is_word[data[i]]:
                h += np.uint64(data[i]) * power
                power *= P
                i += 1
            word_hash[words] = U32((h + np.uint64(i - start)) * MIX >> np.uint64(32))
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
            g = U32(U32(U32(word_hash[k] * M0) ^ U32(word_hash[k + 1] * M1) ^ word_hash[k + 2]) ^ salt[t])
            g = U32(g ^ (g >> U32(16)))
            g = U32(g * U32(0x85EBCA6B))
            g = U32(g ^ (g >> U32(13)))
            g = U32(g * U32(0xC2B2AE35))
            grams[n], owner[n] = U32(g ^ (g >> U32(16))), t
            n += 1
    return word_hash[:words], counts, grams[:n], owner[:n]


def compiled_shingles(texts: list[str], salts: list[int]):
    prepared = [t if t.isascii() else " ".join(near_dup.WORD.findall(t)) for t in texts]
    data = np.frombuffer("\x00".join(prepared).encode("utf-8", "surrogatepass"), dtype=np.uint8)
    return _shingles(data, near_dup._WORD_BYTE.astype(np.uint8), np.array(salts, dtype=np.uint32),
                     len(texts), near_dup.SHORT_WORDS)


def median_cpu(f, runs: int = 15) -> float:
    times = []
    for _ in range(runs):
        t0 = time.process_time()
        f()
        times.append(time.process_time() - t0)
    return sorted(times)[runs // 2]


def main(path: str, rows: int = 1300) -> None:
    checker = Checker(select_codes(None, None))
    fmt = majority_format(list(itertools.islice(read_records(path), 256)))
    examples = [ex for rec in read_records(path) for ex in [read_example(rec, fmt, checker)[1]] if ex is not None][:rows]
    turns = [(ex, t) for ex in examples for t in whole(ex)]
    texts, salts = [normalised(ex, t) for ex, t in turns], [role_salt(t.role) for _, t in turns]
    t0 = time.perf_counter()
    compiled_shingles(texts[:10], salts[:10])
    compile_s = time.perf_counter() - t0
    want, got = near_dup.text_shingles(texts, salts), compiled_shingles(texts, salts)
    n = len(got[2])  # numpy's shingles: the word 3-grams first, then short texts' character 5-grams
    same = all(np.array_equal(a, b) for a, b in zip((want[0], want[1], want[2][:n], want[3][:n]), got))
    numpy_s, numba_s = median_cpu(lambda: near_dup.text_shingles(texts, salts)), median_cpu(lambda: compiled_shingles(texts, salts))
    print(f"{len(examples)} rows ({len(texts)} turns) of {path}: identical output {same}; "
          f"numpy {numpy_s / len(examples) * 1e6:.1f} µs/row, numba {numba_s / len(examples) * 1e6:.1f} µs/row "
          f"({numpy_s / numba_s:.1f}x), first call (compiling) {compile_s:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1])
