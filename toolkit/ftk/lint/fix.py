"""`ftk lint --fix OUT`: a cleaned copy of one input, and a log of every line dropped or changed.

The fixer reads the input again and, for each row:
1. drops it when the lint pass found a rule on it whose fix is "drop the row";
2. otherwise rewrites its text where that is safe (Unicode NFC, control characters out), as far
   as the rules doing so (FTK407, FTK403) are selected;
3. re-checks the rewritten row (a text made only of control characters is empty once cleaned)
   and drops it if it is now invalid;
4. drops it when it is an exact duplicate of a row already written (FTK201);
5. with --fix-near-duplicates, drops the rows FTK203 flagged: every near-duplicate cluster keeps
   its first row.
Unchanged rows are copied byte for byte, so fixing the output again changes nothing. The output
is written to a temporary file beside OUT and renamed into place; the input is never touched.
"""

from __future__ import annotations

import json
import os
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ftk.data.formats import Format
from ftk.data.reader import BOM, read_records, write_jsonl_line
from ftk.errors import UsageError
from ftk.lint.engine import READ_CODES, Checker, LintResult, check_record
from ftk.lint.features import row_key
from ftk.lint.registry import RULES, Fix
from ftk.lint.rules.hygiene import CONTROL

OUT_SUFFIXES = (".jsonl", ".ndjson")


@dataclass(slots=True)
class FixSummary:
    out: Path
    log: Path
    read: int = 0
    written: int = 0
    dropped: int = 0
    changed: int = 0
    by_code: dict[str, int] = field(default_factory=dict)


def log_path(out: Path) -> Path:
    return out.with_name(out.stem + ".fixes.jsonl")


def _rewrite(value: object, nfc: bool, control: bool) -> object:
    """Every string in the row, rewritten; keys and non-string values as they are."""
    if isinstance(value, str):
        if control:
            value = CONTROL.sub("", value)
        return unicodedata.normalize("NFC", value) if nfc and not value.isascii() else value
    if isinstance(value, list):
        return [_rewrite(v, nfc, control) for v in value]
    if isinstance(value, dict):
        return {k: _rewrite(v, nfc, control) for k, v in value.items()}
    return value


def fix_file(path: str, out: Path, result: LintResult, checker: Checker, fmt: Format | None,
             near_duplicates: bool = False) -> FixSummary:
    out = Path(out)
    if out.suffix.lower() not in OUT_SUFFIXES:
        raise UsageError(f"--fix {out}: the cleaned copy is written as JSON Lines; name it *.jsonl")
    if out.resolve() == Path(path).resolve():
        raise UsageError(f"--fix {out}: that is the input file; ftk never overwrites its input")
    if not out.parent.is_dir():
        raise UsageError(f"--fix {out}: directory {out.parent} does not exist")
    drop_codes = {c for c in checker.selected if RULES[c].fix is Fix.DROP_ROW}
    if near_duplicates and "FTK203" in checker.selected:
        drop_codes.add("FTK203")  # flagged rows are the cluster members after the first
    codes_on: dict[int, set[str]] = {}  # line -> codes the lint pass found there
    for d in result.diagnostics:
        if d.path == str(path):
            codes_on.setdefault(d.line, set()).add(d.code)
    flagged = {line: codes & drop_codes for line, codes in codes_on.items() if codes & drop_codes}
    nfc, control = "FTK407" in checker.selected, "FTK403" in checker.selected
    dedupe = "FTK201" in checker.selected
    summary = FixSummary(out, log_path(out))
    seen: dict[bytes, int] = {}
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    fd_log, tmp_log = tempfile.mkstemp(prefix=f".{summary.log.name}.", dir=out.parent)
    umask = os.umask(0)
    os.umask(umask)
    for t in (tmp, tmp_log):  # mkstemp makes 0600 files; outputs get the usual umask permissions
        os.chmod(t, 0o666 & ~umask)
    try:
        with os.fdopen(fd, "wb") as dst, os.fdopen(fd_log, "w", encoding="utf-8") as log:
            def record(line: int, action: str, codes: list[str], reason: str) -> None:
                log.write(json.dumps({"line": line, "action": action, "codes": codes, "reason": reason}) + "\n")
                if action == "dropped":
                    summary.dropped += 1
                else:
                    summary.changed += 1
                for c in codes:
                    summary.by_code[c] = summary.by_code.get(c, 0) + 1

            for rec in read_records(path):
                summary.read += 1
                if not rec.parsed or rec.line in flagged:
                    # Unreadable lines are dropped even when their rule is not selected: they cannot be copied as rows.
                    codes = sorted(flagged.get(rec.line, set()) | {READ_CODES[i.problem] for i in rec.issues
                                                                    if not rec.parsed})
                    record(rec.line, "dropped", codes, ", ".join(f"{c} {RULES[c].name}" for c in codes))
                    continue
                value = _rewrite(rec.value, nfc, control)
                changed = value != rec.value
                rec.value = value
                found, example = check_record(rec, fmt, checker)
                still_bad = sorted({d.code for d in found if d.code in drop_codes})
                if still_bad or example is None:
                    record(rec.line, "dropped", still_bad, "invalid after text normalisation")
                    continue
                if dedupe:
                    key = row_key(example)
                    if key in seen:
                        record(rec.line, "dropped", ["FTK201"], f"duplicate of line {seen[key]}")
                        continue
                    seen[key] = rec.line
                if changed:
                    codes = sorted(codes_on.get(rec.line, set()) & {"FTK403", "FTK407"})
                    record(rec.line, "changed", codes, "text normalised (NFC, control characters removed)")
                    dst.write(write_jsonl_line(value) + b"\n")
                elif rec.raw is not None:
                    raw = rec.raw
                    if raw.startswith(BOM):
                        record(rec.line, "changed", ["FTK004"], "byte-order mark removed")
                        raw = raw[len(BOM):]
                    dst.write(raw.rstrip(b"\r") + b"\n")
                else:  # .json/.csv/.parquet rows have no original line to copy
                    dst.write(write_jsonl_line(value) + b"\n")
                summary.written += 1
        os.replace(tmp, out)
        os.replace(tmp_log, summary.log)
    except BaseException:
        for t in (tmp, tmp_log):
            if os.path.exists(t):
                os.unlink(t)
        raise
    return summary
