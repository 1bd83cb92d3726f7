"""The language detector's fast paths give langdetect's answer (or none), never another one."""

import json
from pathlib import Path

import numpy as np
import pytest
from langdetect import DetectorFactory, detect
from langdetect.lang_detect_exception import LangDetectException

from ftk.data.formats import detect_format, normalise
from ftk.lint.language import LanguageDetector, clean_text, count_letters

CASES = Path(__file__).resolve().parent.parent / "cases" / "FTK601"

FRENCH = ("Bonjour, je voudrais savoir comment préparer une bonne tarte aux pommes pour le dîner de ce soir. "
          "J'ai déjà essayé deux fois, mais la pâte est toujours trop dure et les pommes ne sont pas assez cuites. "
          "Est-ce que vous avez des conseils simples pour moi ?")
GERMAN = ("Ich habe eine Frage zu meinem Garten. Die Tomaten sind in diesem Jahr sehr klein geblieben, obwohl ich "
          "sie jeden Tag gegossen habe. Kannst du mir sagen, was ich falsch mache und wie ich es besser machen kann?")
SPANISH = ("Hola, tengo una pregunta sobre mi viaje a Madrid. Quiero visitar los museos más importantes de la ciudad, "
           "pero no tengo mucho tiempo. ¿Cuáles son los que no me puedo perder y cuánto cuesta la entrada?")


def _langdetect(text: str) -> str | None:
    DetectorFactory.seed = 0
    try:
        return detect(clean_text(text))
    except LangDetectException:
        return None


def _case_texts() -> list[str]:
    texts = []
    for path in sorted(CASES.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            example = normalise(row, detect_format(row))[0]
            if example is not None:
                texts.append("\n".join(t.content for t in example.all_turns() if t.role in ("user", "assistant")))
    return texts


@pytest.mark.parametrize("text, lang", [(FRENCH, "fr"), (GERMAN, "de"), (SPANISH, "es")])
def test_marker_fast_path_answers_as_langdetect(text, lang):
    det = LanguageDetector()
    assert det.detect(text) == lang == _langdetect(text)
    assert det.calls["marker"] == 1 and det.calls["langdetect"] == 0


def test_every_fast_answer_is_langdetects():
    det = LanguageDetector()
    texts = _case_texts() + [FRENCH, GERMAN, SPANISH]
    for text in texts:
        ours = det.detect(text)
        assert ours is None or ours == _langdetect(text), text
    assert det.calls["english"] + det.calls["marker"] + det.calls["script"] > 0


def test_letter_count_matches_the_regex():
    import re

    letter = re.compile(r"[^\W\d_]")
    for text in ("Hello, world 123_x", "abc\tDEF", "", "naïve café", "a_b_c 42"):
        assert count_letters(text) == len(letter.findall(text))


def test_lower_words_ascii_path_equals_the_regex():
    """The ASCII word splitter (bytes.translate) finds exactly the words the Unicode regex finds."""
    import random

    from ftk.lint.language import _WORDS, lower_words

    rng = random.Random(0)
    alphabet = "abcXYZ _-'0129\t\n.,!?`@\x01\x7f"
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        assert lower_words(text) == _WORDS.findall(text.lower()), repr(text)
    assert lower_words("Ça va? Très BIEN_2") == ["ça", "va", "très", "bien"]  # non-ASCII: the regex


def test_ascii_counts_match_the_python_steps():
    """The compiled pass counts what count_letters, lower_words and the word lists give, text by
    text (words up to and past 8 letters, list words in any case, at text edges)."""
    import random

    from ftk.lint.language import _ENGLISH, _OTHER, ascii_counts, lower_words

    rng = random.Random(1)
    vocab = [*sorted(_ENGLISH)[:30], *[w for w in sorted(_OTHER) if w.isascii()][:30], "The", "AND", "theirs", "becauses",
             "extraordinary", "x", "q1", "o'clock", "don't", "wwwwwwwww", "ab", "abcdefgh", "abcdefghi"]
    texts = ["", " ", "the", "the and of"]
    for _ in range(500):
        n = rng.randrange(0, 40)
        texts.append("".join(rng.choice(vocab) + rng.choice([" ", ", ", "\n", "-", "3", "_", ""]) for _ in range(n)))
    letters, words, english, other = ascii_counts(texts)
    for i, text in enumerate(texts):
        w = lower_words(text)
        assert (letters[i], words[i]) == (count_letters(text), len(w)), repr(text)
        assert english[i] == sum(x in _ENGLISH for x in w) and other[i] == sum(x in _OTHER for x in w), repr(text)


def test_detect_many_answers_as_detect():
    """The batch path gives detect's answer for every text: ASCII and not, short, English, other
    languages, code and URLs cleaned first."""
    texts = _case_texts() + [FRENCH, GERMAN, SPANISH, "short one", "", "ok " * 30, "the cat and the dog of ours",
                             "the catalogue and the dogs of ours is", "the cat is on the mat and it is fine " * 4 + "avec",
                             "```python\nprint('the and of to that it')\n``` " + "the cat is on the mat and it is fine " * 3,
                             "Visit https://example.com/the/and/of/to/that for the details that you need to know about it"]
    texts = list(dict.fromkeys(texts))  # no repeats: the cache answers neither detector
    one, many = LanguageDetector(), LanguageDetector()
    assert many.detect_many(texts) == [one.detect(t) for t in texts]
    assert many.calls == one.calls  # and each answer came from the same step
    assert many.calls["english"] > 0 and many.calls["short"] > 0


def test_detect_spans_answers_as_detect_many():
    """The buffer path (texts as newline-joined spans, the plain ones cut by one compiled pass)
    gives detect_many's answers and call counts: plain texts under and over the 400-character cut
    (where the cut falls inside a span and on a joining newline), and texts with each marker
    clean_text removes (`, @, ://, www.), markers split across two spans, non-ASCII, no spans."""
    import random

    from ftk.lint.language import MAX_CHARS

    rng = random.Random(3)
    pieces = [*_case_texts(), FRENCH, GERMAN, SPANISH, "short one", "", "the cat is on the mat and it is fine " * 12,
              "see `x` and the cat", "mail me@example.com the and of", "go to https://x.org now the cat",
              "www.example.com and the dog", "ww", "w.", "https:/", "/", ":", "café and the cat " * 5, "a" * (MAX_CHARS - 1),
              "b" * MAX_CHARS, "\ud800 lone", "x:", "//y"]
    groups = [[], ["a" * MAX_CHARS, "the"], ["a" * (MAX_CHARS - 1), "the cat"], ["ww", "w.", "x"], ["x:", "//y"]]
    for _ in range(300):
        groups.append([rng.choice(pieces) for _ in range(rng.randrange(0, 4))])
    spans = [piece.encode("utf-8", "surrogatepass") for group in groups for piece in group]
    raw = b"".join(s + b"\n" for s in spans)
    ends = np.cumsum([len(s) + 1 for s in spans], dtype=np.int64) - 1
    starts = ends - [len(s) for s in spans]
    bounds = np.cumsum([0, *map(len, groups)], dtype=np.int64)
    texts = ["\n".join(group) for group in groups]
    many, spanned = LanguageDetector(), LanguageDetector()
    assert spanned.detect_spans(raw, starts, ends, bounds, texts.__getitem__) == many.detect_many(texts)
    assert spanned.calls == many.calls and many.calls["english"] > 0 and many.calls["langdetect"] > 0
