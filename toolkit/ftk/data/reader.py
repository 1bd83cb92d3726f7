"""Read a data file as a stream of records, each with its 1-based line (or row) number.

Nothing is dropped: a line that cannot be decoded or parsed still becomes a record, carrying the
problem instead of a value, so the linter can account for every line of the input.
"""

from __future__ import annotations

import bisect
import csv
import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import numpy as np

from ftk.errors import InputError

JSONL_SUFFIXES = {".jsonl", ".ndjson"}
SUPPORTED_SUFFIXES = JSONL_SUFFIXES | {".json", ".csv", ".parquet"}
BOM = b"\xef\xbb\xbf"
# Cells of a CSV file that may hold JSON (a list of messages, say) rather than plain text.
# JSON may escape half of a UTF-16 pair ("\ud800"); the result is no character and cannot be
# encoded as UTF-8, tokenised or written back. The regex finds candidates; encoding confirms.
_LONE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
JSON_CELL_COLUMNS = {"messages", "conversations", "chosen", "rejected", "prompt", "metadata", "tools"}


class ReadProblem(str, Enum):
    INVALID_JSON = "invalid-json"
    INVALID_ENCODING = "invalid-encoding"
    BLANK_LINE = "blank-line"
    BOM = "byte-order-mark"


@dataclass(slots=True)
class Issue:
    """What the reader saw wrong with one line."""

    problem: ReadProblem
    message: str


@dataclass(slots=True)
class Record:
    path: str
    line: int
    value: object = None
    parsed: bool = False  # False when the line could not be decoded or parsed (value is None)
    raw: bytes | None = None  # the original JSONL line, so an unchanged row can be copied verbatim
    offset: int = -1  # where the JSONL line starts in its file (bytes), where known: to read it again
    issues: list[Issue] = field(default_factory=list)


def _reject_constant(name: str) -> float:
    # json.loads accepts NaN and Infinity, but they are not JSON and most loaders reject them.
    raise ValueError(f"{name} is not valid JSON")


def parse_json(text: str) -> object:
    return json.loads(text, parse_constant=_reject_constant)


try:  # orjson parses the lines it accepts three times faster than json.loads (see parse_line)
    from orjson import loads as _orjson_loads
except ImportError:  # pragma: no cover - orjson is a dependency; the stdlib still works without it
    _orjson_loads = None


def _json_error(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} (column {exc.colno})"
    return str(exc)


