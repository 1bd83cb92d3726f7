"""FTK203/FTK204 — near-duplicate rows and near-identical prompts with dissimilar answers.

Two MinHash indexes run side by side: one over the whole row, one over the prompt. Pairs that are
exact duplicates (FTK201) or share the exact prompt (FTK202) are left to those rules.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ftk.data.formats import Example, Format, normalise
from ftk.data.reader import read_some
from ftk.lint.features import hash_turns, row_key, shingles_of, turn_shingles, whole
from ftk.lint.near_dup import NearDuplicateIndex, clusters
from ftk.lint.registry import DatasetRule, Finding, Fix, Location, Severity, dataset_rule
from ftk.lint.rules.duplicates import list_lines

VERIFY_MARGIN = 0.1  # candidates estimated this far below the threshold are still checked exactly
RESPONSE_DISSIMILAR = 0.5
# Prompts must be closer than rows: in a short question one changed word is often the whole point
# ("reverse a string in Python" / "… in JavaScript" share 80% of their 3-grams).
PROMPT_THRESHOLD = 0.85  # responses with a Jaccard below this to each other "disagree"


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    if a.size == 0 and b.size == 0:
        return 1.0
    inter = np.intersect1d(a, b, assume_unique=True).size
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
     higher) but not identical
     (that is FTK202), and whose responses are dissimilar (exact Jaccard of their shingles below
     0.5). Both similarities are reported.
     Why it matters: a reworded question with a different answer teaches the model two answers;
     it is the contradiction that exact matching cannot see.
     Example: "What's the capital of Australia?" → "Canberra" and "what is the capital of
     australia" → "Sydney".
     Use instead: reconcile the answers. For creative tasks, `--ignore FTK204`.
     """),
)
class NearDuplicates(DatasetRule):
    def __init__(self, options, selected):
        super().__init__(options, selected)
        self.locs: list[Location] = []
        self.formats: dict[str, Format] = {}  # per file: the format its rows were read in
        self.row_keys: list[bytes] = []
        self.prompt_keys: list[bytes | None] = []
        self.responses: list[np.ndarray | None] = []
        kw = {"threshold": options.near_threshold, "num_perm": options.num_perm}
        self.rows = NearDuplicateIndex(**kw) if "FTK203" in selected else None
        self.prompts = NearDuplicateIndex(**kw) if "FTK204" in selected else None

    def observe(self, loc: Location, example: Example) -> None:
        row_id = len(self.locs)
        self.locs.append(loc)
        self.formats.setdefault(loc.path, example.format)
        self.row_keys.append(row_key(example))
        if self.rows is not None:
            self.rows.add(row_id, shingles_of(example, whole(example)))
        if self.prompts is not None:
            prompt, response = example.prompt_and_response()
            # System prompts left out: a prompt shared by a few percent of rows (below the
            # boilerplate cut) would make their unrelated questions look alike.
            asked = [t for t in prompt if t.role != "system"]
            if asked and response is not None and any(t.role == "user" for t in asked):
                self.prompt_keys.append(hash_turns(example, asked))
                self.responses.append(turn_shingles(example, response))
                self.prompts.add(row_id, shingles_of(example, asked))
                return
            self.prompt_keys.append(None)
            self.responses.append(None)

    def finish(self) -> Iterator[Finding]:
        if self.rows is not None:
            pairs = self.rows.finish(margin=VERIFY_MARGIN)
            shingle_sets = self._reload(pairs, self.rows, prompt=False)
            yield from self._near_duplicates(self._verified(pairs, shingle_sets, self.options.near_threshold),
                                             shingle_sets)
        if self.prompts is not None:
            pairs = self.prompts.finish(margin=VERIFY_MARGIN)
            prompt_threshold = max(self.options.near_threshold, PROMPT_THRESHOLD)
            yield from self._near_contradictions(
                self._verified(pairs, self._reload(pairs, self.prompts, prompt=True), prompt_threshold))

    def _verified(self, pairs, shingle_sets, threshold: float) -> list[tuple[int, int, float]]:
        """The candidate pairs whose exact Jaccard reaches the threshold, with that Jaccard."""
        out = []
        for a, b, _estimate in pairs:
            if a in shingle_sets and b in shingle_sets:
                j = jaccard(shingle_sets[a], shingle_sets[b])
                if j >= threshold:
                    out.append((a, b, j))
        return out

    def _reload(self, pairs, index: NearDuplicateIndex, prompt: bool) -> dict[int, np.ndarray]:
        """Shingles of the rows in `pairs`, rebuilt from their lines (only those lines are parsed), so
        that memory holds one signature per row and full shingle sets only for candidates."""
        by_path: dict[str, dict[int, int]] = {}
        for a, b, _ in pairs:
            for i in (a, b):
                by_path.setdefault(self.locs[i].path, {})[self.locs[i].line] = i
        out = {}
        for path, lines in by_path.items():
            for line, rec in read_some(path, set(lines)).items():
                obj = rec.value if rec.parsed and isinstance(rec.value, dict) else None
                example = normalise(obj, self.formats[path])[0] if obj is not None else None
                if example is None:
                    continue  # the file changed under us: leave the pair unverified
                turns = whole(example)
                if prompt:
                    turns = [t for t in example.prompt_and_response()[0] if t.role != "system"]
                if turns:
                    out[lines[line]] = index.without_boilerplate(shingles_of(example, turns))
        return out

    def _near_duplicates(self, pairs, shingle_sets) -> Iterator[Finding]:
        exact = lambda a, b: self.row_keys[a] == self.row_keys[b]  # noqa: E731  (FTK201's business)
        for root, members in clusters(pairs, skip=exact).items():
            locs = [self.locs[m] for m in members]
            for m in members[1:]:
                loc = self.locs[m]
                sim = jaccard(shingle_sets[m], shingle_sets[root]) if m in shingle_sets and root in shingle_sets else None
                sim_text = f"similarity {sim:.2f}" if sim is not None else "similar"
                yield Finding("FTK203", loc, None,
                              f"near-duplicate of line {list_lines([self.locs[root]], loc.path)} ({sim_text}; "
                              f"cluster of {len(members)}: lines {list_lines(locs, loc.path)})", tuple(locs))

    def _near_contradictions(self, pairs) -> Iterator[Finding]:
        reported: set[tuple[int, int]] = set()
        for a, b, prompt_sim in pairs:
            if self.prompt_keys[a] == self.prompt_keys[b] or (a, b) in reported:
                continue
            answer_sim = jaccard(self.responses[a], self.responses[b])
            if answer_sim >= RESPONSE_DISSIMILAR:
                continue
            reported.add((a, b))
            la, lb = self.locs[a], self.locs[b]
            for this, other in ((lb, la), (la, lb)):
                yield Finding("FTK204", this, None,
                              f"prompt {prompt_sim:.2f} similar to line {list_lines([other], this.path)}, "
                              f"but the responses are only {answer_sim:.2f} similar", (la, lb))

    def stats(self) -> dict:
        out = {}
        if self.rows is not None:
            out["near_duplicates"] = {"threshold": self.options.near_threshold, "num_perm": self.options.num_perm,
                                      "boilerplate_shingles": int(self.rows.boilerplate.size)}
        return out
