"""Is one prompt a rewording of another? FTK204's word-by-word test for prompt pairs whose
shingles differ too much for the Jaccard test: one changed word in a 13-word prompt leaves a word
3-gram Jaccard of 0.57, far below FTK204's 0.85 (see ftk.lint.rules.near_duplicates).

`quick_words` + `could_be_rewording` are a cheap test of a pair's shape; `prompt_tokens` +
`rewording` the full one, which also looks at what the changed words are.
"""

from __future__ import annotations

from ftk.data.formats import Turn
from ftk.lint.near_dup import WORD, words_of

LEAD_MAX_WORDS = 4  # a leading clause ("Quick question:", "Sorry to bother you,") ...
LEAD_MIN_SHARED = 4  # ... in front of at least this many unchanged words
SWAP_MAX_WORDS = 3  # one word for a phrase of at most this many ("why" / "how come") ...
SWAP_MIN_SHARED = 12  # ... with at least this many words unchanged around it
_QUOTES = "\"'`\u2018\u201c\u00ab"


def prompt_tokens(turns: list[Turn]) -> list[tuple[str, bool, bool]]:
    """A prompt's words in order, for `rewording`: (word case-folded, names something specific,
    ends a clause). Specific: has a digit, is quoted, or is capitalised inside a sentence (a name:
    "Python", "Paris", "Monday"). Each turn starts with a marker of its role, so that an edit is
    never read across two turns."""
    out = []
    for turn in turns:
        out.append(("\x00" + turn.role, True, False))
        text = " ".join(turn.content.split())
        for m in WORD.finditer(text):
            w, i = m.group(), m.start()
            before = text[i - 2] if i >= 2 and text[i - 1] == " " else (text[i - 1] if i else "")
            after = text[m.end():m.end() + 1]
            quoted = before != "" and before in _QUOTES
            name = w[0].isupper() and w != "I" and before != "" and before not in ".!?:;"
            specific = quoted or name or any(c.isdigit() for c in w)
            out.append((w.casefold(), specific, after != "" and after in ",.:;!?"))
    return out


def rewording(a: list[tuple[str, bool, bool]], b: list[tuple[str, bool, bool]]) -> tuple[str, str] | None:
    """(a's words, b's words) where two prompts (`prompt_tokens`) differ, when they differ only in
    one of the ways a question is reworded without changing what it asks; else None:

    - a leading clause of at most LEAD_MAX_WORDS words, ending in punctuation, in front of a user
      turn ("Quick question: what is ..." / "What is ...");
    - one word swapped for a word or a short phrase ("recommend" / "suggest", "why" / "how come"),
      with at least SWAP_MIN_SHARED words unchanged: in a short question one word is often the
      whole point ("... of a stable meeting?" / "... of a stable backpack?"), in a long one the
      words around it pin the question down.

    Never when a changed word names something specific (a number, a name, a quoted word): "reverse
    a string in Python" / "... in JavaScript" are two questions."""
    p, s = common_ends([w for w, _, _ in a], [w for w, _, _ in b])
    da, db = a[p:len(a) - s], b[p:len(b) - s]
    if not da and not db or any(specific for _, specific, _ in da + db):  # markers are "specific" too
        return None
    shared = len(a) - len(da) - sum(w.startswith("\x00") for w, _, _ in a)
    if not da or not db:
        extra = da or db
        leading = a[p - 1][0] == "\x00user"  # p >= 1: the first turns' markers matched
        if len(extra) <= LEAD_MAX_WORDS and leading and extra[-1][2] and shared >= LEAD_MIN_SHARED:
            return " ".join(w for w, _, _ in da), " ".join(w for w, _, _ in db)
        return None
    if min(len(da), len(db)) == 1 and max(len(da), len(db)) <= SWAP_MAX_WORDS and shared >= SWAP_MIN_SHARED:
        return " ".join(w for w, _, _ in da), " ".join(w for w, _, _ in db)
    return None


def quick_words(turns: list[Turn]) -> list[str]:
    """The prompt's words, case-folded, each turn after a marker of its role (for could_be_rewording)."""
    out = []
    for turn in turns:
        out.append("\x00" + turn.role)
        out += words_of(turn.content.casefold())
    return out


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
    """A quick test on quick_words that `rewording` could accept the pair (its shape, not its words)."""
    if abs(len(a) - len(b)) > max(LEAD_MAX_WORDS, SWAP_MAX_WORDS - 1):
        return False
    p, s = common_ends(a, b)
    da, db = len(a) - p - s, len(b) - p - s
    if not da or not db:
        return 0 < da + db <= LEAD_MAX_WORDS
    return min(da, db) == 1 and max(da, db) <= SWAP_MAX_WORDS
