"""The chunked, multi-process lint path gives exactly the serial result: same diagnostics, same
order, same line numbers, same stats (but for the language detector's per-process cache counts)."""

import io
import json

import pytest

from ftk.data.reader import read_at
from ftk.lint.engine import Checker, jsonl_tasks, lint_paths, split_lines
from ftk.lint.registry import Options, select_codes
from tests.conftest import load_bench


@pytest.fixture(scope="module")
def chat(tmp_path_factory):
    """1,500 rows of the speed benchmark's data (duplicates, contradictions, languages, schema
    errors, secrets, PII), planted line numbers in the manifest."""
    out = io.StringIO()
    manifest = load_bench("gen_chat").generate(1500, 3, out)
    path = tmp_path_factory.mktemp("par") / "chat.jsonl"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path, manifest


@pytest.fixture(scope="module")
def near(tmp_path_factory):
    """The quality benchmark's data: near-duplicates, near-contradictions, and an eval set with leaks."""
    out = tmp_path_factory.mktemp("quality")
    load_bench("quality").generate(600, 5, out)
    return out / "train.jsonl", out / "eval.jsonl"


def _lint(paths, jobs, chunk_bytes=30_000, **options):
    return lint_paths([str(p) for p in paths], Checker(select_codes(None, None), Options(**options)),
                      jobs=jobs, chunk_bytes=chunk_bytes)


def _same(serial, parallel):
    assert [d.to_dict() for d in parallel.diagnostics] == [d.to_dict() for d in serial.diagnostics]
    for result in (serial, parallel):
        result.stats.get("language", {}).pop("detector_calls", None)
    assert parallel.stats == serial.stats
    assert [(f.path, f.rows, f.valid_rows) for f in parallel.files] == [(f.path, f.rows, f.valid_rows) for f in serial.files]


def test_tasks_cover_every_line_once(chat):
    path, _ = chat
    data = path.read_bytes() + b"last line without a newline"
    path = path.with_name("tail.jsonl")
    path.write_bytes(data)
    tasks = list(jsonl_tasks(str(path), None, chunk_bytes=10_000))
    assert len(tasks) > 100
    assert tasks[0].offset == 0 and sum(t.length for t in tasks) == len(data)
    lines = []
    for t in tasks:
        assert t.first_line == len(lines) + 1
        lines += split_lines(data[t.offset:t.offset + t.length])
    assert lines == [raw.rstrip(b"\n") for raw in path.open("rb")]


def test_parallel_equals_serial_on_chat_rows(chat):
    path, manifest = chat
    serial = _lint([path], jobs=1)
    parallel = _lint([path], jobs=2)
    _same(serial, parallel)
    # Line numbers are the file's: every planted defect is reported on its own line.
    by_line = {}
    for d in parallel.diagnostics:
        by_line.setdefault(d.line, set()).add(d.code)
    for kind in ("duplicate", "contradiction", "secret"):
        code = manifest["expected_codes"][kind][0]
        assert all(code in by_line.get(line, ()) for line in manifest["planted"][kind]), kind
    for line, detail in manifest["details"]["schema"].items():
        assert detail["code"] in by_line[int(line)]


def test_parallel_equals_serial_with_near_duplicates_and_leakage(near):
    train, ev = near
    serial = _lint([train], jobs=1, against=(str(ev),))
    parallel = _lint([train], jobs=2, against=(str(ev),))
    _same(serial, parallel)
    codes = {d.code for d in serial.diagnostics}
    assert {"FTK203", "FTK204", "FTK205"} <= codes


def test_parallel_equals_serial_across_files(chat, near):
    train, _ = near
    paths = [chat[0], train]
    _same(_lint(paths, jobs=1), _lint(paths, jobs=2, chunk_bytes=200_000))


def test_json_report_does_not_depend_on_jobs(chat):
    """The whole report (but the timing and the detector's cache counts) is the same."""
    path, _ = chat
    reports = []
    for jobs in (1, 2):
        d = _lint([path], jobs=jobs).to_dict()
        d["summary"].pop("seconds")
        d["summary"].pop("phases")
        d["stats"]["language"].pop("detector_calls")
        reports.append(json.dumps(d, sort_keys=True))
    assert reports[0] == reports[1]


