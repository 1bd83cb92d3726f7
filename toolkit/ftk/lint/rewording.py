"""Is one prompt a rewording of another? FTK204's word-by-word test for prompt pairs whose
shingles differ too much for the Jaccard test: one changed word in a 13-word prompt leaves a word
3-gram Jaccard of 0.57, far below FTK204's 0.85 (see ftk.lint.rules.near_duplicates).

A prompt is read once into `PromptWords` (its case-folded words); `could_be_rewording` tests a
pair's shape on the words alone, `rewording` also looks at what the changed words are. What a word
is (a number, a name, quoted, the end of a clause) is worked out only for the few words that
differ, not for every word of every compared prompt. `could_be_reworded` says from word counts
alone (known before any prompt is re-read) whether a pair can pass at all.
"""

from __future__ import annotations

from bisect import bisect_right

import numpy as np

from ftk.data.formats import Turn
from ftk.lint.near_dup import WORD

LEAD_MAX_WORDS = 4  # a leading clause ("Quick question:", "Sorry to bother you,") ...
LEAD_MIN_SHARED = 4  # ... in front of at least this many unchanged words
SWAP_MAX_WORDS = 3  # one word for a phrase of at most this many ("why" / "how come") ...
SWAP_MIN_SHARED = 12  # ... with at least this many words unchanged around it
_QUOTES = "\"'`\u2018\u201c\u00ab"


class PromptWords:
    """A prompt's words in order, case-folded, each turn after a marker of its role ("\\x00user"),
    so that an edit is never read across two turns."""

    __slots__ = ("words", "markers", "texts", "_matches")

    def __init__(self, turns: list[Turn]):
        self.words: list[str] = []
        self.markers: list[int] = []  # where each turn's marker is in `words`
        self.texts: list[str] = []  # each turn's text, whitespace collapsed
        self._matches: dict[int, list] = {}  # per turn, its words' regex matches (made when asked)
        for turn in turns:
            text = " ".join(turn.content.split())
            self.markers.append(len(self.words))
            self.texts.append(text)
            self.words.append("\x00" + turn.role)
            # (ASCII: lower-cased first, in one pass; the same words, as casefold is lower there.)
            self.words += WORD.findall(text.lower()) if text.isascii() else [w.casefold() for w in WORD.findall(text)]

    def _match(self, k: int):
        """(turn text, regex match) of word k; None for a marker."""
        t = bisect_right(self.markers, k) - 1
        j = k - self.markers[t] - 1
        if j < 0:
            return None
        if t not in self._matches:
            self._matches[t] = list(WORD.finditer(self.texts[t]))
        return self.texts[t], self._matches[t][j]

    def specific(self, k: int) -> bool:
        """Word k names something specific: has a digit, is quoted, or is capitalised inside a
        sentence (a name: "Python", "Paris", "Monday"). Markers count as specific (never edited)."""
        found = self._match(k)
        if found is None:
            return True
        text, m = found
        w, i = m.group(), m.start()
        before = text[i - 2] if i >= 2 and text[i - 1] == " " else (text[i - 1] if i else "")
        quoted = before != "" and before in _QUOTES
        name = w[0].isupper() and w != "I" and before != "" and before not in ".!?:;"
        return quoted or name or (not w.isalpha() and any(c.isdigit() for c in w))

    def ends_clause(self, k: int) -> bool:
        found = self._match(k)
        if found is None:
            return False
        text, m = found
        after = text[m.end():m.end() + 1]
        return after != "" and after in ",.:;!?"


def rewording(a: PromptWords, b: PromptWords) -> tuple[str, str] | None:
    """(a's words, b's words) where two prompts differ, when they differ only in one of the ways a
    question is reworded without changing what it asks; else None:

    - a leading clause of at most LEAD_MAX_WORDS words, ending in punctuation, in front of a user
      turn ("Quick question: what is ..." / "What is ...");
    - one word swapped for a word or a short phrase ("recommend" / "suggest", "why" / "how come"),
      with at least SWAP_MIN_SHARED words unchanged: in a short question one word is often the
      whole point ("... of a stable meeting?" / "... of a stable backpack?"), in a long one the
      words around it pin the question down.

    Never when a changed word names something specific (a number, a name, a quoted word): "reverse
    a string in Python" / "... in JavaScript" are two questions."""
    if not could_be_rewording(a.words, b.words):
        return None
    p, s = common_ends(a.words, b.words)
    da, db = range(p, len(a.words) - s), range(p, len(b.words) - s)
    if any(a.specific(k) for k in da) or any(b.specific(k) for k in db):  # markers are "specific" too
        return None
    shared = len(a.words) - len(da) - len(a.markers)
    words = " ".join(a.words[k] for k in da), " ".join(b.words[k] for k in db)
    if not da or not db:
        longer, extra = (a, da) if da else (b, db)
        leading = a.words[p - 1] == "\x00user"  # p >= 1: the first turns' markers matched
        if leading and longer.ends_clause(extra[-1]) and shared >= LEAD_MIN_SHARED:
            return words
        return None
    return words if shared >= SWAP_MIN_SHARED else None


def common_ends(a: list[str], b: list[str]) -> tuple[int, int]:
    """Lengths of the longest common prefix and the longest common suffix after it."""
    n = min(len(a), len(b))
    p = 0
    while p < n and a[p] == b[p]:
        p += 1
    s = 0
    while s < n - p and a[-1 - s] == b[-1 - s]:
        s += 1
    return p, s


def could_be_rewording(a: list[str], b: list[str]) -> bool:
    """A quick test on two prompts' words that `rewording` could accept the pair (its shape, not
    its words): the differing words are a leading extra of up to LEAD_MAX_WORDS, or one word for up
    to SWAP_MAX_WORDS."""
    if abs(len(a) - len(b)) > max(LEAD_MAX_WORDS, SWAP_MAX_WORDS - 1):
        return False
    p, s = common_ends(a, b)
    return bool(reword_shape(len(a) - p - s, len(b) - p - s))


def reword_shape(da, db):
    """could_be_rewording's test on how many words differ in each prompt (ints, or numpy arrays of
    them for many pairs at once)."""
    lead = ((da == 0) | (db == 0)) & (0 < da + db) & (da + db <= LEAD_MAX_WORDS)
    swap = (da != 0) & (db != 0) & (np.minimum(da, db) == 1) & (np.maximum(da, db) <= SWAP_MAX_WORDS)
    return lead | swap


def could_be_reworded(words_a, words_b):
    """Whether prompts of these many words (markers not counted; ints or numpy arrays) could pass
    `rewording` at all: a leading clause adds 1 to LEAD_MAX_WORDS words to at least LEAD_MIN_SHARED;
    a swap changes the count by at most SWAP_MAX_WORDS - 1 and keeps SWAP_MIN_SHARED words, so both
    prompts have more."""
    diff, least = np.abs(words_a - words_b), np.minimum(words_a, words_b)
    lead = (1 <= diff) & (diff <= LEAD_MAX_WORDS) & (least >= LEAD_MIN_SHARED)
    swap = (diff <= SWAP_MAX_WORDS - 1) & (least > SWAP_MIN_SHARED)
    return lead | swap
