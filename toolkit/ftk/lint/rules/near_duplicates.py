"""FTK203/FTK204 — near-duplicate rows and near-identical prompts with dissimilar answers.

Two MinHash indexes run side by side: one over the whole row, one over the prompt. Pairs that are
exact duplicates (FTK201) or share the exact prompt (FTK202) are left to those rules.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ftk.data.formats import Example, Format, Turn, normalise
from ftk.data.reader import iter_some, read_at
from ftk.lint.features import flat_shingles, pack_rows, rows_table, shingle_sets, whole
from ftk.lint.near_dup import NearDuplicateIndex, Ragged, boilerplate_of, clusters, sets_of
from ftk.lint.registry import (
    DatasetRule,
    Finding,
    Fix,
    Location,
    LocationTable,
    Severity,
    dataset_rule,
)
from ftk.lint.rewording import PromptWords, could_be_reworded, could_be_rewording, reword_shape, rewording
from ftk.lint.rules.duplicates import list_lines

RELOAD_BATCH = 2048  # re-read rows hashed together
SHARE_MIN = 1000  # rows or pairs: the least worth a task of its own in a worker
VERIFY_MARGIN = 0.1  # candidates estimated this far below the threshold are still checked exactly
RESPONSE_DISSIMILAR = 0.5  # responses with a Jaccard below this to each other "disagree"
# Prompts must be closer than rows: in a short question one changed word is often the whole point
# ("reverse a string in Python" / "… in JavaScript" share 80% of their 3-grams).
PROMPT_THRESHOLD = 0.85
# Rewordings (see `rewording`) share few shingles: one word changed in a 13-word prompt leaves a
# 3-gram Jaccard of 0.57. Prompt candidates are therefore compared word by word down to this
# estimate, not the threshold. Lower finds more short rewordings but re-reads more rows, and the
# candidates grow with the square of the rows in templated data: on the quality bench 0.55 gives
# contradiction recall 0.927 (0.6: 0.912), but on 1M templated rows (bench/gen_chat.py) its final
# phase took 75 s and 2.3 GB (0.6: 68 s, 1.9 GB). BENCHMARKS.md has the figures.
REWORD_CANDIDATE = 0.6
UNCOUNTED = np.iinfo(np.uint16).max  # a prompt whose word count map() could not give exactly


REWORD_WIDTH = 48  # words compared at each end of two prompts at once; longer common ends go word by word


def may_reword(a: np.ndarray, b: np.ndarray, counts: np.ndarray, sequences: Ragged) -> np.ndarray:
    """Per pair of prompts (rows a[i], b[i]): whether `rewording` could accept it, from what map()
    kept: word counts (could_be_reworded), then the shape test (could_be_rewording) on the words'
    hashes, for all pairs at once on the first and last REWORD_WIDTH of them. Equal words have
    equal hashes, so hashes find common ends at least as long as the words' and differing
    stretches at most as long: the test passes whenever it passes on the words, except when the
    hashes leave no difference at all (a collision, or prompts that differ only in punctuation),
    which is kept too. Hence 16 bits a word suffice. Pairs with an uncounted prompt (not plain
    ASCII) are kept."""
    count_a, count_b = counts[a].astype(np.int64), counts[b].astype(np.int64)
    out = (count_a == UNCOUNTED) | (count_b == UNCOUNTED)
    test = np.flatnonzero(~out & could_be_reworded(count_a, count_b))
    if not test.size:
        return out
    rows = np.unique(np.concatenate((a[test], b[test])))
    lengths, heads, tails = sequences.ends(rows, REWORD_WIDTH)
    for start in range(0, len(test), 65536):  # bounded temporaries
        at = test[start:start + 65536]
        ia, ib = np.searchsorted(rows, a[at]), np.searchsorted(rows, b[at])
        len_a, len_b = lengths[ia], lengths[ib]
        shorter = np.minimum(len_a, len_b)
        prefix = np.minimum(_first_difference(heads, ia, ib), shorter)
        suffix = np.minimum(_first_difference(tails, ia, ib), shorter - prefix)
        same = (len_a == len_b) & (prefix == len_a)
        out[at] = same | reword_shape(len_a - prefix - suffix, len_b - prefix - suffix)
        # A common end that fills the width may go on: those pairs are tested word by word.
        longer = np.flatnonzero(((prefix == REWORD_WIDTH) & (shorter > REWORD_WIDTH))
                                | ((suffix == REWORD_WIDTH) & (shorter - prefix > REWORD_WIDTH)))
        for i in at[longer].tolist():
            words_a, words_b = sequences[int(a[i])].tolist(), sequences[int(b[i])].tolist()
            out[i] = words_a == words_b or could_be_rewording(words_a, words_b)
    return out


def _first_difference(ends: np.ndarray, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """Per pair, the first place where rows ia and ib of `ends` differ (its width where none does)."""
    differ = ends.take(ia, axis=0) != ends.take(ib, axis=0)
    return np.where(differ.any(axis=1), differ.argmax(axis=1), ends.shape[1])


def rows_of(pairs) -> set[int]:
    return {i for a, b, _ in pairs for i in (a, b)}


def _differing(pairs: list[tuple[int, int, float]], keys: np.ndarray) -> list[tuple[int, int, float]]:
    """The pairs whose two rows have different exact keys."""
    return [p for p in pairs if keys[p[0]] != keys[p[1]]]


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two sets of unique values: in the two laid together and sorted, each
    shared value is next to its copy (what np.intersect1d does, without its overhead: 2x cheaper)."""
    if a.size == 0 and b.size == 0:
        return 1.0
    both = np.concatenate((a, b))
    both.sort()
    inter = int(np.count_nonzero(both[1:] == both[:-1]))
    return inter / (a.size + b.size - inter)


