"""Per-example values that several rules need — normalised text, the exact-match key, shingles,
13-gram hashes — computed once per example and memoised on it (`Example.memo`), so that the
duplicate, near-duplicate and leakage rules do not each normalise and hash the same text.

Normalisation for matching: Unicode NFC, control characters out, whitespace runs collapsed,
case folded.
"""

from __future__ import annotations

import unicodedata
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from xxhash import xxh3_64_digest, xxh3_64_intdigest

from ftk.data.formats import Example, Turn
from ftk.lint.near_dup import ngram_hashes, sorted_unique, text_features, text_shingles, union_sets

# Control characters deleted before matching (str.translate: one C pass, no regex).
_DROP_CONTROL = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)])
LEAK_NGRAM = 13  # lm-evaluation-harness's decontamination n-gram


_ASCII_NOT_CONTROL = bytes(range(0x20, 0x7F)) + b"\t\n\r"


def ascii_has_control(s: str) -> bool:
    """Whether an ASCII string holds a control character other than tab, newline and carriage
    return (bytes.translate deletes the rest in one C loop: 3x cheaper than a regex scan)."""
    return bool(s.encode("ascii").translate(None, _ASCII_NOT_CONTROL))


# For ASCII text, one bytes.translate does what normalising does but for collapsing space runs:
# control characters out, the whitespace left (tab, newline, carriage return) to spaces, letters
# lower-cased (casefold() is lower() on ASCII). 4x cheaper than splitting into words and joining.
_ASCII_CONTROL = bytes(c for c in _DROP_CONTROL if c < 0x80)
_ASCII_FOLD = bytes(32 if c in b"\t\n\r" else c + 32 if 65 <= c <= 90 else c for c in range(256))


def normalise_for_match(s: str) -> str:
    return _normalise(s)[0]


def _normalise(s: str) -> tuple[str, bool]:
    """(normalised text, whether `s` is plain: ASCII without control characters but for tab,
    newline and carriage return: then normalising moves no word boundary)."""
    if s.isascii():
        b = s.encode("ascii").translate(_ASCII_FOLD, _ASCII_CONTROL)
        plain = len(b) == len(s)  # nothing deleted
        while b"  " in b:  # most texts: not once or twice
            b = b.replace(b"  ", b" ")
        return b.strip(b" ").decode("ascii"), plain
    return " ".join(unicodedata.normalize("NFC", s).translate(_DROP_CONTROL).split()).casefold(), False


def _memo(ex: Example, key, make):
    value = ex.memo.get(key)
    if value is None:
        value = ex.memo[key] = make()
    return value


def normalised(ex: Example, turn: Turn) -> str:
    key = ("norm", id(turn))  # (inlined _memo: called for every turn of every row)
    value = ex.memo.get(key)
    if value is None:
        value, ex.memo[("plain", id(turn))] = _normalise(turn.content)
        ex.memo[key] = value
    return value


def is_plain(ex: Example, turn: Turn) -> bool:
    """Whether the turn's text is plain ASCII (see _normalise), found while normalising it."""
    normalised(ex, turn)
    return ex.memo[("plain", id(turn))]


def whole(ex: Example) -> list[Turn]:
    """Every turn of the row: the conversation, then chosen and rejected responses."""
    return ex.turns + (ex.chosen or []) + (ex.rejected or [])


def turn_digest(ex: Example, turn: Turn) -> bytes:
    """8-byte hash of one turn's (role, normalised text), computed once per turn. xxHash (XXH3):
    a hash here only has to tell rows apart within one run, and XXH3 costs a tenth of blake2b."""
    key = ("digest", id(turn))  # (inlined _memo, as in normalised: called for every turn, often twice)
    value = ex.memo.get(key)
    if value is None:
        value = ex.memo[key] = xxh3_64_digest(normalised(ex, turn).encode("utf-8", "surrogatepass"),
                                              seed=role_salt(turn.role))
    return value


def hash_turns(ex: Example, turns: list[Turn]) -> int:
    """64-bit hash of a sequence of (role, normalised text) pairs: a hash of the turns' digests, so
    that the row, prompt and response keys hash each turn's text once between them."""
    return xxh3_64_intdigest(b"".join([turn_digest(ex, t) for t in turns]))


def row_key(ex: Example) -> int:
    """Identity of a row for exact-duplicate matching: equal rows in any format share it."""
    def make() -> int:
        # How many turns each part has (-1: no such part), then the digests (8 bytes each).
        sizes = [len(ex.turns), *(-1 if part is None else len(part) for part in (ex.chosen, ex.rejected))]
        return xxh3_64_intdigest(",".join(map(str, sizes)).encode() + b"".join([turn_digest(ex, t) for t in whole(ex)]))

    return _memo(ex, "row_key", make)


@lru_cache(maxsize=256)
def role_salt(role: str) -> int:
    return zlib.crc32(role.encode("utf-8", "surrogatepass"))


def prepare(examples: list[Example], turn_lists: list[list[Turn]] | None = None) -> None:
    """Hash the given turns of many examples (default: every turn) in one batch
    (ftk.lint.near_dup.text_features): their word hashes and shingles go into the examples' memos.
    A turn's values do not depend on the batch."""
    turn_lists = turn_lists if turn_lists is not None else [whole(ex) for ex in examples]
    todo = [(ex, t) for ex, turns in zip(examples, turn_lists) for t in turns if ("shingles", id(t)) not in ex.memo]
    if not todo:
        return
    word_hashes, shingle_sets = text_features([normalised(ex, t) for ex, t in todo], [role_salt(t.role) for _, t in todo])
    for (ex, t), w, sh in zip(todo, word_hashes, shingle_sets):
        ex.memo[("word_hashes", id(t))] = w
        ex.memo[("shingles", id(t))] = sh


