"""Run the selected rules over files: records -> row checks -> dataset rules -> one LintResult.

`check_record` is the whole per-row pipeline and is pure, so the fixer re-runs it on the rows it
rewrites and a later parallel path can run it in worker processes.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ftk.data.formats import KNOWN_KEYS, Example, Format, SchemaProblem, detect_format, normalise
from ftk.data.reader import ReadProblem, Record, read_records
from ftk.lint.registry import (
    DATASET_RULES,
    ROW_CHECKS,
    RULES,
    Diagnostic,
    Location,
    Options,
    Severity,
    load_all_rules,
)

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

    def __post_init__(self):
        load_all_rules()
        self.row_checks = [(c, f) for c, f in ROW_CHECKS.items() if c in self.selected]

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
    if example is not None:
        for code, check in checker.row_checks:
            for fld, message in check(example, checker.options):
                out.append(checker.diag(code, rec, message, fld))
    return out, example


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

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    def rows_by_severity(self) -> dict[str, int]:
        """Rows counted once, at the highest severity found on them."""
        worst: dict[tuple[str, int], Severity] = {}
        for d in self.diagnostics:
            key = (d.path, d.line)
            worst[key] = max(worst.get(key, d.severity), d.severity)
        counts = Counter(s.label for s in worst.values())
        return {s.label: counts.get(s.label, 0) for s in sorted(Severity, reverse=True)} | {
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
            },
            "files": [{"path": f.path, "format": f.format.value if f.format else None, "rows": f.rows,
                       "valid_rows": f.valid_rows} for f in self.files],
            "stats": self.stats,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


def lint_paths(paths: Iterable[str], checker: Checker, format_override: Format | None = None,
               on_record: Callable[[Record], None] | None = None) -> LintResult:
    start = time.perf_counter()
    dataset_rules = [cls(checker.options, checker.selected) for cls in DATASET_RULES
                     if any(r.code in checker.selected for r in cls.RULES)]
    diagnostics: list[Diagnostic] = []
    files: list[FileReport] = []
    order: dict[str, int] = {}
    for path in paths:
        records = read_records(path)
        head = list(itertools.islice(records, FORMAT_SAMPLE))
        report = FileReport(str(path), format_override or majority_format(head))
        files.append(report)
        order[report.path] = len(order)
        for rec in itertools.chain(head, records):
            report.rows += 1
            found, example = check_record(rec, report.format, checker)
            diagnostics.extend(found)
            if example is not None:
                report.valid_rows += 1
                loc = Location(rec.path, rec.line)
                for rule in dataset_rules:
                    rule.observe(loc, example)
            if on_record is not None:
                on_record(rec)
    stats: dict = {"formats": {f.path: (f.format.value if f.format else None) for f in files}}
    for rule in dataset_rules:
        for f in rule.finish():
            if f.code in checker.selected:
                diagnostics.append(Diagnostic(f.code, checker.severity(f.code), f.message, f.loc.path, f.loc.line,
                                              f.field, f.related))
        stats.update(rule.stats())
    diagnostics.sort(key=lambda d: (order.get(d.path, 0), d.line, d.code))
    return LintResult(diagnostics, files, stats, checker.selected, time.perf_counter() - start)
