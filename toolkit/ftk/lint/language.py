"""Language identification: langdetect, with cheap answers first where the answer cannot be in doubt.

langdetect costs about 2.3 ms a text (about 0.8 with its trials compiled), far more than every other rule
together, so:
- text is cleaned (code, URLs, numbers out) and cut to its first 400 characters — langdetect
  samples n-grams anyway, and the opening is representative;
- texts with fewer than `min_chars` letters are not judged (langdetect guesses on them);
- a script that belongs to one language answers at once (kana → ja, hangul → ko, Greek → el …);
- text dense in English function words, with almost none of French, German, Spanish, Italian,
  Portuguese or Dutch ones, is English; text dense in French, German or Spanish marker words, with
  almost none of English's or a neighbour's, is that language (agreement with langdetect is
  measured in bench/lint_scale.py and bench/lint_speed.py and reported in BENCHMARKS.md);
- answers are cached by cleaned text, so repeated texts are judged once;
- `detect_many` takes a chunk of texts and gives the short and English answers for all its ASCII
  texts in one compiled pass (`_ascii_counts`): the same answers `detect` gives, without a Python
  step per word; `detect_spans` does the same for texts given as spans of a chunk's text buffer,
  cutting the plain ones (nothing for clean_text to remove) without a string per text.
Everything else goes to langdetect, seeded so runs are repeatable, with its random trials compiled
(ftk.lint.langdetect_trials: the same probabilities, about 5x faster); an answer it gives with less
than 80% probability counts as undetermined.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numba
import numpy as np

_CODE = re.compile(r"```.*?(?:```|$)|`[^`\n]*`", re.DOTALL)
_URL = re.compile(r"https?://\S+|www\.\S+|\S+@\S+")
_NOT_LETTER = re.compile(r"[\W\d_]+")
_LETTER = re.compile(r"[^\W\d_]")
_WORDS = re.compile(r"[^\W\d_]+")  # words in any script; compared lower-cased
# Scripts written by one language only among langdetect's 55.
_SCRIPTS = [
    ("ja", re.compile(r"[\u3040-\u30ff]")),  # hiragana, katakana
    ("ko", re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")),
    ("th", re.compile(r"[\u0e00-\u0e7f]")),
    ("el", re.compile(r"[\u0370-\u03ff]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
    ("ta", re.compile(r"[\u0b80-\u0bff]")),
    ("te", re.compile(r"[\u0c00-\u0c7f]")),
    ("kn", re.compile(r"[\u0c80-\u0cff]")),
    ("ml", re.compile(r"[\u0d00-\u0d7f]")),
    ("gu", re.compile(r"[\u0a80-\u0aff]")),
    ("pa", re.compile(r"[\u0a00-\u0a7f]")),
    ("bn", re.compile(r"[\u0980-\u09ff]")),
]
# English function words that are rare as words in other Latin-script languages ...
_ENGLISH = frozenset(
    "the and of to that it for with was are this you have not from which will your what there their "
    "they would about how when been were has be by or can could should is my me we our into than then "
    "them these those some any just like want need make help please know think because where who why "
    "while if do does did so an at".split()
)
# ... and those of the Latin-script languages langdetect is most often asked to tell from English
# (fr, de, es, it, pt, nl). Words shared with English (a, in, is, on, to, do) are left out of it.
_OTHER = frozenset(
    "le la les et est une des du que qui pour dans pas sur au aux ce cette sont avec "
    "der die das und ist nicht mit ein eine zu den von sie ich es auf dem sich auch "
    "el los las y una por con para del se lo como más pero "
    "il di che non per sono della gli nel alla "
    "het een van en dat niet op zijn voor met "
    "os um não da em uma com mais".split()
)
# Words that each mark one of the Latin-script languages langdetect most often sees besides English
# (none is an English word, none is in two of the lists). A text dense in one list's words, with
# almost none of English's or another list's, is that language; agreement with langdetect is
# measured in bench/lint_scale.py and bench/lint_speed.py.
_MARKERS = {
    "fr": frozenset("le les et est une des du qui pour dans pas sur au aux cette sont avec je vous nous elle "
                    "où très être avoir fait ils leur bien peut tout sans aussi ces votre ai suis mon ma mes été ont déjà".split()),
    "de": frozenset("der die das und ist nicht mit ein eine den von sie ich auf dem sich auch wir sind wie "
                    "für oder aber noch nur werden kann nach bei einen wird haben hat bin habe mein meine dafür diesem bitte "
                    "mir mich dich einem".split()),
    "es": frozenset("el los las y una por con para del lo como más pero muy este esta son hay puede "
                    "tiene sus también cuando todo sobre entre hasta mi soy tengo estoy años".split()),
}
# Vetoes: the neighbours the three would be confused with (it, pt, nl, ca).
_NEIGHBOURS = frozenset("il di che non per sono della gli nel alla questo anche molto essere "
                        "não uma com são isso você ela também muito seu sua "
                        "het een van en dat niet op zijn voor met ook naar maar wordt "
                        "els amb és però aquest aquesta més molt".split())
MAX_CHARS = 400
MIN_PROBABILITY = 0.8
CACHE_SIZE = 200_000


# ASCII bytes that are not letters: deleting them leaves the letters to count.
_ASCII_NOT_LETTERS = bytes(c for c in range(128) if not chr(c).isalpha())


def clean_text(text: str) -> str:
    # Each pattern needs its marker in the text: testing for it first skips most texts' regex passes.
    if "`" in text:
        text = _CODE.sub(" ", text)
    if "://" in text or "www." in text or "@" in text:
        text = _URL.sub(" ", text)
    return text[:MAX_CHARS]


# ASCII letters lower-cased, every other ASCII byte a space: splitting the result gives the words
# `_WORDS` finds in ASCII text, about 10x faster than the regex (which tests Unicode classes).
_ASCII_WORD_TABLE = bytes(c + 32 if 65 <= c <= 90 else c if 97 <= c <= 122 else 32 for c in range(256))


def lower_words(text: str) -> list[str]:
    """The words of `text` (letter runs in any script), lower-cased."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_WORD_TABLE).decode("ascii").split()
    return _WORDS.findall(text.lower())


