"""Which rows a text rule needs to look at: one multi-pattern scan over a whole chunk's text.

Most text rules (API keys, e-mail addresses, template tokens, refusals …) can only fire on a row
whose text contains one of a few literal strings: every API-key format contains "sk-", "AKIA",
"xox" …; every e-mail address an "@". A rule declares those strings as its `Trigger`. Per chunk, the
rows' texts are joined into one UTF-8 buffer and every rule's strings are searched for together
with Aho-Corasick (the Rust `aho-corasick` crate via ahocorasick-rs: one pass over the bytes, about
3 µs a row for all the rules, where the per-row hints cost about 100 µs); a rule then runs on the
rows where its strings occur, and on no other. A trigger must be a necessary condition of its rule
(tested in tests/lint/test_triggers.py: with and without triggers, the findings are the same).

Three views of the text are searched, so that triggers stay plain strings:
- "text": the UTF-8 bytes as they are;
- "lower": ASCII letters lower-cased (for case-insensitive rules; a rule whose pattern is
  case-insensitive in Unicode, where e.g. "K" (Kelvin) matches "k", also sets `non_ascii`);
- "digits": every ASCII digit turned into "0" (a phone number's shape: "000-0").
`non_ascii=True` also runs the rule on every row with a non-ASCII character (for rules about
non-ASCII text, and for those whose Unicode semantics the ASCII strings cannot cover).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

VIEWS = ("text", "lower", "digits")
DIGITS_TO_0 = bytes.maketrans(b"123456789", b"000000000")  # the "digits" view: every ASCII digit a 0
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


class TriggerScan:
    """The automata for a set of rules' triggers, built once and used for every chunk."""

    def __init__(self, triggers: dict[str, Trigger]):
        import ahocorasick_rs

        self.triggers = triggers
        self.automata = {}  # view -> (automaton, codes of each pattern)
        for view in VIEWS:
            owners: dict[bytes, list[str]] = {}
            for code, trig in triggers.items():
                if trig.view == view:
                    for s in trig.strings:
                        owners.setdefault(s.encode("utf-8"), []).append(code)
            if owners:
                patterns = list(owners)
                self.automata[view] = (ahocorasick_rs.BytesAhoCorasick(patterns), [owners[p] for p in patterns])
        self.non_ascii_codes = [code for code, trig in triggers.items() if trig.non_ascii]

    def rows(self, texts: list[bytes]) -> dict[str, set[int]]:
        """For each rule, the indexes of the texts (one per row) it must look at."""
        out: dict[str, set[int]] = {code: set() for code in self.triggers}
        if not texts:
            return out
        data = SEPARATOR.join(texts)
        # ends[i]: offset of the separator after text i; a match starting before it is in text i.
        ends = np.cumsum(np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))) - 1
        for view, (automaton, owners) in self.automata.items():
            matches = automaton.find_matches_as_indexes(_view(data, view), overlapping=True)
            if not matches:
                continue
            found = np.array(matches, dtype=np.int64)
            rows = np.searchsorted(ends, found[:, 1], side="right")
            for pattern, row in set(zip(found[:, 0].tolist(), rows.tolist())):
                for code in owners[pattern]:
                    out[code].add(row)
        if self.non_ascii_codes and not data.isascii():
            wide = {i for i, t in enumerate(texts) if not t.isascii()}
            for code in self.non_ascii_codes:
                out[code] |= wide
        return out
