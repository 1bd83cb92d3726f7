"""Run the selected rules over files: records -> row checks -> dataset rules -> one LintResult.

`check_record` is the whole per-row pipeline and is pure, so the fixer re-runs it on the rows it
rewrites. Files are checked a chunk at a time (`check_chunk`: row checks, then each dataset rule's
`map`); JSON Lines chunks are byte ranges that worker processes read and check themselves, and the
main process folds the results in, in input order (`reduce`), so the result does not depend on
how many processes did the work (tested).
"""

from __future__ import annotations

import functools
import gc
import itertools
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ftk.data.formats import KNOWN_KEYS, Example, Format, SchemaProblem, detect_format, normalise
from ftk.data.reader import JSONL_SUFFIXES, ReadProblem, Record, parse_line, read_records
from ftk.lint.features import forget_rows, rows_table
from ftk.lint.registry import (
    DATASET_RULES,
    ROLES_ONLY,
    ROW_CHECKS,
    RULES,
    TRIGGERS,
    DatasetRule,
    Diagnostic,
    Location,
    Options,
    Severity,
    load_all_rules,
)
from ftk.lint.triggers import TriggerScan

MAX_SHAPES = 10_000  # role shapes remembered as clean (a bound on memory for odd data)
FORMAT_SAMPLE = 256  # rows read ahead to decide a file's format by majority

READ_CODES = {
    ReadProblem.INVALID_JSON: "FTK001",
    ReadProblem.INVALID_ENCODING: "FTK003",
    ReadProblem.BOM: "FTK004",
    ReadProblem.BLANK_LINE: "FTK005",
}
SCHEMA_CODES = {
    SchemaProblem.MISSING: "FTK008",
    SchemaProblem.EMPTY: "FTK009",
    SchemaProblem.WRONG_TYPE: "FTK010",
    SchemaProblem.UNKNOWN_KEY: "FTK011",
}


@dataclass(slots=True)
class Checker:
    """The selected rules, their severities and options: what `check_record` needs."""

    selected: set[str]
    options: Options = field(default_factory=Options)
    severities: dict[str, Severity] = field(default_factory=dict)
    row_checks: list = field(init=False, default_factory=list)
    triggers: TriggerScan | None = field(init=False, default=None)
    role_checks: frozenset = field(init=False, default=frozenset())  # the selected ROLES_ONLY checks
    clean_shapes: set = field(init=False, default_factory=set)  # role shapes they found nothing in

    def __post_init__(self):
        load_all_rules()
        self.row_checks = [(c, f) for c, f in ROW_CHECKS.items() if c in self.selected]
        self.role_checks = frozenset(c for c, _ in self.row_checks if c in ROLES_ONLY)
        triggered = {c: TRIGGERS[c] for c, _ in self.row_checks if c in TRIGGERS}
        self.triggers = TriggerScan(triggered) if triggered else None

    def severity(self, code: str) -> Severity:
        return self.severities.get(code, RULES[code].severity)

    def diag(self, code: str, rec: Record, message: str, fld: str | None = None, related=()) -> Diagnostic:
        return Diagnostic(code, self.severity(code), message, rec.path, rec.line, fld, related)


def row_format(obj: dict, file_format: Format | None) -> Format | None:
    """The format to check a row in: the file's, unless the row plainly belongs to another."""
    fmt = detect_format(obj)
    if fmt is not None and file_format is not None and fmt is not file_format and set(obj) <= KNOWN_KEYS[file_format]:
        return file_format  # e.g. a DPO file's row that only lacks `chosen`: a missing field, not another format
    return fmt


def check_record(rec: Record, file_format: Format | None, checker: Checker) -> tuple[list[Diagnostic], Example | None]:
    """Every row-level finding for one record, and its normalised example when it has one."""
    out, example = read_example(rec, file_format, checker)
    if example is not None:
        out += row_findings(rec, example, checker)
    return out, example


