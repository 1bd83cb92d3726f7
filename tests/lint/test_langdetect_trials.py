"""TrialDetector gives langdetect's probabilities to the bit, on every kind of text it meets."""

import io
import json

import pytest
from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

from ftk.lint import langdetect_trials
from ftk.lint.langdetect_trials import TrialDetector
from ftk.lint.language import clean_text
from tests.conftest import load_bench
from tests.lint.test_language import FRENCH, GERMAN, SPANISH, _case_texts

# Scripts and mixtures the bench rows do not have: non-Latin text has its Latin words removed by
# langdetect, Vietnamese is normalised, short and mixed text spreads the probability.
OTHER_TEXTS = [
    "Привет, как дела? Это небольшой тест на русском языке, чтобы проверить детектор.",
    "这是一个中文句子，用来测试语言检测是否和原来的库完全一致。",
    "مرحبا، كيف حالك اليوم؟ هذا اختبار بسيط للغة العربية.",
    "Xin chào, bạn khỏe không? Tiếng Việt có rất nhiều dấu thanh.",
    "Γειά σου κόσμε, αυτό είναι ένα μικρό κείμενο στα ελληνικά.",
    "Tell me a joke please",
    "Καλημέρα hello world, mixed Greek and English words here",
    "Ciao, come stai? Vorrei sapere come preparare una buona pizza napoletana a casa.",
    "Olá, tudo bem? Eu gostaria de saber como fazer um bolo de chocolate simples.",
    "Hallo, hoe gaat het? Ik wil graag weten hoe ik mijn fiets kan repareren.",
    "日本語の文章です。ひらがなとカタカナと漢字が混ざっています。",
    "ABC DEF GHI JKL",  # capital words: langdetect skips their n-grams
    "x",
]


def _reference(text: str) -> list[tuple[str, float]]:
    DetectorFactory.seed = 0
    try:
        return [(lang.lang, lang.prob) for lang in detect_langs(text)]
    except LangDetectException:  # no n-gram it knows
        return []


@pytest.fixture(scope="module")
def detector():
    return TrialDetector(seed=0)


@pytest.fixture(scope="module")
def bench_texts():
    """The generated rows' trained text, cleaned as the language rule cleans it: English with
    code, and the planted French, German and Spanish rows."""
    out = io.StringIO()
    load_bench("gen_chat").generate(600, 3, out)
    texts = []
    for line in out.getvalue().splitlines():
        try:
            row = json.loads(line)
        except ValueError:  # the generator plants broken lines too
            continue
        messages = row.get("messages") if isinstance(row, dict) else None
        if isinstance(messages, list):
            text = "\n".join(m["content"] for m in messages if isinstance(m, dict) and isinstance(m.get("content"), str)
                             and m.get("role") in ("user", "assistant"))
            texts.append(clean_text(text))
    return texts


def test_probabilities_equal_langdetects_to_the_bit(detector, bench_texts):
    texts = bench_texts + [clean_text(t) for t in _case_texts()] + [FRENCH, GERMAN, SPANISH] + OTHER_TEXTS
    ours = [detector.probabilities(t) for t in texts]
    differ = [t for t, got in zip(texts, ours) if got != _reference(t)]
    assert not differ, f"{len(differ)} of {len(texts)} texts differ, e.g. {differ[0][:80]!r}"
    # The comparison covered answers of several languages.
    tops = {got[0][0] for got in ours if got}
    assert {"en", "fr", "de", "es", "ru", "ar", "el", "ja"} <= tops


def test_text_with_no_known_ngram_has_no_probabilities(detector):
    assert detector.probabilities("12345 !!! ???") == [] == _reference("12345 !!! ???")


def test_an_exhausted_random_stream_falls_back_to_langdetect(detector, monkeypatch):
    short = TrialDetector(seed=0)
    monkeypatch.setattr(short, "words", short.words[:50])  # far fewer draws than a trial needs
    assert short._trials(short.factory.create(), short._rows(["a", "b"]), short.table) is None
    assert short.probabilities(FRENCH) == _reference(FRENCH)


@pytest.mark.parametrize("values", [[0.1] * 55, [1e-300, 1.0, 1e-17, 3.0, 1e-16], [0.5, 0.25, 1e-20, 0.125]])
@pytest.mark.parametrize("compensated", [False, True])
def test_sum_is_pythons(values, compensated):
    import numpy as np

    got = langdetect_trials._sum(np.array(values), compensated)
    if compensated == langdetect_trials.COMPENSATED_SUM:  # the running Python's own sum
        assert got == sum(values)
    assert got == (_neumaier(values) if compensated else _plain(values))


def _plain(values):
    total = values[0]
    for x in values[1:]:
        total += x
    return total


def _neumaier(values):
    total, c = values[0], 0.0
    for x in values[1:]:
        t = total + x
        c += (total - t) + x if abs(total) >= abs(x) else (x - t) + total
        total = t
    return total + c if c else total