def turn_word_hashes(ex: Example, turn: Turn) -> np.ndarray:
    if ("word_hashes", id(turn)) not in ex.memo:
        prepare([ex])
    return ex.memo[("word_hashes", id(turn))]


def turn_shingles(ex: Example, turn: Turn) -> np.ndarray:
    """The turn's shingles, salted with its role so a user's words and an assistant's differ."""
    if ("shingles", id(turn)) not in ex.memo:
        prepare([ex])
    return ex.memo[("shingles", id(turn))]


@dataclass(slots=True)
class ChunkShingles:
    """What flat_shingles gives for a chunk of examples (see there)."""

    values: np.ndarray  # shingles of every example's turns (repeats kept, unsorted)
    row_of: np.ndarray  # the example each is from
    part_values: np.ndarray  # the same for the parts' turns only
    part_row_of: np.ndarray
    part_words: np.ndarray  # per example: its part's word count where exact, else -1
    part_sequence: np.ndarray  # the parts' words as hashes, in order, each turn after its role's salt
    part_lengths: np.ndarray  # per example: its stretch of part_sequence


def flat_shingles(examples: list[Example], turn_lists: list[list[Turn]], parts: list[list[Turn] | None]) -> ChunkShingles:
    """The shingles of each example's `turn_lists` turns, and of its `parts` turns (some of those
    turns, or None), as (values, example each is from): repeats kept, unsorted, which is all a
    MinHash signature needs (Signer.signatures_of) and spares the sorts that sets cost. Each turn is
    hashed once.

    Also the parts' words (32-bit hashes of the normalised words, in order, with each turn's role
    salt in front of it, as rewording.PromptWords lays words out) and how many there are, where
    that count on the normalised text is exact: every part turn ASCII without control characters
    (normalising then only lower-cases and collapses whitespace, which moves no word boundary,
    so equal hashes are equal words but for a 2^-32 chance); -1 elsewhere."""
    n = len(examples)
    flat = [(i, t) for i, turns in enumerate(turn_lists) for t in turns]
    texts = [normalised(examples[i], t) for i, t in flat]
    salts = [role_salt(t.role) for _, t in flat]
    word_hash, counts, values, text_of = text_shingles(texts, salts)
    # Which texts are in the parts: the parts' turns are found among the example's turns by identity.
    wanted = {(i, id(t)): is_plain(examples[i], t) for i, turns in enumerate(parts) for t in turns or ()}
    plain = [wanted.get((i, id(t))) for i, t in flat]  # per text: None when not in a part
    in_part = np.array([p is not None for p in plain], dtype=bool)
    text_row = np.array([i for i, _ in flat], dtype=np.int64)
    row_of, part = text_row[text_of], in_part[text_of]

    part_texts = np.flatnonzero(in_part)
    words = np.bincount(text_row[part_texts], weights=counts[part_texts], minlength=n).astype(np.int64)
    inexact = np.bincount(np.array([i for (i, _), p in zip(flat, plain) if p is False], dtype=np.int64), minlength=n)
    words[(inexact > 0) | np.array([p is None for p in parts], dtype=bool)] = -1

    # The parts' word sequences: each part text's salt, then its words.
    stretch = counts[part_texts] + 1
    sequence = np.empty(int(stretch.sum()), dtype=np.uint32)
    is_salt = np.zeros(len(sequence), dtype=bool)
    is_salt[np.cumsum(stretch) - stretch] = True
    sequence[is_salt] = np.array(salts, dtype=np.uint32)[part_texts]
    sequence[~is_salt] = word_hash[np.repeat(in_part, counts)]
    lengths = np.bincount(text_row[part_texts], weights=stretch, minlength=n).astype(np.int64)
    return ChunkShingles(values, row_of, values[part], row_of[part], words, sequence, lengths)


def shingles_of(ex: Example, turns: list[Turn]) -> np.ndarray:
    return union_sets([[turn_shingles(ex, t) for t in turns]])[0]


def shingle_sets(examples: list[Example], turn_lists: list[list[Turn]]) -> list[np.ndarray]:
    """[shingles_of(ex, turns) for ex, turns in zip(...)], in one batch (only those turns hashed)."""
    prepare(examples, turn_lists)
    return union_sets([[turn_shingles(ex, t) for t in turns] for ex, turns in zip(examples, turn_lists)])


def content_turns(ex: Example) -> list[Turn]:
    """The row's turns without system prompts: the part that identifies an example. System prompts
    are shared by many unrelated rows (and between train and eval sets) and would make them match."""
    return [t for t in whole(ex) if t.role != "system"] or whole(ex)


def row_ngrams(ex: Example) -> np.ndarray:
    """Hashes of every 13 consecutive words within each non-system turn, for leakage."""
    def make() -> np.ndarray:
        parts = [ngram_hashes(turn_word_hashes(ex, t), LEAK_NGRAM) for t in content_turns(ex)]
        return sorted_unique(np.concatenate(parts)) if parts else np.empty(0, dtype=np.uint64)

    return _memo(ex, "ngrams", make)
