"""CPU per row of each stage of `ftk lint`, in one process (no workers), on a JSON Lines file.

    python bench/lint_stages.py bench/out/chat_100000_seed0.jsonl

Stages, in the engine's order: JSON parsing, the row checks (reading the example and every row
rule), then each dataset rule's map(). Measured with time.process_time around each stage of each
chunk; the garbage collector is set as `lint_paths` sets it. Values shared between rules (the
normalised text, for one) are charged to the first rule that asks for them.
"""

from __future__ import annotations

import gc
import itertools
import sys
import time
from collections import defaultdict

from ftk.data.reader import parse_line, read_records
from ftk.lint.engine import Checker, FileReport, _head_examples, check_chunk, jsonl_tasks, majority_format, read_example, split_lines
from ftk.lint.registry import DATASET_RULES, Location, select_codes


def prepared(path: str) -> tuple[Checker, list, FileReport]:
    """Every default rule, the dataset rules prepared on the file's head as lint_paths prepares
    them, and the garbage collector set as lint_paths sets it."""
    checker = Checker(select_codes(None, None))
    rules = [cls(checker.options, checker.selected) for cls in DATASET_RULES]
    report = FileReport(path, majority_format(list(itertools.islice(read_records(path), 256))))
    head = _head_examples([report], 2000)
    for rule in rules:
        rule.prepare(head)
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    return checker, rules, report


def main(path: str) -> None:
    checker, rules, report = prepared(path)
    spent: dict[str, float] = defaultdict(float)
    rows = 0
    with open(path, "rb") as f:
        data = f.read()
    for task in jsonl_tasks(path, report.format):
        t = time.process_time()
        lines = split_lines(data[task.offset:task.offset + task.length])
        records = [parse_line(path, task.first_line + i, raw) for i, raw in enumerate(lines)]
        spent["JSON parsing"] += time.process_time() - t
        rows += len(records)
        t = time.process_time()
        result = check_chunk(records, task.file_format, checker, [])  # no dataset rules: row checks only
        spent["row checks"] += time.process_time() - t
        # check_chunk does not hand its examples out: read them again (not timed) for the rules' maps.
        examples = [(Location(r.path, r.line), ex) for r in records for ex in [read_example(r, task.file_format, checker)[1]]
                    if ex is not None]
        for rule in rules:
            t = time.process_time()
            rule.reduce(rule.map(examples))
            spent[type(rule).__name__] += time.process_time() - t
        del result
    total = sum(spent.values())
    for stage, seconds in spent.items():
        print(f"{stage:28s} {seconds:7.2f} s  {seconds / rows * 1e6:6.1f} µs/row")
    print(f"{'total':28s} {total:7.2f} s  {total / rows * 1e6:6.1f} µs/row  ({rows:,} rows)")


if __name__ == "__main__":
    main(sys.argv[1])
