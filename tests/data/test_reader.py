import json

import pytest

from ftk.data import reader
from ftk.data.reader import ReadProblem, read_records, read_some
from ftk.errors import InputError
from tests.conftest import write_jsonl


def problems(rec):
    return [i.problem for i in rec.issues]


def test_jsonl_lines_keep_their_numbers_and_problems(tmp_path):
    p = write_jsonl(tmp_path / "d.jsonl", [
        b"\xef\xbb\xbf" + b'{"text": "first"}',
        b"",
        b'{"text": "caf\xe9"}',          # Latin-1 byte, not UTF-8
        b'{"text": NaN}',                 # Python accepts NaN, JSON does not
        b'{"text": "ok"}\r',              # CRLF line
        b'[1, 2]',
        b'{"text": "\\ud800 alone"}',      # a lone surrogate escape: no character
        b'{"text": "\\ud83d\\ude00"}',     # a surrogate pair: one character
    ])
    recs = list(read_records(p))
    assert [r.line for r in recs] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert problems(recs[6]) == [ReadProblem.INVALID_ENCODING] and "lone surrogate" in recs[6].issues[0].message
    assert recs[7].value == {"text": "\U0001F600"} and not recs[7].issues
    assert problems(recs[0]) == [ReadProblem.BOM] and recs[0].value == {"text": "first"}
    assert problems(recs[1]) == [ReadProblem.BLANK_LINE] and not recs[1].parsed
    assert problems(recs[2]) == [ReadProblem.INVALID_ENCODING] and "byte 14" in recs[2].issues[0].message
    assert problems(recs[3]) == [ReadProblem.INVALID_JSON] and "NaN" in recs[3].issues[0].message
    assert recs[4].value == {"text": "ok"} and not recs[4].issues
    assert recs[5].parsed and recs[5].value == [1, 2]


def test_json_array_elements_carry_the_line_they_start_on(tmp_path):
    p = tmp_path / "d.json"
    p.write_text('[\n  {"text": "a"},\n\n  {"text":\n   "b"},\n  {"text": "c"}\n]\n')
    recs = list(read_records(p))
    assert [(r.line, r.value["text"]) for r in recs] == [(2, "a"), (4, "b"), (6, "c")]


def test_broken_json_array_reports_where_it_breaks(tmp_path):
    p = tmp_path / "d.json"
    p.write_text('[\n {"text": "a"},\n {"text": "b",\n]\n')
    recs = list(read_records(p))
    assert recs[0].value == {"text": "a"}
    assert recs[1].line == 3 and problems(recs[1]) == [ReadProblem.INVALID_JSON]
    assert "rest of the array" in recs[1].issues[0].message


def test_json_file_with_jsonl_content_is_read_as_lines(tmp_path):
    p = tmp_path / "d.json"
    p.write_text('{"text": "a"}\n{"text": "b"}\n')
    assert [r.value["text"] for r in read_records(p)] == ["a", "b"]


def test_csv_rows_use_file_line_numbers_and_decode_json_cells(tmp_path):
    p = tmp_path / "d.csv"
    msgs = json.dumps([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}])
    p.write_text('instruction,output\n"multi\nline",x\nsecond,y\n', encoding="utf-8")
    recs = list(read_records(p))
    assert [r.line for r in recs] == [2, 4]
    assert recs[0].value == {"instruction": "multi\nline", "output": "x"}
    q = tmp_path / "m.csv"
    q.write_text("messages\n" + '"' + msgs.replace('"', '""') + '"\n', encoding="utf-8")
    assert list(read_records(q))[0].value["messages"][1]["content"] == "hello"


