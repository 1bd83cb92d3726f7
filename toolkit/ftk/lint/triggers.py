"""Which rows a text rule needs to look at: one multi-pattern scan over a whole chunk's text.

Most text rules (API keys, e-mail addresses, template tokens, refusals …) can only fire on a row
whose text contains one of a few literal strings: every API-key format contains "sk-", "AKIA",
"xox" …; every e-mail address an "@". A rule declares those strings as its `Trigger`. Per chunk, the
rows' texts are joined into one UTF-8 buffer and every rule's strings are searched for together
with Aho-Corasick (the Rust `aho-corasick` crate via ahocorasick-rs: one pass over the bytes, about
6 µs a row of 1.5 kB for all the rules, where the per-row hints cost about 100 µs); a rule then runs on the
rows where its strings occur, and on no other. A trigger must be a necessary condition of its rule
(tested in tests/lint/test_triggers.py: with and without triggers, the findings are the same).

Three views of the text are matched, so that triggers stay plain strings:
- "text": the UTF-8 bytes as they are;
- "lower": ASCII letters lower-cased (for case-insensitive rules; a rule whose pattern is
  case-insensitive in Unicode, where e.g. "K" (Kelvin) matches "k", also sets `non_ascii`);
- "digits": every ASCII digit turned into "0" (a phone number's shape: "000-0").
All three are found in one scan, of one folded copy of the bytes (ASCII letters lower-cased and
digits turned into "0": whatever one of the views matches, the folded bytes match folded); each
match is then checked against its own view of the bytes it covers. Matches are few (a handful a
chunk), so the check costs nothing, and one scan of one copy costs half of a scan per view.
`non_ascii=True` also runs the rule on every row with a non-ASCII character (for rules about
non-ASCII text, and for those whose Unicode semantics the ASCII strings cannot cover).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

VIEWS = ("text", "lower", "digits")
DIGITS_TO_0 = bytes.maketrans(b"123456789", b"000000000")  # the "digits" view: every ASCII digit a 0
# The folded bytes all views are found in: ASCII letters lower-cased, digits 1-9 turned into "0".
FOLD = bytes(c + 32 if 65 <= c <= 90 else 48 if 49 <= c <= 57 else c for c in range(256))
SEPARATOR = b"\n"  # between turns and rows; no trigger string contains it, so no match spans two rows


@dataclass(frozen=True, slots=True)
class Trigger:
    strings: tuple[str, ...] = ()
    view: str = "text"
    non_ascii: bool = False

    def __post_init__(self):
        if self.view not in VIEWS:
            raise ValueError(f"unknown trigger view {self.view!r}")
        if any("\n" in s or not s for s in self.strings):
            raise ValueError("trigger strings must be non-empty and hold no newline")
        if self.view != "text" and not all(s.isascii() for s in self.strings):
            raise ValueError("the lower and digits views only take ASCII strings")


def _view(data: bytes, view: str) -> bytes:
    if view == "lower":
        return data.lower()  # ASCII letters only: lengths and offsets stay as they are
    if view == "digits":
        return data.translate(DIGITS_TO_0)
    return data


@numba.njit(cache=True, nogil=True)
def _fold(data, table):
    """bytes.translate(FOLD) into a numpy buffer: compiled, about 0.7 ns a byte where translate
    takes 1.6 (a chunk is 2 MB)."""
    out = np.empty(len(data), np.uint8)
    for i in range(len(data)):
        out[i] = table[data[i]]
    return out


_FOLD_TABLE = np.frombuffer(FOLD, dtype=np.uint8)


class TriggerScan:
    """The automaton for a set of rules' triggers, built once and used for every chunk."""

    def __init__(self, triggers: dict[str, Trigger]):
        import ahocorasick_rs

        self.triggers = triggers
        # Per folded pattern: the (view, pattern in that view, rule) it stands for.
        owners: dict[bytes, list[tuple[str, bytes, str]]] = {}
        for code, trig in triggers.items():
            for s in trig.strings:
                pattern = s.encode("utf-8")
                owners.setdefault(pattern.translate(FOLD), []).append((trig.view, pattern, code))
        self.owners = list(owners.values())
        # A DFA: about 2 ns a byte whatever the patterns; the default (a non-contiguous NFA, chosen
        # for its smaller build) takes 5x that on chat text with these hundred patterns.
        self.automaton = ahocorasick_rs.BytesAhoCorasick(
            list(owners), implementation=ahocorasick_rs.Implementation.DFA) if owners else None
        self.non_ascii_codes = [code for code, trig in triggers.items() if trig.non_ascii]

    def rows(self, texts: list[bytes]) -> dict[str, set[int]]:
        """For each rule, the indexes of the texts (one per row) it must look at."""
        ends = np.cumsum(np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))) - 1
        wide = np.fromiter((not t.isascii() for t in texts), dtype=bool, count=len(texts))
        return self.rows_in(SEPARATOR.join(texts) + SEPARATOR, ends, wide)

    def rows_in(self, data: bytes, ends: np.ndarray, wide: np.ndarray) -> dict[str, set[int]]:
        """rows() for texts already laid out in one buffer, each followed by a SEPARATOR: text i
        ends at ends[i] (the separator's offset; ends are non-decreasing, an empty text ends where
        the one before it did), wide[i] whether it has a non-ASCII character."""
        out: dict[str, set[int]] = {code: set() for code in self.triggers}
        if not len(ends):
            return out
        if self.automaton is not None:
            matches = self.automaton.find_matches_as_indexes(_fold(np.frombuffer(data, dtype=np.uint8), _FOLD_TABLE),
                                                             overlapping=True)
            if matches:
                # A match holds no separator, so it lies in the text whose end is the first after its start.
                found = np.array(matches, dtype=np.int64)
                rows = np.searchsorted(ends, found[:, 1], side="right").tolist()
                for (index, start, end), row in zip(matches, rows):
                    for view, pattern, code in self.owners[index]:
                        if row not in out[code] and _view(data[start:end], view) == pattern:
                            out[code].add(row)
        if self.non_ascii_codes and wide.any():
            at = set(np.flatnonzero(wide).tolist())
            for code in self.non_ascii_codes:
                out[code] |= at
        return out
