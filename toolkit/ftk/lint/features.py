"""Per-example values that several rules need — normalised text, the exact-match keys, shingles,
13-gram hashes — computed once and shared, so that the duplicate, near-duplicate and leakage rules
do not each normalise and hash the same text. A chunk's texts are normalised and hashed together
(TextTable, through compiled loops); values of single turns are memoised on the example
(`Example.memo`).

Normalisation for matching: Unicode NFC, control characters out, whitespace runs collapsed,
case folded.
"""

from __future__ import annotations

import unicodedata
import zlib
from array import array
from dataclasses import dataclass
from functools import lru_cache

import numba
import numpy as np

from ftk.data.formats import Example, Format, Turn
from ftk.lint.near_dup import (
    buffer_shingles,
    ngram_hashes,
    sets_of,
    shingle_form,
    sorted_unique,
    split_runs,
    text_features,
    union_sets,
)
from ftk.lint.registry import Location, pack_locations

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
    newline and carriage return: then normalising moves no word boundary). For one text; a chunk's
    ASCII texts are normalised together by _fold_ascii, which gives the same."""
    if s.isascii():
        b = s.encode("ascii").translate(_ASCII_FOLD, _ASCII_CONTROL)
        plain = len(b) == len(s)  # nothing deleted
        while b"  " in b:  # most texts: not once or twice
            b = b.replace(b"  ", b" ")
        return b.strip(b" ").decode("ascii"), plain
    return " ".join(unicodedata.normalize("NFC", s).translate(_DROP_CONTROL).split()).casefold(), False


# Per ASCII byte, what normalising does with it: 0 delete (a control character), 1 a space (tab,
# newline, carriage return, space), else the byte it becomes (letters lower-cased).
_ASCII_OUT = np.array([1 if c in b" \t\n\r" else 0 if c in _ASCII_CONTROL else _ASCII_FOLD[c] for c in range(128)],
                      dtype=np.uint8)


@numba.njit(cache=True, nogil=True)
def _fold_ascii(data, starts, ends, table):
    """_normalise for many ASCII texts of one buffer (text i is data[starts[i]:ends[i]]) in one
    pass: each text's words (runs of bytes that are neither whitespace nor deleted) lower-cased
    and joined by one space. Returns the normalised texts end to end, their bounds, and whether
    each was plain (nothing deleted).

    Written by hand because _normalise's steps (encode, translate, replace until no double space
    is left, strip, decode) cost about 6 µs a turn, mostly per call, and a lint row has three."""
    n = len(starts)
    size = 0
    for t in range(n):
        size += ends[t] - starts[t]
    out = np.empty(size, np.uint8)
    out_bounds = np.empty(n + 1, np.int64)
    plain = np.ones(n, np.bool_)
    w = 0
    out_bounds[0] = 0
    for t in range(n):
        start, space = w, False
        for i in range(starts[t], ends[t]):
            c = table[data[i]]
            if c > 1:
                if space and w > start:
                    out[w] = 32
                    w += 1
                space = False
                out[w] = c
                w += 1
            elif c == 1:
                space = True
            else:
                plain[t] = False
        out_bounds[t + 1] = w
    return out[:w], out_bounds, plain


# A turn's digest, and keys made of digests: MurmurHash64A's mixing steps (8 bytes at a time). A
# hash here only has to tell texts apart within one run; compiled, a chunk's texts are hashed in
# one call instead of one XXH3 call per turn.
_M64 = np.uint64(0xC6A4A7935BD1E995)
_R64 = np.uint64(47)


@numba.njit(inline="always")
def _mix64(h, k):
    k = k * _M64
    k ^= k >> _R64
    k = k * _M64
    return (h ^ k) * _M64


@numba.njit(inline="always")
def _final64(h):
    h ^= h >> _R64
    h = h * _M64
    return h ^ (h >> _R64)


@numba.njit(cache=True, nogil=True)
def _digests(data, starts, ends, seeds):
    """64-bit hash of each data[starts[i]:ends[i]], seeded with seeds[i]."""
    out = np.empty(len(starts), np.uint64)
    for t in range(len(starts)):
        a, b = starts[t], ends[t]
        h = np.uint64(seeds[t]) ^ (np.uint64(b - a) * _M64)
        i = a
        while i < b:
            k = np.uint64(0)
            for j in range(min(8, b - i)):
                k |= np.uint64(data[i + j]) << np.uint64(8 * j)
            h = _mix64(h, k)
            i += 8
        out[t] = _final64(h)
    return out


@numba.njit(cache=True, nogil=True)
def _row_keys(digests, turn_starts, sizes):
    """Per example: a hash of its part sizes (turns, chosen + 1, rejected + 1; 0: no such part) and
    of the digests of all its turns, in order."""
    n = len(turn_starts) - 1
    out = np.empty(n, np.uint64)
    for i in range(n):
        h = np.uint64(turn_starts[i + 1] - turn_starts[i]) * _M64
        for j in range(3):
            h = _mix64(h, np.uint64(sizes[i, j]))
        for k in range(turn_starts[i], turn_starts[i + 1]):
            h = _mix64(h, digests[k])
        out[i] = _final64(h)
    return out


@numba.njit(cache=True, nogil=True)
def _part_keys(digests, roles, turn_starts, prompt_len, response_at):
    """Per example, for the prompt (its first prompt_len turns) and the response (turn response_at,
    -1: none): whether it has both and a user turn in the prompt; the prompt's key, the response's,
    and the key of the prompt without system turns ("asked"); and per turn, whether it is asked.
    roles: 1 system, 2 user, 0 anything else."""
    n = len(turn_starts) - 1
    ok = np.zeros(n, np.bool_)
    prompt_key = np.zeros(n, np.uint64)
    response_key = np.zeros(n, np.uint64)
    asked_key = np.zeros(n, np.uint64)
    asked = np.zeros(len(digests), np.bool_)
    for i in range(n):
        s = turn_starts[i]
        user = False
        for k in range(s, s + prompt_len[i]):
            user |= roles[k] == 2
        if response_at[i] < 0 or not user:
            continue
        ok[i] = True
        h = np.uint64(prompt_len[i]) * _M64
        a, count = np.uint64(0), 0
        for k in range(s, s + prompt_len[i]):
            h = _mix64(h, digests[k])
            if roles[k] != 1:
                a = _mix64(a, digests[k])
                asked[k] = True
                count += 1
        prompt_key[i] = _final64(h)
        asked_key[i] = _final64(a ^ (np.uint64(count) * _M64))
        response_key[i] = _final64(_mix64(_M64, digests[s + response_at[i]]))
    return ok, prompt_key, response_key, asked_key, asked


_ROLE_CODES = {"system": 1, "user": 2}


class TextTable:
    """Every turn of a list of examples (`whole` of each, end to end) as one buffer, built once for
    a chunk of rows and shared by the row checks and the rules' maps (text_table):

    - as written (`raw`): the turns' UTF-8 bytes (lone surrogates kept), each followed by a
      newline, turn k at raw[raw_starts[k]:raw_ends[k]]: what the trigger scan searches and the
      language rule reads, without a join of its own;
    - normalised and hashed (computed on first use): the normalised texts (UTF-8, end to end),
      whether each is plain, each turn's digest (of its role and normalised text), and from those
      the row, prompt and response keys of each example. The ASCII texts go through compiled loops
      a chunk at a time; the others are normalised one by one (_normalise). A turn's values do not
      depend on the others in the table.

    Holds no reference to the examples (the examples' memos point to it), so no reference cycle
    keeps a chunk alive."""

    def __init__(self, examples: list[Example]):
        self.size = len(examples)
        wholes = [whole(ex) for ex in examples]
        self.turns = [t for turns in wholes for t in turns]
        self.turn_starts = np.zeros(len(examples) + 1, dtype=np.int64)
        np.cumsum([len(turns) for turns in wholes], out=self.turn_starts[1:])
        self.sizes = np.array([(len(ex.turns), 0 if ex.chosen is None else len(ex.chosen) + 1,
                                0 if ex.rejected is None else len(ex.rejected) + 1) for ex in examples],
                              dtype=np.int64).reshape(-1, 3)
        roles = [t.role for t in self.turns]
        index: dict[str, int] = {}
        # Per turn, its role as an index into role_names (the roles in order of first appearance).
        self.role_codes = np.fromiter((index.setdefault(r, len(index)) for r in roles), dtype=np.int64, count=len(roles))
        self.role_names = list(index)
        self.salts = [role_salt(r) for r in roles]
        contents = [t.content for t in self.turns]
        self.ascii = np.fromiter(map(str.isascii, contents), dtype=bool, count=len(contents))  # O(1) a string
        self.char_lengths = np.fromiter(map(len, contents), dtype=np.int64, count=len(contents))
        lengths = self.char_lengths.copy()  # in bytes, once the wide turns are encoded
        # The runs of ASCII turns joined and encoded as they are (one C pass each), the other turns
        # one by one: joined with them, one wide turn would make the whole chunk a wide string,
        # three times as slow to join and encode.
        segments, run = [], 0
        for k in np.flatnonzero(~self.ascii).tolist():
            if k > run:
                segments.append("\n".join(contents[run:k]).encode("ascii"))
            segments.append(contents[k].encode("utf-8", "surrogatepass"))
            lengths[k] = len(segments[-1])
            run = k + 1
        if run < len(contents) or not contents:
            segments.append("\n".join(contents[run:]).encode("ascii"))
        self.raw = b"\n".join(segments) + b"\n"
        self.raw_ends = np.cumsum(lengths + 1) - 1  # where the newline after each turn is
        self.raw_starts = self.raw_ends - lengths
        self._normalised: tuple | None = None
        self._shapes: tuple | None = None
        self._texts: list[str] | None = None
        self._row_keys: np.ndarray | None = None
        self._part_keys: tuple | None = None
        self._positions = [_prompt_positions(ex) for ex in examples]

    def row_of_turn(self) -> np.ndarray:
        """Per turn, the example it is from."""
        return np.repeat(np.arange(self.size), np.diff(self.turn_starts))

    def role_mask(self, roles) -> np.ndarray:
        """Per turn, whether its role is one of `roles`."""
        return np.array([r in roles for r in self.role_names], dtype=bool)[self.role_codes]

    def shapes(self) -> tuple[np.ndarray, list[tuple[str, ...]], np.ndarray]:
        """The examples' role sequences (of all their turns), each distinct one once: (per example,
        its sequence's index; the sequences; per turn, its position in its example). A grid of
        role codes sorted row-wise, not a tuple a row."""
        if self._shapes is None:
            counts = np.diff(self.turn_starts)
            position = np.arange(len(self.turns)) - np.repeat(self.turn_starts[:-1], counts)
            width = int(counts.max()) if self.size else 0
            base = len(self.role_names) + 1
            if base ** width <= 2**53:  # nearly always: a row's roles are the digits of one integer
                # (summed in float64 by bincount: exact below 2^53). Digit 0: past the row's last turn.
                digits = (self.role_codes + 1) * base ** position
                keys = np.bincount(self.row_of_turn(), weights=digits, minlength=self.size).astype(np.int64)
                distinct, shape_of = np.unique(keys, return_inverse=True)
                grid = (distinct[:, None] // base ** np.arange(width)) % base
            else:
                grid = np.zeros((self.size, width), dtype=np.int64)
                grid[self.row_of_turn(), position] = self.role_codes + 1  # 0: past the example's last turn
                grid, shape_of = np.unique(grid, axis=0, return_inverse=True)
            names = self.role_names
            sequences = [tuple(names[c - 1] for c in row if c) for row in grid.tolist()]
            self._shapes = shape_of.reshape(-1), sequences, position
        return self._shapes

    def row_ends(self) -> np.ndarray:
        """Per example, where the newline after its last turn is in `raw` (its first turn starts
        after the previous example's; an example with no turns ends where the previous one did,
        -1 for the first)."""
        last = self.turn_starts[1:] - 1
        return np.where(last >= 0, self.raw_ends[np.maximum(last, 0)], -1)

    def _normalise_all(self) -> tuple:
        """(data, starts, ends, plain, digests): see the class notes."""
        if self._normalised is None:
            ascii_at = np.flatnonzero(self.ascii)
            folded, out_bounds, ascii_plain = _fold_ascii(np.frombuffer(self.raw, dtype=np.uint8),
                                                          self.raw_starts[ascii_at], self.raw_ends[ascii_at], _ASCII_OUT)
            # The others after the ASCII ones in the same buffer, each normalised by itself.
            others = [_normalise(self.turns[k].content)[0].encode("utf-8", "surrogatepass")
                      for k in np.flatnonzero(~self.ascii).tolist()]
            other_bounds = np.cumsum([0, *map(len, others)], dtype=np.int64) + out_bounds[-1]
            data = folded.tobytes() + b"".join(others)
            n = len(self.turns)
            starts, ends = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
            starts[self.ascii], ends[self.ascii] = out_bounds[:-1], out_bounds[1:]
            starts[~self.ascii], ends[~self.ascii] = other_bounds[:-1], other_bounds[1:]
            plain = np.zeros(n, dtype=bool)
            plain[self.ascii] = ascii_plain
            digests = _digests(np.frombuffer(data, dtype=np.uint8), starts, ends, np.array(self.salts, dtype=np.uint32))
            self._normalised = data, starts, ends, plain, digests
        return self._normalised

    @property
    def data(self) -> bytes:
        """The normalised texts, UTF-8, end to end."""
        return self._normalise_all()[0]

    @property
    def starts(self) -> np.ndarray:
        return self._normalise_all()[1]

    @property
    def ends(self) -> np.ndarray:
        return self._normalise_all()[2]

    @property
    def plain(self) -> np.ndarray:
        """Per turn: ASCII without control characters but for tab, newline and carriage return."""
        return self._normalise_all()[3]

    @property
    def digests(self) -> np.ndarray:
        return self._normalise_all()[4]

    def shingle_texts(self) -> tuple[bytes, np.ndarray, np.ndarray]:
        """The texts as near_dup.buffer_shingles takes them (buffer, starts, ends): those that were
        not ASCII reduced to their words (which changes nothing for a text that became ASCII)."""
        others = np.flatnonzero(~self.ascii)
        if not others.size:
            return self.data, self.starts, self.ends
        data = self.data
        reduced = [shingle_form(data[a:b].decode("utf-8", "surrogatepass"))
                   for a, b in zip(self.starts[others].tolist(), self.ends[others].tolist())]
        ends = len(data) + np.cumsum([len(r) for r in reduced], dtype=np.int64)
        starts, new_ends = self.starts.copy(), self.ends.copy()
        starts[others], new_ends[others] = ends - [len(r) for r in reduced], ends
        return data + b"".join(reduced), starts, new_ends

    def texts(self) -> list[str]:
        """Every turn's normalised text."""
        if self._texts is None:
            data = self.data
            self._texts = [data[a:b].decode("utf-8", "surrogatepass")
                           for a, b in zip(self.starts.tolist(), self.ends.tolist())]
        return self._texts

    def row_keys(self) -> np.ndarray:
        """Per example: its identity for exact-duplicate matching (equal rows in any format share it)."""
        if self._row_keys is None:
            self._row_keys = _row_keys(self.digests, self.turn_starts, self.sizes)
        return self._row_keys

    def part_keys(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(per example: has a prompt with a user turn and a response; the prompt's key, the
        response's, the asked turns' key (the prompt without system turns); per turn: asked)."""
        if self._part_keys is None:
            roles = np.array([_ROLE_CODES.get(r, 0) for r in self.role_names], dtype=np.int8)[self.role_codes]
            prompt_len = np.array([p for p, _ in self._positions], dtype=np.int64)
            response_at = np.array([r for _, r in self._positions], dtype=np.int64)
            self._part_keys = _part_keys(self.digests, roles, self.turn_starts, prompt_len, response_at)
        return self._part_keys


def _prompt_positions(ex: Example) -> tuple[int, int]:
    """(how many turns the prompt has, the response's position in whole(ex): -1 for none), as
    Example.prompt_and_response splits the row: the prompt is always the first turns."""
    prompt, response = ex.prompt_and_response()
    if response is None:
        return len(prompt), -1
    return len(prompt), len(ex.turns) + len(ex.chosen) - 1 if ex.format is Format.DPO else len(prompt)


def text_table(examples: list[Example]) -> TextTable:
    """The TextTable of these examples: the one an earlier rule built for the same chunk, or a new one."""
    if examples:
        got = examples[0].memo.get("table")
        if got is not None and got[0].size == len(examples) \
                and all(ex.memo.get("table") == (got[0], i) for i, ex in enumerate(examples)):
            return got[0]
    table = TextTable(examples)
    for i, ex in enumerate(examples):
        ex.memo["table"] = (table, i)
    return table


class _LastRows:
    """The last chunk rows_table was asked about, its table and its packed locations."""

    rows: list | None = None
    table: TextTable | None = None
    packed: tuple | None = None


def rows_table(rows: list[tuple[object, Example]]) -> TextTable:
    """text_table of a chunk's (location, example) rows. The engine hands the row checks and every
    rule's map the same list for a chunk, so the last list asked about is known by its identity
    (and held, so that the identity cannot pass to another list): the table is found without
    looking at each example's memo, as text_table does (about 2 µs a row over five callers)."""
    table = _LastRows.table
    if _LastRows.rows is not rows or table.size != len(rows) or (
            rows and not (_in_table(rows[0][1], table, 0) and _in_table(rows[-1][1], table, len(rows) - 1))):
        table = _LastRows.table = text_table([ex for _, ex in rows])  # (the ends' checks: a list refilled)
        _LastRows.rows, _LastRows.packed = rows, None
    return table


def pack_rows(rows: list[tuple[Location, Example]]) -> tuple[list[str], array, array]:
    """pack_locations of a chunk's rows, made once for the rules that keep every row's location
    (found as rows_table finds the table): the same tuple goes back to each, and is pickled once."""
    rows_table(rows)
    if _LastRows.packed is None:
        _LastRows.packed = pack_locations(loc for loc, _ in rows)
    return _LastRows.packed


def _in_table(ex: Example, table: TextTable, i: int) -> bool:
    got = ex.memo.get("table")
    return got is not None and got[0] is table and got[1] == i


def forget_rows() -> None:
    """Let go of the last chunk rows_table held."""
    _LastRows.rows = _LastRows.table = _LastRows.packed = None


def _turn_at(ex: Example, turn: Turn) -> tuple[TextTable, int]:
    """The table that holds the example, and the turn's position in it."""
    got = ex.memo.get("table")
    if got is None:
        text_table([ex])
        got = ex.memo["table"]
    table, i = got
    first = int(table.turn_starts[i])
    for k, t in enumerate(whole(ex)):
        if t is turn:
            return table, first + k
    raise ValueError("the turn is not one of the example's")


def normalised(ex: Example, turn: Turn) -> str:
    table, k = _turn_at(ex, turn)
    return table.data[table.starts[k]:table.ends[k]].decode("utf-8", "surrogatepass")


def whole(ex: Example) -> list[Turn]:
    """Every turn of the row: the conversation, then chosen and rejected responses."""
    return ex.all_turns()


def row_key(ex: Example) -> int:
    """Identity of a row for exact-duplicate matching: equal rows in any format share it."""
    table, i = ex.memo.get("table") or (text_table([ex]), 0)
    return int(table.row_keys()[i])


def _memo(ex: Example, key, make):
    value = ex.memo.get(key)
    if value is None:
        value = ex.memo[key] = make()
    return value


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
    if unread := [ex for ex in examples if "table" not in ex.memo]:
        text_table(unread)  # their texts normalised together, not in a table each
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


def flat_shingles(table: TextTable, in_part: np.ndarray, has_part: np.ndarray) -> ChunkShingles:
    """The shingles of each example's turns, and of its part's turns (`in_part`: per turn of the
    table; `has_part`: per example, whether it has a part), as (values, example each is from):
    repeats kept, unsorted, which is all a MinHash signature needs (Signer.signatures_of) and
    spares the sorts that sets cost. Each turn is hashed once.

    Also the parts' words (32-bit hashes of the normalised words, in order, with each turn's role
    salt in front of it, as rewording.PromptWords lays words out) and how many there are, where
    that count on the normalised text is exact: every part turn ASCII without control characters
    (normalising then only lower-cases and collapses whitespace, which moves no word boundary,
    so equal hashes are equal words but for a 2^-32 chance); -1 elsewhere."""
    n = table.size
    word_hash, counts, values, text_of = buffer_shingles(*table.shingle_texts(), table.salts)
    text_row = np.repeat(np.arange(n, dtype=np.int64), np.diff(table.turn_starts))
    row_of, part = text_row[text_of], in_part[text_of]

    part_texts = np.flatnonzero(in_part)
    words = np.bincount(text_row[part_texts], weights=counts[part_texts], minlength=n).astype(np.int64)
    inexact = np.bincount(text_row[in_part & ~table.plain], minlength=n)
    words[(inexact > 0) | ~has_part] = -1

    # The parts' word sequences: each part text's salt, then its words.
    stretch = counts[part_texts] + 1
    sequence = np.empty(int(stretch.sum()), dtype=np.uint32)
    is_salt = np.zeros(len(sequence), dtype=bool)
    is_salt[np.cumsum(stretch) - stretch] = True
    sequence[is_salt] = np.array(table.salts, dtype=np.uint32)[part_texts]
    sequence[~is_salt] = word_hash[np.repeat(in_part, counts)]
    lengths = np.bincount(text_row[part_texts], weights=stretch, minlength=n).astype(np.int64)
    return ChunkShingles(values, row_of, values[part], row_of[part], words, sequence, lengths)


def part_mask(examples: list[Example], parts: list[list[Turn] | None]) -> tuple[np.ndarray, np.ndarray]:
    """flat_shingles' (in_part, has_part) for parts given as turn lists (each of its example's turns)."""
    wanted = [set(map(id, p or ())) for p in parts]
    in_part = np.array([id(t) in wanted[i] for i, ex in enumerate(examples) for t in whole(ex)], dtype=bool)
    return in_part, np.array([p is not None for p in parts], dtype=bool)


def shingles_of(ex: Example, turns: list[Turn]) -> np.ndarray:
    return union_sets([[turn_shingles(ex, t) for t in turns]])[0]


def shingle_sets(turn_lists: list[list[Turn]]) -> list[np.ndarray]:
    """[shingles_of(ex, turns) for each row's turns], hashed together as map() hashes a chunk: one
    TextTable of just those turns (a turn's shingles depend on its text and role alone, so each
    list can stand as a one-part example), flat_shingles, one sort."""
    table = TextTable([Example(Format.TEXT, list(turns)) for turns in turn_lists])
    got = flat_shingles(table, np.zeros(len(table.turns), dtype=bool), np.zeros(table.size, dtype=bool))
    return split_runs(*sets_of(got.values, got.row_of, table.size))


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