@dataset_rule(
    ("FTK203", "near-duplicate", Severity.WARNING, "Row is a near-duplicate of an earlier row",
     """
     What it does: compares rows by MinHash over word 3-grams (character 5-grams for short rows)
     with an LSH index, verifies each candidate pair on the exact Jaccard similarity of the two
     rows' shingles, and reports clusters of rows at or above the threshold (default 0.8): every
     row after the first, with the cluster's lines and its similarity to the first. Text shared by
     more than 20% of rows (a repeated system prompt or tool description) is discounted.
     Why it matters: near-copies (templated generations, light paraphrases, the same answer with
     another greeting) over-weight one example just as exact duplicates do, and slip past exact
     matching.
     Example: two rows that differ only in "Sure!" versus "Certainly!" at the start.
     Use instead: keep one row per cluster; `--fix --fix-near-duplicates` keeps the first.
     """, Fix.KEEP_FIRST),
    ("FTK204", "near-contradiction", Severity.WARNING, "Near-identical prompts with dissimilar responses",
     """
     What it does: finds pairs of rows whose prompts (the turns before the last answer, system
     prompts left out) are near-identical (exact Jaccard ≥ 0.85, or the near-duplicate threshold if
     higher) or one a light rewording of the other, but not identical (that is FTK202), and whose
     responses are dissimilar (exact Jaccard of their shingles below 0.5). Both similarities are
     reported. A rewording is a prompt that, word for word, differs from the other only by a
     leading clause of up to 4 words ending in punctuation ("Quick question:", "Sorry to bother
     you,") in front of at least 4 unchanged words, or by one word swapped for a word or a phrase
     of up to 3 ("recommend"/"suggest", "why"/"how come") with at least 12 words unchanged around
     it. Why: a one-word change leaves a short prompt far below 0.85 on word 3-grams, yet in a
     long prompt the words around it pin the question down; in a short question the one word is
     often the whole point, so short prompts need the 0.85. A change that involves a number, a
     quoted word or a name (capitalised inside a sentence) is never a rewording ("reverse a string
     in Python" / "in JavaScript", "I am 34" / "I am 35"). Limitation: ftk does not know synonyms,
     so a swapped common noun in a long templated prompt ("… pack in my suitcase?" / "… in my
     backpack?") is reported like a swapped synonym.
     Why it matters: a reworded question with a different answer teaches the model two answers;
     it is the contradiction that exact matching cannot see.
     Example: "What's the capital of Australia?" → "Canberra" and "what is the capital of
     australia" → "Sydney".
     Use instead: reconcile the answers. For creative tasks, `--ignore FTK204`.
     """),
)
class NearDuplicates(DatasetRule):
    """Per chunk (`map`, in workers on large inputs): each row's exact keys and the MinHash signatures
    of its whole text and of its prompt, and its prompt's shingle set and words as hashes. At the
    end: LSH candidates; row pairs are verified on the exact Jaccard of the shingles of just the
    candidate rows, re-read from their lines; prompt pairs on the kept prompt sets and words, with
    only the rows left re-read, for their responses. Memory: a location, two keys and two
    signatures a row, plus its prompt's shingles (4 bytes each) and word hashes (2 bytes each)."""

    def __init__(self, options, selected):
        super().__init__(options, selected)
        self.locs = LocationTable()
        self.formats: dict[str, Format] = {}  # per file: the format its rows were read in
        self.row_keys: list[np.ndarray] = []
        self.prompt_keys: list[np.ndarray] = []
        self.offsets: list[np.ndarray] = []  # per row: where its line starts (-1: not known), for _reload
        # Per row, for FTK204's pair checks without re-reading rows: its prompt's word count (or
        # UNCOUNTED), its prompt's shingle set (boilerplate out, 4 bytes a shingle) and its words
        # as 16-bit hashes (features.flat_shingles; see may_reword for why 16 bits are enough).
        # About 0.3 kB a row with prompts of 50 words.
        self.prompt_words: list[np.ndarray] = []
        self.prompt_sets = Ragged(np.uint32)
        self.prompt_sequences = Ragged(np.uint16)
        kw = {"threshold": options.near_threshold, "num_perm": options.num_perm}
        self.rows = NearDuplicateIndex(**kw) if "FTK203" in selected else None
        self.prompts = NearDuplicateIndex(**kw) if "FTK204" in selected else None

    @staticmethod
    def asked(example: Example) -> list[Turn] | None:
        """The prompt's turns without system prompts (a prompt shared by a few percent of rows, below
        the boilerplate cut, would make their unrelated questions look alike); None when the row has
        no user question or no response."""
        prompt, response = example.prompt_and_response()
        asked = [t for t in prompt if t.role != "system"]
        return asked if asked and response is not None and any(t.role == "user" for t in asked) else None

    def prepare(self, head: list[tuple[Location, Example]]) -> None:
        examples = [ex for _, ex in head]
        if self.rows is not None:
            self.rows.boilerplate = boilerplate_of(shingle_sets([whole(ex) for ex in examples]))
        if self.prompts is not None:
            asked = [(ex, self.asked(ex)) for ex in examples]
            asked = [(ex, a) for ex, a in asked if a is not None]
            self.prompts.boilerplate = boilerplate_of(shingle_sets([a for _, a in asked]))

    def map(self, rows: list[tuple[Location, Example]]) -> tuple:
        table = rows_table(rows)
        formats = {loc.path: ex.format for loc, ex in rows}
        row_keys = table.row_keys()
        # The prompt part: the prompt's turns without system prompts (see asked).
        ok, _, _, asked_keys, asked = table.part_keys()
        if self.prompts is None:
            ok, asked = np.zeros_like(ok), np.zeros_like(asked)
        got = flat_shingles(table, asked, ok)
        row_part = self.rows.sign_flat(got.values, got.row_of, len(rows)) if self.rows is not None else None
        prompt_part = prompt_store = None
        if self.prompts is not None:
            values, owner = self.prompts.without_boilerplate_flat(got.part_values, got.part_row_of)
            prompt_part = self.prompts.sign_clean(values, owner, len(rows))
            prompt_store = (*sets_of(values, owner, len(rows)), (got.part_sequence >> np.uint32(16)).astype(np.uint16),
                            got.part_lengths)
        prompt_keys = np.where(ok, asked_keys, np.uint64(0))
        # Each prompt's word count, where it is exact (flat_shingles), for FTK204's pair filter.
        prompt_words = np.where((got.part_words >= 0) & (got.part_words < UNCOUNTED), got.part_words,
                                UNCOUNTED).astype(np.uint16)
        offsets = np.array([loc.offset for loc, _ in rows], dtype=np.int64)
        return (pack_rows(rows), formats, row_keys, prompt_keys, prompt_words,
                row_part, prompt_part, prompt_store, offsets)

    def reduce(self, part: tuple) -> None:
        packed, formats, row_keys, prompt_keys, prompt_words, row_part, prompt_part, prompt_store, offsets = part
        first = self.locs.extend(packed)
        self.offsets.append(offsets)
        for path, fmt in formats.items():
            self.formats.setdefault(path, fmt)
        self.row_keys.append(row_keys)
        self.prompt_keys.append(prompt_keys)
        self.prompt_words.append(prompt_words)
        if prompt_store is not None:
            set_values, set_sizes, sequence, lengths = prompt_store
            self.prompt_sets.extend(set_values, set_sizes)
            self.prompt_sequences.extend(sequence, lengths)
        for index, got in ((self.rows, row_part), (self.prompts, prompt_part)):
            if index is not None:
                index.add_signatures(got[0] + first, got[1])

    def finish(self) -> Iterator[Finding]:
        self.row_keys = [np.concatenate(self.row_keys)] if self.row_keys else [np.empty(0, dtype=np.uint64)]
        self.prompt_keys = [np.concatenate(self.prompt_keys)] if self.prompt_keys else [np.empty(0, dtype=np.uint64)]
        self.prompt_words = [np.concatenate(self.prompt_words)] if self.prompt_words else [np.empty(0, dtype=np.uint16)]
        self.offsets = [np.concatenate(self.offsets)] if self.offsets else [np.empty(0, dtype=np.int64)]
        if self.rows is not None:
            # Exact duplicates (FTK201's) are neither verified nor clustered: leaving them out first
            # spares re-reading their rows (most candidates, in data with many copies).
            pairs = _differing(self.rows.finish(margin=VERIFY_MARGIN, threads=self.threads), self.row_keys[0])
            self.rows.release()
            shingle_sets = self._reload(rows_of(pairs), prompt=False)
            yield from self._near_duplicates(self._verified(pairs, shingle_sets, self.options.near_threshold),
                                             shingle_sets)
            del pairs, shingle_sets  # done with: their memory goes to the prompt pairs' phase
        if self.prompts is not None:
            yield from self._near_contradictions(max(self.options.near_threshold, PROMPT_THRESHOLD))

    def _verified(self, pairs, shingle_sets, threshold: float) -> list[tuple[int, int, float]]:
        """The candidate pairs whose exact Jaccard reaches the threshold, with that Jaccard."""
        out = []
        for a, b, _estimate in pairs:
            if a in shingle_sets and b in shingle_sets:
                j = jaccard(shingle_sets[a], shingle_sets[b])
                if j >= threshold:
                    out.append((a, b, j))
        return out

    def _reload(self, rows: set[int], prompt: bool) -> dict[int, object]:
        """Per given row, rebuilt from its line (only those lines are parsed), so that memory holds
        compact per-row values and full shingle sets only for candidates: for FTK203 the row's
        shingles (boilerplate out); for FTK204 (the response's shingles, the prompt's turns).
        The rows are shared out among the run's workers."""
        ordered = sorted(rows)
        shares = self._shares(len(ordered))
        out: dict[int, object] = {}
        for got in self.run_tasks(_reread, [(self._where(ordered[k::shares]), prompt) for k in range(shares)]):
            out.update(got)
        return out

    def _where(self, rows) -> dict[int, tuple[str, Format, int, int]]:
        """Where each row is: (path, format it was read in, line, byte offset or -1), for _reread."""
        offsets = self.offsets[0]
        out = {}
        for i in rows:
            loc = self.locs[i]
            out[i] = (loc.path, self.formats[loc.path], loc.line, int(offsets[i]))
        return out

    def _shares(self, n: int) -> int:
        """Into how many tasks to split work on n rows or pairs: a few per worker (even shares, as
        rows differ in cost), none too small to be worth sending; one without workers."""
        return 1 if self.pool_run is None else max(1, min(4 * self.threads, n // SHARE_MIN))

    def shingle_batch(self, batch: list[tuple[int, Example]], prompt: bool, out: dict[int, object]) -> None:
        """_reload's values for a batch of re-read rows (hashed together); only those are kept."""
        if not prompt:
            for (row, _), shingles in zip(batch, shingle_sets([whole(ex) for _, ex in batch])):
                out[row] = self.rows.without_boilerplate(shingles)
            return
        asked = [(row, ex, a) for row, ex in batch if (a := self.asked(ex)) is not None]
        for (row, _, a), response in zip(asked, shingle_sets([[ex.prompt_and_response()[1]] for _, ex, _ in asked])):
            out[row] = (response, a)

    def _near_duplicates(self, pairs, shingle_sets) -> Iterator[Finding]:
        row_keys = self.row_keys[0]
        exact = lambda a, b: row_keys[a] == row_keys[b]  # noqa: E731  (FTK201's business)
        for root, members in clusters(pairs, skip=exact).items():
            locs = [self.locs[m] for m in members]
            for m in members[1:]:
                loc = self.locs[m]
                sim = jaccard(shingle_sets[m], shingle_sets[root]) if m in shingle_sets and root in shingle_sets else None
                sim_text = f"similarity {sim:.2f}" if sim is not None else "similar"
                yield Finding("FTK203", loc, None,
                              f"near-duplicate of line {list_lines([self.locs[root]], loc.path)} ({sim_text}; "
                              f"cluster of {len(members)}: lines {list_lines(locs, loc.path)})", tuple(locs))

    def _near_contradictions(self, threshold: float) -> Iterator[Finding]:
        """Pairs whose prompts are near-identical (exact Jaccard at or above the threshold) or one a
        rewording of the other, and whose responses are dissimilar.

        LSH candidates come in two kinds. Those whose estimate is within VERIFY_MARGIN of the
        threshold are verified on the prompts' shingle sets kept by map(). Those below, down to
        REWORD_CANDIDATE, can only be rewordings. Word counts and word hashes (also kept) rule out
        most pairs that cannot be rewordings; only the rows of the pairs left are re-read, for their
        responses and for the word-by-word test, which needs the prompts' text."""
        pairs = self.prompts.finish(margin=max(VERIFY_MARGIN, self.prompts.threshold - REWORD_CANDIDATE), threads=self.threads)
        pairs = _differing(pairs, self.prompt_keys[0])  # same prompt: FTK202's
        cut = self.prompts.threshold - VERIFY_MARGIN
        self.prompts.release()  # the signatures are done with: their memory goes to what follows
        sets, sequences = self.prompt_sets, self.prompt_sequences

        # The prompt side of every pair, from the kept sets and words; only the pairs it leaves are
        # re-read (for their responses, and for the prompt's words where a rewording is possible).
        checks = []  # (row, row, prompt Jaccard: None for candidates below the verify cut)
        first, second = (np.array([p[k] for p in pairs], dtype=np.int64) for k in (0, 1))
        rewordable = may_reword(first, second, self.prompt_words[0], sequences)
        near = np.flatnonzero(np.array([estimate for _, _, estimate in pairs], dtype=np.float64) >= cut)
        sims: list[float | None] = [None] * len(pairs)
        for i, sim in zip(near.tolist(), sets.jaccards(first[near], second[near]).tolist()):
            sims[i] = sim
        for (a, b, _), sim, maybe in zip(pairs, sims, rewordable.tolist()):
            if sim is not None and sim >= threshold or maybe:
                checks.append((a, b, sim))
        shares = self._shares(len(checks))
        parts = [checks[k * len(checks) // shares:(k + 1) * len(checks) // shares] for k in range(shares)]
        verdicts = [v for got in self.run_tasks(_prompt_verdicts, [(part, self._where(rows_of(part)), threshold)
                                                                    for part in parts]) for v in got]
        for (a, b, sim), verdict in zip(checks, verdicts):
            if verdict is None:
                continue
            change, answer_sim = verdict
            prompt_sim = jaccard(sets[a], sets[b]) if sim is None else sim
            la, lb = self.locs[a], self.locs[b]
            for this, other, words_ in ((lb, la, change and change[::-1]), (la, lb, change)):
                how = f"prompt {prompt_sim:.2f} similar to line {list_lines([other], this.path)}"
                if words_ is not None:
                    how += (f', differing only in "{words_[0]}" for "{words_[1]}"' if words_[0] and words_[1] else
                            f', differing only in a leading "{words_[0] or words_[1]}"')
                yield Finding("FTK204", this, None, f"{how}, but the responses are only {answer_sim:.2f} similar", (la, lb))

    def stats(self) -> dict:
        out = {}
        if self.rows is not None:
            out["near_duplicates"] = {"threshold": self.options.near_threshold, "num_perm": self.options.num_perm,
                                      "boilerplate_shingles": int(self.rows.boilerplate.size)}
        return out


def _reread(rule: NearDuplicates, task: tuple) -> dict[int, object]:
    """NearDuplicates._reload's values for one share of rows (run in a worker where there are any):
    lines with known byte offsets are read where they start, others found by line number."""
    where, prompt = task
    by_path: dict[str, dict[int, int]] = {}
    for i, (path, _, line, _) in where.items():
        by_path.setdefault(path, {})[line] = i
    out: dict[int, object] = {}
    for path, lines in by_path.items():
        fmt = where[next(iter(lines.values()))][1]
        if all(where[i][3] >= 0 for i in lines.values()):
            records = read_at(path, [(line, where[i][3]) for line, i in lines.items()])
        else:
            records = iter_some(path, set(lines))
        batch: list[tuple[int, Example]] = []
        for rec in records:
            obj = rec.value if rec.parsed and isinstance(rec.value, dict) else None
            example = normalise(obj, fmt)[0] if obj is not None else None
            if example is None:  # the file changed under us: leave the pair unverified
                continue
            batch.append((lines[rec.line], example))
            if len(batch) >= RELOAD_BATCH:
                rule.shingle_batch(batch, prompt, out)
                batch = []
        rule.shingle_batch(batch, prompt, out)
    return out


def _prompt_verdicts(rule: NearDuplicates, task: tuple) -> list[tuple | None]:
    """For one share of FTK204's pairs (a, b, prompt Jaccard or None), with their rows re-read
    here (in a worker where there are any): None where the pair is not a contradiction, else
    (the words a rewording changed or None, the responses' Jaccard)."""
    checks, where, threshold = task
    reloaded = _reread(rule, (where, True))
    words: dict[int, PromptWords] = {}  # the compared rows' prompts, each read once

    def prompt_words(i: int) -> PromptWords:
        if i not in words:
            words[i] = PromptWords(reloaded[i][1])
        return words[i]

    out: list[tuple | None] = []
    for a, b, sim in checks:
        verdict = None
        if a in reloaded and b in reloaded:
            change = None
            if sim is None or sim < threshold:
                change = rewording(prompt_words(a), prompt_words(b))
            if change is not None or (sim is not None and sim >= threshold):
                answer_sim = jaccard(reloaded[a][0], reloaded[b][0])
                if answer_sim < RESPONSE_DISSIMILAR:
                    verdict = (change, answer_sim)
        out.append(verdict)
    return out