def count_letters(text: str) -> int:
    if text.isascii():
        return len(text.encode("ascii").translate(None, _ASCII_NOT_LETTERS))
    return len(_LETTER.findall(text))


class LanguageDetector:
    def __init__(self, min_chars: int = 20):
        from ftk.lint.langdetect_trials import TrialDetector

        self.trials = TrialDetector(seed=0)  # loads the 55 profiles once (≈ 1 s), not on the first row
        self.min_chars = min_chars
        self.cache: dict[int, str | None] = {}
        self.calls = {"langdetect": 0, "script": 0, "english": 0, "marker": 0, "short": 0, "cache": 0}

    def detect(self, text: str) -> str | None:
        """ISO 639-1 code (langdetect's, e.g. 'en', 'zh-cn'), or None when it cannot be told."""
        return self._detect_clean(clean_text(text))

    def detect_many(self, texts: list[str]) -> list[str | None]:
        """[detect(t) for t in texts], with the ASCII texts' short and English answers (most rows)
        found by one compiled pass over them all; the rest go through `detect`'s steps."""
        cleaned = [clean_text(t) for t in texts]
        answers: list = [False] * len(cleaned)  # False: not answered by the batch pass
        at = [i for i, t in enumerate(cleaned) if t.isascii()]
        if at:
            for i, a in zip(at, self._batch_answers(*ascii_counts([cleaned[i] for i in at]))):
                answers[i] = a
        return [self._detect_clean(t) if a is False else a for t, a in zip(cleaned, answers)]

    def detect_spans(self, raw: bytes, starts: np.ndarray, ends: np.ndarray, bounds: np.ndarray,
                     text: Callable[[int], str]) -> list[str | None]:
        """detect_many for texts laid out in a buffer: text i is the UTF-8 spans raw[starts[k]:ends[k]]
        for k in bounds[i]:bounds[i + 1], joined by newlines (`text(i)` gives it as a string). The
        texts that are ASCII without any of clean_text's markers (most rows), for which cleaning
        only cuts, are cut in one compiled pass without a string per text; the rest go through
        detect_many. The answers and the call counts are detect_many's (tested)."""
        prefixes, prefix_ends, plain = _plain_prefixes(np.frombuffer(raw, dtype=np.uint8), starts, ends, bounds, MAX_CHARS)
        answers: list = [False] * (len(bounds) - 1)
        at = np.flatnonzero(plain).tolist()
        if at:
            for i, a in zip(at, self._batch_answers(*buffer_counts(prefixes, prefix_ends[plain]))):
                answers[i] = a
            begins = np.concatenate(([0], prefix_ends[:-1])).tolist()
            for i in at:
                if answers[i] is False:
                    answers[i] = self._detect_clean(prefixes[begins[i]:prefix_ends[i]].tobytes().decode("ascii"))
        rest = np.flatnonzero(~plain).tolist()
        if rest:
            for i, a in zip(rest, self.detect_many([text(i) for i in rest])):
                answers[i] = a
        return answers

    def _batch_answers(self, letters, words, english, other) -> list:
        """Per cleaned ASCII text, from its ascii_counts: None when it is too short to judge, "en"
        when _detect's English test passes, else False (not answered here)."""
        short = letters < self.min_chars
        # _detect's English test, on the same counts (ASCII text has none of _SCRIPTS' letters).
        en = ~short & (words >= 8) & (english * 5 >= words) & (other * 50 <= words)
        self.calls["short"] += int(short.sum())
        self.calls["english"] += int(en.sum())
        out = np.full(len(short), False, dtype=object)
        out[en] = "en"
        out[short] = None
        return out.tolist()

    def _detect_clean(self, text: str) -> str | None:
        # Keyed by the text's hash, not the text: 200,000 entries then hold ~20 MB, not ~100 MB. (Two
        # different texts would have to share a 64-bit hash for an answer to be wrong.)
        key = hash(text)
        hit = self.cache.get(key, False)
        if hit is not False:
            self.calls["cache"] += 1
            return hit
        lang = self._detect(text)
        if len(self.cache) >= CACHE_SIZE:
            self.cache.clear()
        self.cache[key] = lang
        return lang

    def _detect(self, text: str) -> str | None:
        letters = count_letters(text)
        if letters < self.min_chars:
            self.calls["short"] += 1
            return None
        if not text.isascii():  # the single-language scripts are all outside ASCII
            for lang, script in _SCRIPTS:
                if len(script.findall(text)) * 2 > letters:
                    self.calls["script"] += 1
                    return lang
        words = lower_words(text)
        if len(words) >= 8:
            english = sum(map(_ENGLISH.__contains__, words))
            other = sum(map(_OTHER.__contains__, words))
            # Dense in English function words, with (almost) none of another language's: English.
            if english * 5 >= len(words) and other * 50 <= len(words):
                self.calls["english"] += 1
                return "en"
        if len(words) >= 20 and english * 10 <= len(words):
            lang = self._marked(words)
            if lang is not None:
                self.calls["marker"] += 1
                return lang
        return self.langdetect(text)

    @staticmethod
    def _marked(words: list[str]) -> str | None:
        """fr, de or es when a sixth of the words mark that language, and other languages' markers are
        at most a quarter as many."""
        counts = {lang: sum(map(marks.__contains__, words)) for lang, marks in _MARKERS.items()}
        top = max(counts, key=counts.get)
        rest = sum(counts.values()) - counts[top] + sum(map(_NEIGHBOURS.__contains__, words))
        if counts[top] * 6 >= len(words) and rest * 4 <= counts[top]:
            return top
        return None

    def langdetect(self, text: str) -> str | None:
        """langdetect's answer (seeded), from its probabilities as TrialDetector computes them."""
        self.calls["langdetect"] += 1
        ranked = self.trials.probabilities(text)
        if not ranked:  # no n-gram langdetect knows, or no language above its 10% threshold
            return None
        # On short or mixed text langdetect spreads its bet ("Tell me a joke please" is fi 0.43,
        # en 0.43): a low-confidence answer is no answer, so the rule does not flag it.
        lang, prob = ranked[0]
        return lang if prob >= MIN_PROBABILITY else None