def read_records(path: str | Path) -> Iterator[Record]:
    """Stream the records of one file; raise InputError when the file cannot be read at all."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if p.is_dir():
        raise InputError(f"{p}: is a directory; pass the data files inside it")
    suffix = p.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InputError(
            f"{p}: unsupported file type '{suffix or '(none)'}'; "
            f"ftk reads {', '.join(sorted(SUPPORTED_SUFFIXES))}"
        )
    try:
        if suffix in JSONL_SUFFIXES:
            yield from _read_jsonl(p)
        elif suffix == ".json":
            yield from _read_json(p)
        elif suffix == ".csv":
            yield from _read_csv(p)
        else:
            yield from _read_parquet(p)
    except OSError as exc:
        raise InputError(f"{p}: cannot read: {exc.strerror or exc}") from exc


def parse_line(path: str, line: int, raw: bytes, offset: int = -1) -> Record:
    """One JSONL line (without its newline) -> a record. Pure: the parallel path calls it too."""
    if _orjson_loads is not None:
        # Most lines: orjson accepts them, and then the line is valid UTF-8 without a byte-order
        # mark or a lone surrogate, and not blank: nothing left to check (a trailing '\r' is JSON
        # whitespace). Whatever it refuses (also a syntax error or NaN) gets the full checks and
        # json.loads, so that acceptance and messages stay the stdlib's. (An integer over 64 bits
        # orjson reads as a float: a number all the same to every rule.)
        try:
            return Record(path, line, _orjson_loads(raw), True, raw, offset)
        except ValueError:
            pass
    return _parse_checked(path, line, raw, offset)


def _parse_checked(path: str, line: int, raw: bytes, offset: int) -> Record:
    """parse_line with every check, for a line orjson refuses (or without orjson)."""
    rec = Record(path=path, line=line, raw=raw, offset=offset)
    if raw.startswith(BOM):
        where = "file starts" if line == 1 else "line starts (files concatenated?)"
        rec.issues.append(Issue(ReadProblem.BOM, f"{where} with a UTF-8 byte-order mark"))
        raw = raw[len(BOM):]
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    if not raw.strip():
        rec.issues.append(Issue(ReadProblem.BLANK_LINE, "blank line"))
        return rec
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        rec.issues.append(
            Issue(ReadProblem.INVALID_ENCODING, f"not valid UTF-8 (byte {exc.start + 1}: {raw[exc.start:exc.start + 1]!r})")
        )
        return rec
    try:
        rec.value = parse_json(text)
        rec.parsed = True
    except (ValueError, RecursionError) as exc:
        rec.issues.append(Issue(ReadProblem.INVALID_JSON, f"invalid JSON: {_json_error(exc)}"))
        return rec
    surrogate = _LONE_SURROGATE.search(text) if "\\u" in text else None
    if surrogate and _has_surrogates(json.dumps(rec.value, ensure_ascii=False)):
        rec.value, rec.parsed = None, False
        rec.issues.append(Issue(ReadProblem.INVALID_ENCODING,
                                f"lone surrogate escape {surrogate.group()!r}: not a Unicode character"))
    return rec


_BLOCK_BYTES = 1 << 22


def read_some(path: str | Path, wanted: set[int]) -> dict[int, Record]:
    """The records of the given lines only. For JSON Lines the other lines are skipped unparsed,
    so a rule can go back for a few rows it needs in full without a second full parse."""
    return {rec.line: rec for rec in iter_some(path, wanted)}


def iter_some(path: str | Path, wanted: set[int]) -> Iterator[Record]:
    """read_some, one record at a time, in file order (memory: one record, whatever `wanted` holds)."""
    p = Path(path)
    if p.suffix.lower() in JSONL_SUFFIXES:
        # Blocks of lines, not a line at a time: numpy finds a block's newlines (3x faster than
        # bytes.count and split together) and only the wanted lines are cut out; a Python step per
        # line of the file costs ~10x more.
        todo = sorted(line for line in wanted if line >= 1)
        with p.open("rb") as f:
            first, at = 1, 0  # the block's first line; the next wanted line's place in `todo`
            while at < len(todo) and (block := f.read(_BLOCK_BYTES)):
                if not block.endswith(b"\n"):
                    block += f.readline()  # finish the line the block cut
                newlines = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10).tolist()
                count = len(newlines) + (not block.endswith(b"\n"))
                end = bisect.bisect_left(todo, first + count, at)
                for line in todo[at:end]:
                    k = line - first
                    start = newlines[k - 1] + 1 if k else 0
                    yield parse_line(str(p), line, block[start:newlines[k] if k < len(newlines) else len(block)])
                first, at = first + count, end
        return
    yield from (rec for rec in read_records(p) if rec.line in wanted)


def read_at(path: str | Path, spots: Iterable[tuple[int, int]]) -> Iterator[Record]:
    """The records of JSON Lines lines whose places are known, given as (line, byte offset of its
    start; Record.offset), in file order: a seek and a line read each, where iter_some has to
    find every newline of the file up to the last line wanted."""
    # Read, not memory-mapped: the pages a mapping touches count in the process's resident memory
    # until it is closed (the final phase of a million-row lint reads 50,000 scattered lines: a
    # mapping took peak memory over the 2 GB goal), for 15-30 % less time reading them.
    with open(path, "rb") as f:
        for line, offset in sorted(spots, key=lambda s: s[1]):
            f.seek(offset)
            raw = f.readline()
            yield parse_line(str(path), line, raw[:-1] if raw.endswith(b"\n") else raw, offset)


def _read_jsonl(p: Path) -> Iterator[Record]:
    with p.open("rb") as f:
        for line, raw in enumerate(f, 1):
            yield parse_line(str(p), line, raw.rstrip(b"\n"))


def _read_json(p: Path) -> Iterator[Record]:
    """A JSON array of rows. Each element is decoded in turn so it keeps the line it starts on.

    A .json file whose first character is not '[' is read as JSON Lines, a common mislabel.
    """
    data = p.read_bytes()
    head = data[len(BOM):] if data.startswith(BOM) else data
    if not head.lstrip().startswith(b"["):
        yield from _read_jsonl(p)
        return
    bom_issue = [Issue(ReadProblem.BOM, "file starts with a UTF-8 byte-order mark")] if data.startswith(BOM) else []
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = head[: exc.start].count(b"\n") + 1
        yield Record(str(p), line, issues=bom_issue + [Issue(ReadProblem.INVALID_ENCODING,
                     f"not valid UTF-8 (byte {exc.start + 1}); the JSON array cannot be read")])
        return
    decoder = json.JSONDecoder(parse_constant=_reject_constant)
    pos = _skip_space(text, text.index("[") + 1)

    counted = [0, 1]  # newlines are counted once, incrementally: (offset counted to, line there)

    def line_at(at: int) -> int:
        counted[1] += text.count("\n", counted[0], at)
        counted[0] = at
        return counted[1]

    def broken(at: int, what: str) -> Record:
        return Record(str(p), line_at(at), issues=bom_issue + [Issue(ReadProblem.INVALID_JSON, f"invalid JSON: {what}")])

    if text.startswith("]", pos):
        pos += 1
    else:
        while True:
            try:
                value, end = decoder.raw_decode(text, pos)
            except (ValueError, RecursionError) as exc:
                what = _json_error(exc) if pos < len(text) else "unexpected end of file"
                yield broken(pos, f"{what}; the rest of the array cannot be read")
                return
            rec = Record(str(p), line_at(pos), value=value, parsed=True, issues=bom_issue)
            surrogate = _LONE_SURROGATE.search(text, pos, end)
            if surrogate and _has_surrogates(json.dumps(value, ensure_ascii=False)):
                rec.value, rec.parsed = None, False
                rec.issues = rec.issues + [Issue(ReadProblem.INVALID_ENCODING,
                                                 f"lone surrogate escape {surrogate.group()!r}: not a Unicode character")]
            yield rec
            bom_issue = []
            pos = _skip_space(text, end)
            if text.startswith("]", pos):
                pos += 1
                break
            if not text.startswith(",", pos):
                yield broken(pos, "expected ',' or ']' after an array element; the rest of the array cannot be read")
                return
            pos = _skip_space(text, pos + 1)
            if text.startswith("]", pos):
                yield broken(pos, "trailing comma before ']'")
                pos += 1
                break
    pos = _skip_space(text, pos)
    if pos < len(text):
        yield broken(pos, "text after the closing ']'")


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _decode_cell(column: str, cell: str | None) -> object:
    if cell is None:  # the row has fewer cells than the header
        return None
    if column in JSON_CELL_COLUMNS and cell[:1] in "[{":
        try:
            return parse_json(cell)
        except ValueError:
            return cell
    return cell


def _read_csv(p: Path) -> Iterator[Record]:
    raw = p.read_bytes()[:3]
    with p.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="") as f:
        reader = csv.DictReader(f)
        line = 2  # line 1 is the header
        for row in reader:
            rec = Record(str(p), line)
            if line == 2 and raw == BOM:
                rec.issues.append(Issue(ReadProblem.BOM, "file starts with a UTF-8 byte-order mark"))
            bad = [k for k, v in row.items() if isinstance(v, str) and _has_surrogates(v)]
            if bad:
                rec.issues.append(Issue(ReadProblem.INVALID_ENCODING, f"not valid UTF-8 in column '{bad[0]}'"))
            else:
                # A row shorter than the header has no value for the last columns: leave them out, so
                # the schema check reports them missing rather than null.
                rec.value = {k: _decode_cell(k, v) for k, v in row.items() if k is not None and v is not None}
                rec.parsed = True
            yield rec
            line = reader.line_num + 1


def _has_surrogates(s: str) -> bool:
    try:
        s.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


def _read_parquet(p: Path) -> Iterator[Record]:
    import pyarrow.parquet as pq  # pyarrow comes with `datasets`; imported here so JSONL needs none of it

    try:
        pf = pq.ParquetFile(p)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise InputError(f"{p}: not a readable Parquet file: {exc}") from exc
    row = 1
    for batch in pf.iter_batches(batch_size=2048):
        for value in batch.to_pylist():
            value = {k: _clean_nan(v) for k, v in value.items()}
            yield Record(str(p), row, value=value, parsed=True)
            row += 1


def _clean_nan(v: object) -> object:
    return None if isinstance(v, float) and math.isnan(v) else v


def write_jsonl_line(obj: object) -> bytes:
    text = json.dumps(obj, ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (valid in JSON, not in UTF-8): keep it as an escape
        return json.dumps(obj).encode("ascii")


__all__ = ["Record", "Issue", "ReadProblem", "read_records", "parse_line", "write_jsonl_line"]