def read_example(rec: Record, file_format: Format | None, checker: Checker) -> tuple[list[Diagnostic], Example | None]:
    """The record's read and schema findings, and its normalised example when it has one."""
    sel = checker.selected
    out = [checker.diag(READ_CODES[i.problem], rec, i.message) for i in rec.issues if READ_CODES[i.problem] in sel]
    if not rec.parsed:
        return out, None
    obj = rec.value
    if not isinstance(obj, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(obj), "a number")
        if "FTK002" in sel:
            out.append(checker.diag("FTK002", rec, f"row is {kind}, not an object"))
        return out, None
    fmt = row_format(obj, file_format)
    if fmt is None:
        if "FTK006" in sel:
            keys = ", ".join(list(obj)[:6]) or "no keys"
            out.append(checker.diag("FTK006", rec, f"keys ({keys}) match no supported format"))
        return out, None
    if file_format is not None and fmt is not file_format:
        if "FTK007" in sel:
            out.append(checker.diag("FTK007", rec, f"{fmt.value} row in a file of {file_format.value} rows"))
        return out, None
    example, issues = normalise(obj, fmt)
    for issue in issues:
        code = SCHEMA_CODES[issue.problem]
        if code in sel:
            out.append(checker.diag(code, rec, issue.message, issue.field))
    return out, example


def row_findings(rec: Record, example: Example, checker: Checker) -> list[Diagnostic]:
    """The row rules' findings on one example (a chunk's rows: chunk_findings, which skips what
    cannot find anything)."""
    return [checker.diag(code, rec, message, fld)
            for code, check in checker.row_checks for fld, message in check(example, checker.options)]


def majority_format(records: Iterable[Record]) -> Format | None:
    votes = Counter(detect_format(r.value) for r in records if r.parsed and isinstance(r.value, dict))
    votes.pop(None, None)
    return votes.most_common(1)[0][0] if votes else None


@dataclass(slots=True)
class FileReport:
    path: str
    format: Format | None
    rows: int = 0
    valid_rows: int = 0  # rows that normalised to an example