def test_cli_jobs_option_gives_the_same_report(chat, tmp_path):
    from click.testing import CliRunner

    from ftk.cli import main

    path, _ = chat
    reports = []
    for jobs in ("1", "2"):
        out = tmp_path / f"r{jobs}.json"
        r = CliRunner().invoke(main, ["lint", str(path), "--jobs", jobs, "--output-format", "json", "-o", str(out),
                                      "--select", "FTK0,FTK1,FTK2,FTK5"])
        assert r.exit_code == 1, r.output
        d = json.loads(out.read_text())
        d["summary"].pop("seconds")
        assert d["summary"].pop("phases")["jobs"] == int(jobs)
        reports.append(d)
    assert reports[0] == reports[1] and reports[0]["summary"]["by_rule"]["FTK201"] > 0


def test_progress_reports_rows_and_bytes_per_chunk_then_the_dataset_phase(chat):
    path, _ = chat
    calls = []
    result = lint_paths([str(path)], Checker(select_codes(None, None)), jobs=2, chunk_bytes=100_000,
                        on_progress=lambda *a: calls.append(a))
    rows = [c[0] for c in calls]
    assert len(calls) > 10 and rows == sorted(rows) and rows[-1] == result.rows
    assert calls[-1][1] == path.stat().st_size and calls[-1][2:] == ("dataset rules",)
    assert all(len(c) == 2 for c in calls[:-1])


def test_rows_read_again_by_offset_or_by_line_number_give_the_same_result(near, monkeypatch):
    """The near-duplicate rule reads candidate rows again where their chunks saw them start
    (read_at); without offsets (rows not from JSON Lines chunks) it finds them by line number."""
    from ftk.lint import engine
    from ftk.lint.rules import near_duplicates

    train, _ = near
    seeks = []
    monkeypatch.setattr(near_duplicates, "read_at", lambda path, spots: seeks.append(len(spots)) or read_at(path, spots))
    by_offset = _lint([train], jobs=1)
    assert seeks and sum(seeks) > 10  # the candidates were read where they start
    seeks.clear()
    monkeypatch.setattr(engine, "task_records", lambda task, data: (
        engine.parse_line(task.path, task.first_line + i, raw) for i, raw in enumerate(split_lines(data))))
    by_line = _lint([train], jobs=1)
    assert not seeks  # no offsets: found by line number
    _same(by_offset, by_line)
    assert {"FTK203", "FTK204"} <= {d.code for d in by_line.diagnostics}


def test_malloc_accepts_keeping_freed_memory():
    """The CLI asks glibc to keep freed memory (engine.keep_freed_memory): on Linux mallopt must
    take every setting (it answers 1 for each it takes), elsewhere nothing is tried."""
    import sys

    from ftk.lint.engine import keep_freed_memory

    assert keep_freed_memory() is (sys.platform == "linux")


def test_rules_finish_side_by_side_in_rule_order_and_errors_surface():
    """The dataset rules finish in threads: each rule's findings come back in rule order whatever
    order they end in, and an error in one is raised in the caller, not lost in its thread."""
    import time

    from ftk.lint.engine import _finish_side_by_side
    from ftk.lint.registry import DatasetRule, Finding, Location, Options

    class Slow(DatasetRule):
        def __init__(self, delay, code):
            super().__init__(Options(), set())
            self.delay, self.code = delay, code

        def finish(self):
            time.sleep(self.delay)
            yield Finding(self.code, Location("x", 1), None, "m")

    class Broken(DatasetRule):
        def finish(self):
            raise RuntimeError("rule failed")
            yield

    done = _finish_side_by_side([Slow(0.2, "A"), Slow(0.0, "B")])
    assert [[f.code for f in found] for found, _ in done] == [["A"], ["B"]]
    assert done[0][1] >= 0.2 > done[1][1]
    with pytest.raises(RuntimeError, match="rule failed"):
        _finish_side_by_side([Slow(0.0, "A"), Broken(Options(), set())])