def test_parquet_rows_are_numbered(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    p = tmp_path / "d.parquet"
    pq.write_table(pa.table({"prompt": ["a", "b", "c"], "completion": ["x", "y", None]}), p)
    recs = list(read_records(p))
    assert [(r.line, r.value["prompt"]) for r in recs] == [(1, "a"), (2, "b"), (3, "c")]
    assert recs[2].value["completion"] is None


@pytest.mark.parametrize("name, message", [("missing.jsonl", "no such file"), ("data.txt", "unsupported file type")])
def test_unreadable_inputs_raise_input_error(tmp_path, name, message):
    if name.endswith(".txt"):
        (tmp_path / name).write_text("hello")
    with pytest.raises(InputError, match=message):
        list(read_records(tmp_path / name))


@pytest.mark.parametrize("body, line, message", [
    ('[\n{"text": "a"},\n{"text": "b"},\n]\n', 4, "trailing comma"),
    ('[\n{"text": "a"}\n{"text": "b"}\n]\n', 3, "expected ',' or ']'"),
    ('[\n{"text": "a"},\n{"text": "b"}\n] trailing garbage\n', 4, "text after the closing"),
])
def test_malformed_json_arrays_are_reported_where_they_break(tmp_path, body, line, message):
    p = tmp_path / "d.json"
    p.write_text(body)
    recs = list(read_records(p))
    bad = [r for r in recs if r.issues]
    assert len(bad) == 1 and bad[0].line == line and message in bad[0].issues[0].message
    assert recs[0].value == {"text": "a"}


@pytest.mark.parametrize("block_bytes", [7, 64, 1 << 22])
def test_read_some_returns_exactly_the_wanted_lines(tmp_path, monkeypatch, block_bytes):
    # Blocks cut lines anywhere (7 bytes: inside most lines); the last line has no newline, and a
    # blank and a broken line sit among the others.
    lines = [json.dumps({"text": f"row {i} " + "x" * (i % 13)}) for i in range(1, 60)]
    lines[9], lines[20] = "", "{broken"
    path = tmp_path / "d.jsonl"
    path.write_bytes("\n".join(lines).encode())
    monkeypatch.setattr(reader, "_BLOCK_BYTES", block_bytes)
    wanted = {0, 1, 2, 10, 21, 22, 58, 59, 60, 400}
    got = read_some(path, wanted)
    every = {rec.line: rec for rec in read_records(path)}
    assert sorted(got) == [1, 2, 10, 21, 22, 58, 59]
    for line, rec in got.items():
        assert (rec.value, rec.parsed, [(i.problem, i.message) for i in rec.issues], rec.raw) == \
            (every[line].value, every[line].parsed, [(i.problem, i.message) for i in every[line].issues], every[line].raw)


@pytest.mark.parametrize("chunk_bytes", [16, 300, 1 << 20])
def test_chunk_records_know_where_their_lines_start(tmp_path, chunk_bytes):
    """The linter's chunks give each record its byte offset; read_at reads those lines again by
    seeking there, and must give the records the file gives (CRLF, BOM, blank and broken lines,
    multi-byte characters, a last line without a newline)."""
    from ftk.data.reader import read_at
    from ftk.lint.engine import jsonl_tasks, task_records

    lines = [json.dumps({"text": f"row {i} é中 " + "x" * (i % 13)}, ensure_ascii=False) for i in range(1, 60)]
    lines[9], lines[20], lines[30] = "", "{broken", lines[30] + "\r"
    path = tmp_path / "d.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode())
    data = path.read_bytes()
    chunked = [rec for task in jsonl_tasks(str(path), None, chunk_bytes)
               for rec in task_records(task, data[task.offset:task.offset + task.length])]
    every = list(read_records(path))
    assert [r.line for r in chunked] == [r.line for r in every] == list(range(1, 60))
    assert all(data[r.offset:].startswith(r.raw) for r in chunked)
    again = {rec.line: rec for rec in read_at(path, [(r.line, r.offset) for r in chunked[::-1]])}

    def seen(rec):
        return rec.value, rec.parsed, [(i.problem, i.message) for i in rec.issues], rec.raw

    assert [seen(again[r.line]) for r in every] == [seen(r) for r in every]


def test_read_at_an_empty_file_or_past_its_end_gives_blank_lines(tmp_path):
    """A line asked for where the file has none (it changed since it was linted) reads as blank,
    never as an error: the final phase then leaves that row's pair unverified."""
    from ftk.data.reader import read_at

    empty, short = tmp_path / "empty.jsonl", tmp_path / "short.jsonl"
    empty.write_bytes(b"")
    short.write_bytes(b'{"text": "a"}\n')
    assert list(read_at(empty, [])) == []
    for path, spots in ((empty, [(1, 0), (2, 7)]), (short, [(2, 14), (3, 99)])):
        got = list(read_at(path, spots))
        assert [(r.line, r.parsed, [i.problem for i in r.issues]) for r in got] == [
            (line, False, [ReadProblem.BLANK_LINE]) for line, _ in spots]
    assert [r.value for r in read_at(short, [(1, 0)])] == [{"text": "a"}]