@dataclass(slots=True)
class LintResult:
    diagnostics: list[Diagnostic]
    files: list[FileReport]
    stats: dict
    selected: set[str]
    seconds: float = 0.0
    phases: dict = field(default_factory=dict)  # where the time went (seconds), and how many processes

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    def rows_by_severity(self) -> dict[str, int]:
        """Rows counted once, at the highest severity found on them."""
        worst: dict[tuple[str, int], int] = {}
        for d in self.diagnostics:
            key = (d.path, d.line)
            if worst.get(key, 0) < d.severity:
                worst[key] = d.severity
        # Counted as plain ints: an enum member's label is a property, slow a million times over.
        counts = Counter(map(int, worst.values()))
        return {s.label: counts.get(s.value, 0) for s in sorted(Severity, reverse=True)} | {
            "clean": self.rows - len(worst)}

    def count(self, severity: Severity) -> int:
        return sum(1 for d in self.diagnostics if d.severity == severity)

    def by_rule(self) -> list[tuple[str, list[Diagnostic]]]:
        groups: dict[str, list[Diagnostic]] = {}
        for d in self.diagnostics:
            groups.setdefault(d.code, []).append(d)
        return sorted(groups.items(), key=lambda kv: (-max(d.severity for d in kv[1]), -len(kv[1]), kv[0]))

    def to_dict(self) -> dict:
        return {
            "summary": {
                "files": len(self.files), "rows": self.rows, "rows_by_severity": self.rows_by_severity(),
                "findings": {s.label: self.count(s) for s in sorted(Severity, reverse=True)},
                "by_rule": {code: len(ds) for code, ds in self.by_rule()},
                "seconds": round(self.seconds, 3),
                "phases": self.phases,
            },
            "files": [{"path": f.path, "format": f.format.value if f.format else None, "rows": f.rows,
                       "valid_rows": f.valid_rows} for f in self.files],
            "stats": self.stats,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


CHUNK_BYTES = 2 << 20  # a unit of work: about 1,300 chat rows of 1.5 kB
CHUNK_ROWS = 1024  # the same for formats read record by record (.json, .csv, .parquet)
PREPARE_ROWS = 2000  # first valid rows shown to DatasetRule.prepare (boilerplate is learnt on them)
PARALLEL_MIN_BYTES = 8 << 20  # smaller inputs are checked in-process: starting workers costs more


@dataclass(slots=True)
class ChunkResult:
    """What checking one chunk of rows gives: its row-level diagnostics and each dataset rule's part."""

    rows: int
    valid_rows: int
    nbytes: int
    diagnostics: list[Diagnostic]
    parts: list


def check_chunk(records: Iterable[Record], file_format: Format | None, checker: Checker,
                rules: list[DatasetRule], nbytes: int = 0) -> ChunkResult:
    """The map step: row checks, then each dataset rule's `map`, for one chunk of records."""
    diagnostics: list[Diagnostic] = []
    read: list[tuple[Record, Example]] = []
    n = 0
    for rec in records:
        n += 1
        found, example = read_example(rec, file_format, checker)
        diagnostics.extend(found)
        if example is not None:
            read.append((rec, example))
    rows = [(Location(rec.path, rec.line, rec.offset), example) for rec, example in read]
    diagnostics += chunk_findings(read, checker, rows)
    return ChunkResult(n, len(rows), nbytes, diagnostics, [rule.map(rows) for rule in rules])


def chunk_findings(read: list[tuple[Record, Example]], checker: Checker,
                   rows: list[tuple[Location, Example]] | None = None) -> list[Diagnostic]:
    """row_findings for every row of a chunk, check by check over the rows it has to see:
    - text rules only on the rows that hold their trigger strings (one scan of the whole chunk);
    - checks of the roles alone once per shape of row (format and roles), until a shape is flagged:
      shapes they found nothing in are remembered and skipped;
    - the other checks on every row.
    The findings are row_findings' (tested); their order differs, and lint_paths sorts them."""
    out: list[Diagnostic] = []
    opts, diag = checker.options, checker.diag
    triggered = _triggered(checker.triggers, rows or read) if checker.triggers is not None else {}
    role_checks = [(code, check) for code, check in checker.row_checks if code in checker.role_checks]
    if role_checks:
        clean = checker.clean_shapes
        for rec, example in read:
            shape = role_shape(example)
            if shape in clean:
                continue
            found = [diag(code, rec, message, fld) for code, check in role_checks for fld, message in check(example, opts)]
            if not found and len(clean) < MAX_SHAPES:
                clean.add(shape)
            out += found
    for code, check in checker.row_checks:
        if code in checker.role_checks:
            continue
        for i in sorted(triggered[code]) if code in triggered else range(len(read)):
            rec, example = read[i]
            for fld, message in check(example, opts):
                out.append(diag(code, rec, message, fld))
    return out


def role_shape(example: Example) -> tuple:
    """What ROLES_ONLY checks look at: the format and the roles of each part, in order."""
    roles = tuple([t.role for t in example.turns])
    if example.chosen is None and example.rejected is None:
        return example.format, roles
    return (example.format, roles, *(None if part is None else tuple([t.role for t in part])
                                     for part in (example.chosen, example.rejected)))


def _triggered(scan: TriggerScan, rows: list[tuple[object, Example]]) -> dict[str, set[int]]:
    """TriggerScan.rows of the rows' texts (every turn, one per line), searched in the chunk's
    TextTable (built here, and shared with the dataset rules' maps: `rows` is the list they get)."""
    table = rows_table(rows)
    wide = np.bincount(table.row_of_turn()[~table.ascii], minlength=table.size) > 0
    return scan.rows_in(table.raw, table.row_ends(), wide)


def split_lines(data: bytes) -> list[bytes]:
    """The lines of a chunk of JSON Lines, as iterating over the file gives them (without '\n')."""
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    return lines


@dataclass(frozen=True, slots=True)
class Task:
    """A byte range of a JSON Lines file that starts at a line start and ends after a newline (or at EOF)."""

    path: str
    offset: int
    length: int
    first_line: int
    file_format: Format | None


def jsonl_tasks(path: str, file_format: Format | None, chunk_bytes: int = CHUNK_BYTES) -> Iterator[Task]:
    with open(path, "rb") as f:
        offset, line = 0, 1
        while True:
            block = f.read(chunk_bytes)
            if not block:
                return
            if not block.endswith(b"\n"):
                block += f.readline()  # finish the line the block cut
            yield Task(path, offset, len(block), line, file_format)
            offset += len(block)
            # Counted by numpy: bytes.count takes 4x as long, in the main process, while the
            # workers wait for cores (about 1 s at a million rows).
            line += int(np.count_nonzero(np.frombuffer(block, dtype=np.uint8) == 10)) + (not block.endswith(b"\n"))


# What a worker needs: set in the main process before the pool forks, inherited by the workers.
_WORKER: tuple[Checker, list[DatasetRule]] | None = None


def run_task(task: Task, state: tuple[Checker, list[DatasetRule]] | None = None) -> ChunkResult:
    checker, rules = state or _WORKER
    with open(task.path, "rb") as f:
        f.seek(task.offset)
        data = f.read(task.length)
    return check_chunk(task_records(task, data), task.file_format, checker, rules, len(data))


def _pool_run(pool, index: int, fn: Callable, tasks: list) -> list:
    """DatasetRule.run_tasks in the pool: fn(the worker's copy of rule `index`, task) for each task."""
    return pool.map(_run_in_worker, [(index, fn, task) for task in tasks], chunksize=1)


def _run_in_worker(job: tuple) -> object:
    index, fn, task = job
    return fn(_WORKER[1][index], task)


def task_records(task: Task, data: bytes) -> Iterator[Record]:
    """The records of a task's bytes, each with its line number and its byte offset in the file."""
    lines = split_lines(data)
    starts = itertools.accumulate([len(raw) + 1 for raw in lines], initial=task.offset)
    return (parse_line(task.path, task.first_line + i, raw, start) for i, (raw, start) in enumerate(zip(lines, starts)))


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _pool(jobs: int):
    """Worker processes forked from this one (they inherit the rules as prepared); None where fork
    is not the safe default (macOS, Windows), and the work stays in-process."""
    import multiprocessing as mp

    if jobs < 2 or sys.platform != "linux":
        return None
    return mp.get_context("fork").Pool(jobs)


def _head_examples(files: list[FileReport], n: int) -> list[tuple[Location, Example]]:
    """The first `n` valid rows of the input, in order, across files (for DatasetRule.prepare)."""
    quiet = Checker(set())
    out: list[tuple[Location, Example]] = []
    for report in files:
        for rec in read_records(report.path):
            if len(out) >= n:
                return out
            example = check_record(rec, report.format, quiet)[1]
            if example is not None:
                out.append((Location(rec.path, rec.line), example))
    return out


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep the memory a process frees for its next allocations instead of
    handing it back to the kernel: linting makes and drops megabytes a chunk (a chunk's text,
    results, arrays), and each time the heap shrank and grew again its pages were faulted in anew,
    at a few microseconds a page on these VMs (1.4 million faults, about 3 s of CPU, at a million
    rows: BENCHMARKS.md). For a process that lints and exits, the CLI: its peak stays what it was,
    but memory is not given back before exit. Forked workers inherit it. Linux with glibc only;
    elsewhere (or if mallopt is missing) nothing is changed and False is returned."""
    if sys.platform != "linux":
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3  # glibc's malloc.h
    # Never trim the heap's top; grow it 64 MiB at a time; serve blocks up to 32 MiB from the heap
    # (as far as glibc's own adaptive threshold goes, which setting the others turns off).
    return all(mallopt(option, value) == 1 for option, value in
               ((m_trim_threshold, 2**31 - 1), (m_top_pad, 64 << 20), (m_mmap_threshold, 32 << 20)))


def _few_gc_passes(func):
    """Run `func` with the cyclic garbage collector seldom run. Linting makes millions of small
    objects (parsed rows, examples) that die young and hold no cycles; at the default threshold
    the collector runs every 700 of them, and parsing costs twice what it does without it. What
    exists already is frozen (never scanned again; forked workers inherit that and the threshold,
    and do not copy pages the scans would touch). Restored on return."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        threshold = gc.get_threshold()
        gc.freeze()
        gc.set_threshold(100_000, 50, 100)
        try:
            return func(*args, **kwargs)
        finally:
            gc.set_threshold(*threshold)
            gc.unfreeze()
    return wrapper


@_few_gc_passes
def lint_paths(paths: Iterable[str], checker: Checker, format_override: Format | None = None,
               on_progress: Callable[..., None] | None = None, jobs: int | None = None,
               chunk_bytes: int = CHUNK_BYTES) -> LintResult:
    """Lint files together. `jobs`: worker processes (None: one per core for inputs over
    PARALLEL_MIN_BYTES of JSON Lines, else in-process); the result is the same either way.
    `on_progress(rows, bytes)` is called after each chunk with the totals so far, and
    `on_progress(rows, bytes, "dataset rules")` once the rows are read, before the dataset rules finish."""
    global _WORKER
    start = time.perf_counter()
    rules = [cls(checker.options, checker.selected) for cls in DATASET_RULES
             if any(r.code in checker.selected for r in cls.RULES)]
    files: list[FileReport] = []
    for path in paths:
        head = list(itertools.islice(read_records(path), FORMAT_SAMPLE))
        files.append(FileReport(str(path), format_override or majority_format(head)))
    if rules:
        head_rows = _head_examples(files, PREPARE_ROWS)
        for rule in rules:
            rule.prepare(head_rows)
    jsonl = [Path(f.path).suffix.lower() in JSONL_SUFFIXES for f in files]
    if jobs is None:
        size = sum(Path(f.path).stat().st_size for f, j in zip(files, jsonl) if j)
        jobs = default_jobs() if size >= PARALLEL_MIN_BYTES else 1
    state = (checker, rules)
    _WORKER = state
    phases = {"prepare": round(time.perf_counter() - start, 3)}
    pool = _pool(jobs) if any(jsonl) else None
    diagnostics: list[Diagnostic] = []
    done = {"rows": 0, "bytes": 0}
    try:
        for report, is_jsonl in zip(files, jsonl):
            if is_jsonl:
                tasks = jsonl_tasks(report.path, report.format, chunk_bytes)
                results = pool.imap(run_task, tasks) if pool is not None else (run_task(t, state) for t in tasks)
            else:
                groups = _batched(read_records(report.path), CHUNK_ROWS)
                results = (check_chunk(g, report.format, checker, rules) for g in groups)
            for res in results:
                report.rows += res.rows
                report.valid_rows += res.valid_rows
                diagnostics.extend(res.diagnostics)
                for rule, part in zip(rules, res.parts):
                    rule.reduce(part)
                done["rows"] += res.rows
                done["bytes"] += res.nbytes
                if on_progress is not None:
                    on_progress(done["rows"], done["bytes"])
        phases["rows"] = round(time.perf_counter() - start - phases["prepare"], 3)
        if on_progress is not None and rules:
            on_progress(done["rows"], done["bytes"], "dataset rules")  # candidates, clusters: can take a while
        phases["jobs"] = jobs if pool is not None else 1
        stats: dict = {"formats": {f.path: (f.format.value if f.format else None) for f in files}}
        for index, rule in enumerate(rules):
            rule.threads = phases["jobs"]  # the workers are idle: their cores are the dataset rules' now
            if pool is not None:
                rule.pool_run = functools.partial(_pool_run, pool, index)
        for rule, (found, seconds) in zip(rules, _finish_side_by_side(rules)):
            for f in found:
                if f.code in checker.selected:
                    diagnostics.append(Diagnostic(f.code, checker.severity(f.code), f.message, f.loc.path, f.loc.line,
                                                  f.field, f.related))
            stats.update(rule.stats())
            phases[f"finish {type(rule).__name__}"] = round(seconds, 3)
    finally:
        _WORKER = None
        forget_rows()
        for rule in rules:
            rule.pool_run = None
        if pool is not None:
            pool.terminate()
            pool.join()
    order = {f.path: i for i, f in enumerate(files)}
    diagnostics.sort(key=lambda d: (order.get(d.path, 0), d.line, d.code))
    return LintResult(diagnostics, files, stats, checker.selected, time.perf_counter() - start, phases)


def _finish_side_by_side(rules: list[DatasetRule]) -> list[tuple[list, float]]:
    """(findings, seconds) of each rule's finish(), the rules run side by side in threads. Each
    spends stretches in numpy, compiled loops or waiting on the workers, which let go of the GIL,
    and a rule that keeps one core busy leaves the other to the rest: at a million rows the exact
    duplicate groups (about a second, in Python) are found while the near-duplicate bands are
    sorted. Rules share no state, and the findings do not depend on the order they finish in.
    Daemon threads, so that an interrupted run is not held up by a rule still working."""
    done: list = [None] * len(rules)

    def run(i: int) -> None:
        start = time.perf_counter()
        try:
            done[i] = (list(rules[i].finish()), time.perf_counter() - start)
        except BaseException as exc:  # raised again in the calling thread
            done[i] = exc

    threads = [threading.Thread(target=run, args=(i,), name=f"finish {type(r).__name__}", daemon=True)
               for i, r in enumerate(rules)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got in done:
        if isinstance(got, BaseException):
            raise got
    return done


def _batched(items: Iterable, n: int) -> Iterator[list]:
    it = iter(items)
    while batch := list(itertools.islice(it, n)):
        yield batch
