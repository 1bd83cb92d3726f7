"""langdetect's `detect_langs`, with its random trials compiled: the same probabilities, to the bit.

langdetect (a port of Cybozu's Java library) spends most of a call in its seven random trials:
up to 1,001 draws of one of the text's n-grams each, and for every draw a Python loop over its 55
languages. No option or other library does those trials faster and gives langdetect's answers,
so they are run here in numba; everything before them is langdetect's own code, called as it is
(URL and mail removal, Vietnamese normalisation, Latin removal from non-Latin text, n-gram
extraction). The trials replay exactly what langdetect computes:
- the random numbers are Python's: the 32-bit words of `random.Random(seed)` (every Detector is
  seeded alike), drawn once; `choice` is replayed as CPython's `_randbelow` (getrandbits of the
  length's bit count, rejected while out of range); `gauss` is computed in Python, as CPython does;
- the probability updates and normalisations are the same float operations in the same order,
  and `sum` adds as the running CPython's builtin does (plainly before 3.12; Neumaier's
  compensated sum from 3.12 on).
tests/lint/test_langdetect_trials.py compares the probabilities with langdetect's on many texts.
"""

from __future__ import annotations

import math
import random
import sys

import numba
import numpy as np

STREAM_WORDS = 1 << 16  # random words drawn in advance; a text that needs more goes to langdetect itself
TWOPI = 2.0 * math.pi
COMPENSATED_SUM = sys.version_info >= (3, 12)  # CPython's sum() of floats is Neumaier's from 3.12


class TrialDetector:
    """`probabilities(text)` = [(lang, prob) for Language in langdetect.detect_langs(text)] for a
    seeded DetectorFactory (seed 0 unless told)."""

    def __init__(self, seed: int = 0):
        from langdetect import detector_factory
        from langdetect.detector import Detector

        detector_factory.DetectorFactory.seed = seed
        detector_factory.init_factory()
        self.factory = detector_factory._factory
        self.langs = list(self.factory.langlist)
        self.Detector = Detector
        rng = random.Random(seed)
        self.words = np.array([rng.getrandbits(32) for _ in range(STREAM_WORDS)], dtype=np.uint32)
        # The profiles' rows of the n-grams met so far, as one float array (all 87,598 would be 39 MB,
        # most never met), and each n-gram's row in it.
        self.table = np.empty((1024, len(self.langs)))
        self.row_of: dict[str, int] = {}

    def probabilities(self, text: str) -> list[tuple[str, float]]:
        """The languages above langdetect's threshold, most probable first; [] when the text has
        no n-gram langdetect knows (where langdetect raises)."""
        d = self.factory.create()
        d.append(text)
        d.cleaning_text()
        ngrams = d._extract_ngrams()
        if not ngrams:
            return []
        langprob = self._trials(d, self._rows(ngrams), self.table)
        if langprob is None:  # the drawn stream ran out (not seen on real text): langdetect decides
            from langdetect import detect_langs

            return [(x.lang, x.prob) for x in detect_langs(text)]
        out = [(lang, p) for lang, p in zip(self.langs, langprob) if p > d.PROB_THRESHOLD]
        out.sort(key=lambda lp: lp[1], reverse=True)  # Language sorts by probability alone
        return out

    def _rows(self, ngrams: list[str]) -> np.ndarray:
        """Each n-gram's row in self.table, adding the rows of n-grams not met before."""
        row_of = self.row_of
        new = [w for w in set(ngrams) if w not in row_of]
        if new:
            start = len(row_of)
            if start + len(new) > len(self.table):
                grown = np.empty((max(2 * len(self.table), start + len(new)), len(self.langs)))
                grown[:start] = self.table[:start]
                self.table = grown
            self.table[start:start + len(new)] = [self.factory.word_lang_prob_map[w] for w in new]
            row_of.update(zip(new, range(start, start + len(new))))
        return np.fromiter(map(row_of.__getitem__, ngrams), dtype=np.int64, count=len(ngrams))

    def _trials(self, d, picks: np.ndarray, table: np.ndarray) -> list[float] | None:
        n = len(self.langs)
        langprob = [0.0] * n
        pos, gauss_next = 0, None
        bits = len(picks).bit_length()
        for _ in range(d.n_trial):
            if gauss_next is None:  # random.gauss(0.0, 1.0), as CPython computes it
                if pos + 4 > len(self.words):
                    return None
                x2pi = self._random(pos) * TWOPI
                g2rad = math.sqrt(-2.0 * math.log(1.0 - self._random(pos + 2)))
                pos += 4
                z, gauss_next = math.cos(x2pi) * g2rad, math.sin(x2pi) * g2rad
            else:
                z, gauss_next = gauss_next, None
            alpha = d.alpha + (0.0 + z * 1.0) * d.ALPHA_WIDTH
            prob = np.full(n, 1.0 / n)
            pos = _trial(prob, table, picks, self.words, pos, bits, alpha / d.BASE_FREQ, d.ITERATION_LIMIT,
                         d.CONV_THRESHOLD, COMPENSATED_SUM)
            if pos < 0:
                return None
            for j, p in enumerate(prob.tolist()):
                langprob[j] += p / d.n_trial
        return langprob

    def _random(self, pos: int) -> float:
        """random.random() from the stream's words at `pos` and `pos + 1` (CPython's formula)."""
        a, b = int(self.words[pos]) >> 5, int(self.words[pos + 1]) >> 6
        return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0)


@numba.njit(cache=True, nogil=True)
def _trial(prob, table, picks, words, pos, bits, weight, limit, threshold, compensated):
    """One of langdetect's trials (Detector._detect_block's inner loop) on `prob`, in place; the
    stream position after it, or -1 when the stream ran out."""
    n = len(picks)
    i = 0
    while True:
        while True:  # random.choice(ngrams): getrandbits(bits) until below n
            if pos >= len(words):
                return -1
            r = np.int64(words[pos] >> np.uint32(32 - bits))
            pos += 1
            if r < n:
                break
        row = table[picks[r]]
        for j in range(len(prob)):
            prob[j] *= weight + row[j]
        if i % 5 == 0:
            total = _sum(prob, compensated)
            top = 0.0
            for j in range(len(prob)):
                p = prob[j] / total
                if top < p:
                    top = p
                prob[j] = p
            if top > threshold or i >= limit:
                return pos
        i += 1


@numba.njit(cache=True, nogil=True)
def _sum(values, compensated):
    """Python's sum() of a list of floats: left to right, with Neumaier's compensation from 3.12."""
    total = values[0]
    if not compensated:
        for j in range(1, len(values)):
            total += values[j]
        return total
    c = 0.0
    for j in range(1, len(values)):
        x = values[j]
        t = total + x
        if abs(total) >= abs(x):
            c += (total - t) + x
        else:
            c += (x - t) + total
        total = t
    if c != 0.0 and math.isfinite(c):
        total += c
    return total