def _word_code(word: str) -> int:
    """An ASCII word of up to 8 letters as `_ascii_counts` codes it: its bytes in a little-endian
    uint64, which is exact (no two such words share a code) and never 0."""
    return int.from_bytes(word.encode("ascii"), "little")


def _word_table(lists: list[frozenset], size: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """An open-addressing table of the words in `lists` (codes, and which list each is in, from
    1): a lookup costs a multiply and a compare or two, not a binary search."""
    codes, kinds = np.zeros(size, dtype=np.uint64), np.zeros(size, dtype=np.int64)
    for kind, words in enumerate(lists, start=1):
        for w in words:
            if not w.isascii():  # never found in ASCII text
                continue
            assert len(w) <= 8, w  # coded exactly
            slot = _slot(_word_code(w), _shift(size))
            while codes[slot] and codes[slot] != _word_code(w):
                slot = (slot + 1) % size
            codes[slot], kinds[slot] = _word_code(w), kind
    return codes, kinds


def _shift(size: int) -> int:
    """For a table of `size` slots (a power of two): a hash's top log2(size) bits pick the slot."""
    return 64 - (size.bit_length() - 1)


def _slot(code: int, shift: int) -> int:
    """Multiplicative hashing, as _ascii_counts does it: the top bits of code x 2^64/phi."""
    return ((code * 0x9E3779B97F4A7C15) % (1 << 64)) >> shift


_TABLE = _word_table([_ENGLISH, _OTHER])


def ascii_counts(texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per ASCII text: letters, words, words in _ENGLISH, words in _OTHER: what count_letters and
    lower_words give, and the two sums _detect takes over them."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    return buffer_counts(np.frombuffer("".join(texts).encode("ascii"), dtype=np.uint8), np.cumsum(lengths))


def buffer_counts(data: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """ascii_counts for ASCII texts laid end to end (text i ends at ends[i], starts where i - 1 ends)."""
    codes, kinds = _TABLE
    counts = _ascii_counts(data, ends, codes, kinds, _shift(len(codes)))
    return counts[:, 0], counts[:, 1], counts[:, 2], counts[:, 3]


@numba.njit(cache=True, nogil=True)
def _ascii_counts(data, ends, table_codes, table_kinds, shift):
    """Compiled because in Python a text costs a translate, a split and a set lookup per word (about
    15 µs a row), and here one pass over its bytes. Words are runs of ASCII letters, lower-cased; a
    word is coded as in _word_code (words longer than 8 letters are in no list) and looked up in
    _word_table's table."""
    out = np.zeros((len(ends), 4), dtype=np.int64)
    size = len(table_codes)
    shift = np.uint64(shift)
    start = 0
    for t in range(len(ends)):
        letters = words = n_english = n_other = 0
        code = np.uint64(0)
        length = 0
        for p in range(start, ends[t] + 1):
            c = np.int64(data[p]) if p < ends[t] else 32  # a space after the text ends its last word
            if 65 <= c <= 90:
                c += 32
            if 97 <= c <= 122:
                if length < 8:
                    code |= np.uint64(c) << np.uint64(8 * length)
                length += 1
                letters += 1
            elif length:
                words += 1
                if length <= 8:
                    slot = (code * np.uint64(0x9E3779B97F4A7C15)) >> shift
                    while table_codes[slot] != 0 and table_codes[slot] != code:
                        slot = (slot + np.uint64(1)) % np.uint64(size)
                    if table_codes[slot] == code:
                        n_english += table_kinds[slot] == 1
                        n_other += table_kinds[slot] == 2
                code = np.uint64(0)
                length = 0
        out[t, 0], out[t, 1], out[t, 2], out[t, 3] = letters, words, n_english, n_other
        start = ends[t]
    return out


_MARKER_START = np.zeros(256, dtype=np.bool_)
_MARKER_START[[ord("`"), ord("@"), ord(":"), ord("w"), *range(128, 256)]] = True


@numba.njit(cache=True, nogil=True)
def _plain_prefixes(raw, starts, ends, bounds, limit):
    """For detect_spans, per text (spans bounds[i]:bounds[i + 1] of raw, joined by newlines):
    whether it is plain (ASCII, and none of "`", "@", "://", "www." in it: clean_text then only
    cuts it) and, for plain texts, its first `limit` bytes, end to end. Compiled: one pass over
    the bytes, where joining, clean_text's searches and the cut cost about 5 µs a lint row."""
    n = len(bounds) - 1
    out = np.empty(n * limit + 1, np.uint8)
    out_ends = np.empty(n, np.int64)
    plain = np.ones(n, np.bool_)
    w = 0
    for i in range(n):
        begin = w
        for k in range(bounds[i], bounds[i + 1]):
            a, b = starts[k], ends[k]
            if k > bounds[i] and w - begin < limit:
                out[w] = 10
                w += 1
            copy = min(b - a, limit - (w - begin))  # the span's bytes that still fit under the cut
            out[w:w + copy] = raw[a:a + copy]
            w += copy
            for p in range(a, b):  # most bytes start no marker: one lookup each
                c = raw[p]
                if _MARKER_START[c] and (
                        c >= 128 or c == 96 or c == 64
                        or (c == 58 and p + 2 < b and raw[p + 1] == 47 and raw[p + 2] == 47)
                        or (c == 119 and p + 3 < b and raw[p + 1] == 119 and raw[p + 2] == 119 and raw[p + 3] == 46)):
                    plain[i] = False
                    break
            if not plain[i]:
                break
        if not plain[i]:
            w = begin
        out_ends[i] = w
    return out[:w], out_ends, plain
