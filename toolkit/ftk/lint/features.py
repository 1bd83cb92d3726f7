"""Per-example values that several rules need — normalised text, the exact-match key, shingles,
13-gram hashes — computed once per example and memoised on it (`Example.memo`), so that the
duplicate, near-duplicate and leakage rules do not each normalise and hash the same text.

Normalisation for matching: Unicode NFC, control characters out, whitespace runs collapsed,
case folded.
"""

from __future__ import annotations

import hashlib
import unicodedata
import zlib

import numpy as np

from ftk.data.formats import Example, Turn
from ftk.lint.near_dup import ngram_hashes, shingles_of_words, word_hashes, words_of

# Control characters deleted before matching (str.translate: one C pass, no regex).
_DROP_CONTROL = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)])
LEAK_NGRAM = 13  # lm-evaluation-harness's decontamination n-gram


def normalise_for_match(s: str) -> str:
    if not s.isascii():
        s = unicodedata.normalize("NFC", s)
    return " ".join(s.translate(_DROP_CONTROL).split()).casefold()


def _memo(ex: Example, key, make):
    value = ex.memo.get(key)
    if value is None:
        value = ex.memo[key] = make()
    return value


def normalised(ex: Example, turn: Turn) -> str:
    return _memo(ex, ("norm", id(turn)), lambda: normalise_for_match(turn.content))


def whole(ex: Example) -> list[Turn]:
    """Every turn of the row: the conversation, then chosen and rejected responses."""
    return ex.turns + (ex.chosen or []) + (ex.rejected or [])


def hash_turns(ex: Example, turns: list[Turn], h=None) -> bytes:
    """8-byte hash of (role, normalised text) pairs."""
    h = h or hashlib.blake2b(digest_size=8)
    for t in turns:
        h.update(t.role.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
        h.update(normalised(ex, t).encode("utf-8", "surrogatepass"))
        h.update(b"\x1e")
    return h.digest()


def row_key(ex: Example) -> bytes:
    """Identity of a row for exact-duplicate matching: equal rows in any format share it."""
    def make() -> bytes:
        h = hashlib.blake2b(digest_size=8)
        hash_turns(ex, ex.turns, h)
        for part in (ex.chosen, ex.rejected):
            if part is not None:
                h.update(b"\x1d")
                hash_turns(ex, part, h)
        return h.digest()

    return _memo(ex, "row_key", make)


def turn_words(ex: Example, turn: Turn) -> list[str]:
    return _memo(ex, ("words", id(turn)), lambda: words_of(normalised(ex, turn)))


def turn_word_hashes(ex: Example, turn: Turn) -> np.ndarray:
    return _memo(ex, ("word_hashes", id(turn)), lambda: word_hashes(turn_words(ex, turn)))


def turn_shingles(ex: Example, turn: Turn) -> np.ndarray:
    """The turn's shingles, salted with its role so a user's words and an assistant's differ."""
    return _memo(ex, ("shingles", id(turn)),
                 lambda: shingles_of_words(turn_words(ex, turn), salt=zlib.crc32(turn.role.encode("utf-8", "surrogatepass")),
                                           hashes=turn_word_hashes(ex, turn)))


def shingles_of(ex: Example, turns: list[Turn]) -> np.ndarray:
    return np.unique(np.concatenate([turn_shingles(ex, t) for t in turns]))


def content_turns(ex: Example) -> list[Turn]:
    """The row's turns without system prompts: the part that identifies an example. System prompts
    are shared by many unrelated rows (and between train and eval sets) and would make them match."""
    return [t for t in whole(ex) if t.role != "system"] or whole(ex)


def row_ngrams(ex: Example) -> np.ndarray:
    """Hashes of every 13 consecutive words within each non-system turn, for leakage."""
    def make() -> np.ndarray:
        parts = [ngram_hashes(turn_word_hashes(ex, t), LEAK_NGRAM) for t in content_turns(ex)]
        return np.unique(np.concatenate(parts)) if parts else np.empty(0, dtype=np.uint64)

    return _memo(ex, "ngrams", make)
