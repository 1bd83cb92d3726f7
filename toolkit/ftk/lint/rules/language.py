"""FTK6xx — language of the text users train on (user and assistant turns, or `text`)."""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterator

import numpy as np

from ftk.data.formats import Example
from ftk.lint.features import rows_table
from ftk.lint.language import LanguageDetector
from ftk.lint.registry import DatasetRule, Finding, Location, LocationTable, Severity, dataset_rule, pack_locations

TRAINED_ROLES = ("user", "assistant", "text")


@dataset_rule(
    ("FTK601", "unexpected-language", Severity.WARNING, "Row is not in the expected language",
     """
     What it does: identifies the language of each row's user and assistant text (langdetect,
     seeded) and flags rows not in `--lang` (a comma-separated list of ISO 639-1 codes such as
     `en,fr`) or, without it, not in the dataset's dominant language. Rows with fewer than 20
     letters, or that langdetect places with less than 80% probability, are not judged. The
     report shows the distribution.
     Why it matters: a few off-language rows in a monolingual set make the model switch language
     mid-answer; often they are scraping or translation errors.
     Example: a German answer in an English instruction set.
     Use instead: translate or drop the row, or declare the languages you train with `--lang`.
     """),
)
class UnexpectedLanguage(DatasetRule):
    def __init__(self, options, selected):
        super().__init__(options, selected)
        self.detector = LanguageDetector(options.min_language_chars)
        self.locs = LocationTable()  # the judged rows
        self.langs: dict[str, int] = {}
        self.row_lang = array("H")  # per judged row: language index
        self.undetermined = 0  # too short, or no confident answer
        self.calls: Counter = Counter()

    def map(self, rows: list[tuple[Location, Example]]) -> tuple:
        before = Counter(self.detector.calls)
        judged, langs, undetermined = [], [], 0
        # Each row's trained turns, joined by newlines: spans of the chunk's TextTable.
        table = rows_table(rows)
        trained = table.role_mask(TRAINED_ROLES)
        bounds = np.zeros(table.size + 1, dtype=np.int64)
        np.cumsum(np.bincount(table.row_of_turn()[trained], minlength=table.size), out=bounds[1:])
        trained_at = np.flatnonzero(trained)

        def text(i: int) -> str:
            return "\n".join([table.turns[k].content for k in trained_at[bounds[i]:bounds[i + 1]].tolist()])

        found = self.detector.detect_spans(table.raw, table.raw_starts[trained], table.raw_ends[trained], bounds, text)
        for (loc, _), lang in zip(rows, found):
            if lang is None:
                undetermined += 1
            else:
                judged.append(loc)
                langs.append(lang)
        calls = Counter(self.detector.calls)
        calls.subtract(before)
        return pack_locations(judged), langs, undetermined, calls

    def reduce(self, part: tuple) -> None:
        packed, langs, undetermined, calls = part
        self.locs.extend(packed)
        self.row_lang.extend(self.langs.setdefault(lang, len(self.langs)) for lang in langs)
        self.undetermined += undetermined
        self.calls.update(calls)

    def distribution(self) -> Counter:
        names = list(self.langs)
        return Counter({names[i]: n for i, n in Counter(self.row_lang).items()})

    def expected(self) -> tuple[set[str], str]:
        if self.options.langs:
            return set(self.options.langs), "--lang"
        top = self.distribution().most_common(1)
        return ({top[0][0]} if top else set()), "the dominant language"

    def finish(self) -> Iterator[Finding]:
        expected, why = self.expected()
        names = list(self.langs)
        # `--lang zh` accepts langdetect's zh-cn and zh-tw.
        wanted = {i for i, lang in enumerate(names) if lang in expected or lang.split("-")[0] in expected}
        shown = ",".join(sorted(expected))
        for i, li in enumerate(self.row_lang):
            if li not in wanted:
                yield Finding("FTK601", self.locs[i], None, f"language '{names[li]}', expected {shown} ({why})")

    def stats(self) -> dict:
        return {"language": {"distribution": dict(self.distribution().most_common()),
                             "undetermined": self.undetermined, "expected": sorted(self.expected()[0]),
                             "detector_calls": {k: self.calls.get(k, 0) for k in self.detector.calls}}}
