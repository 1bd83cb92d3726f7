"""`ftk lint --fix`: what is dropped, what is rewritten, and that fixing is idempotent."""

import hashlib
import json
import os

from click.testing import CliRunner

from ftk.cli import main
from tests.conftest import chat, write_jsonl

FIXED_CODES = {"FTK001", "FTK004", "FTK005", "FTK007", "FTK106", "FTK201", "FTK403", "FTK407"}


def lint_json(path, *extra):
    r = CliRunner().invoke(main, ["lint", str(path), "--output-format", "json", *map(str, extra)])
    return r, json.loads(r.stdout) if r.stdout.strip().startswith("{") else None


def make_dirty(tmp_path):
    rows = [
        b"\xef\xbb\xbf" + json.dumps(chat("How many legs does a spider have?", "A spider has eight legs.")).encode(),
        chat("What colour is the sky on a clear day?", "It is blue, because of Rayleigh scattering."),
        "{broken",
        "",
        chat("What colour is the SKY on a clear  day?", "It is blue, because of Rayleigh scattering."),  # dup of 2
        chat("Spell café with an accent.", "cafe\u0301 is spelt with an acute accent."),  # not NFC
        chat("Say hello politely to the user.", "Hello\x00 there, nice to meet you today."),  # control char
        chat("Give me an answer with content.", "\x07\x08"),  # only control chars: empty once cleaned
        {"instruction": "Mixed format row here.", "output": "An alpaca row in a chat file."},
        chat("Is this answer empty or not?", ""),
        chat("Spell café with an accent.", "café is spelt with an acute accent."),  # dup of 6 once NFC'd
        chat("Capital of Australia, please?", "Canberra is the capital."),
        chat("Capital of Australia, please?", "Sydney is the capital."),  # contradiction: kept, not fixable
    ]
    return write_jsonl(tmp_path / "dirty.jsonl", rows)


def test_fix_drops_rewrites_logs_and_is_idempotent(tmp_path):
    src = make_dirty(tmp_path)
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    out = tmp_path / "clean.jsonl"
    r, report = lint_json(src, "--fix", out)
    assert r.exit_code == 1
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before, "the input must never change"
    found = {(d["line"], d["code"]) for d in report["diagnostics"]}
    assert {(1, "FTK004"), (3, "FTK001"), (4, "FTK005"), (5, "FTK201"), (6, "FTK407"), (7, "FTK403"),
            (8, "FTK403"), (9, "FTK007"), (10, "FTK106")} <= found

    log = [json.loads(line) for line in (tmp_path / "clean.fixes.jsonl").read_text().splitlines()]
    actions = {e["line"]: (e["action"], e["codes"]) for e in log}
    assert actions == {
        1: ("changed", ["FTK004"]), 3: ("dropped", ["FTK001"]), 4: ("dropped", ["FTK005"]),
        5: ("dropped", ["FTK201"]), 6: ("changed", ["FTK407"]), 7: ("changed", ["FTK403"]),
        8: ("dropped", ["FTK106"]), 9: ("dropped", ["FTK007"]), 10: ("dropped", ["FTK106"]),
        11: ("dropped", ["FTK201"]),
    }
    kept = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(kept) == 13 - sum(1 for a, _ in actions.values() if a == "dropped") == 6
    assert kept[2]["messages"][1]["content"] == "café is spelt with an acute accent."
    assert kept[3]["messages"][1]["content"] == "Hello there, nice to meet you today."
    assert not out.read_bytes().startswith(b"\xef\xbb\xbf")
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask, "outputs get ordinary permissions, not mkstemp's 0600"

    # Linting the output finds none of what was fixed; the contradiction (not fixable) remains.
    r2, report2 = lint_json(out)
    assert r2.exit_code == 0
    assert {d["code"] for d in report2["diagnostics"]} & FIXED_CODES == set()
    assert {d["code"] for d in report2["diagnostics"]} == {"FTK202"}

    # Fixing the output again changes nothing.
    out2 = tmp_path / "clean2.jsonl"
    lint_json(out, "--fix", out2)
    assert out2.read_bytes() == out.read_bytes()
    assert (tmp_path / "clean2.fixes.jsonl").read_text() == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "clean.fixes.jsonl", "clean.jsonl", "clean2.fixes.jsonl", "clean2.jsonl", "dirty.jsonl"], "no temp files left"


def test_fix_respects_selection(tmp_path):
    src = write_jsonl(tmp_path / "d.jsonl", [chat("Spell café with an accent.", "cafe\u0301 it is."),
                                             chat("Spell café with an accent.", "cafe\u0301 it is.")])
    out = tmp_path / "o.jsonl"
    lint_json(src, "--fix", out, "--ignore", "FTK201,FTK407")
    assert out.read_bytes() == src.read_bytes(), "unselected fixes must not be applied"


def test_fix_refuses_to_overwrite_input_or_write_other_formats(tmp_path):
    src = write_jsonl(tmp_path / "d.jsonl", [chat("What is two plus two?", "Two plus two is four.")])
    for target, message in ((src, "never overwrites its input"), (tmp_path / "o.csv", "name it *.jsonl"),
                            (tmp_path / "nodir" / "o.jsonl", "does not exist")):
        r = CliRunner().invoke(main, ["lint", str(src), "--fix", str(target)])
        assert r.exit_code == 2 and message in r.output


def test_fix_reads_other_input_formats(tmp_path):
    src = tmp_path / "d.json"
    src.write_text(json.dumps([{"prompt": "What is two plus two?", "completion": "Four."},
                               {"prompt": "What is two plus two?", "completion": "Four."}]))
    out = tmp_path / "o.jsonl"
    lint_json(src, "--fix", out)
    assert [json.loads(line) for line in out.read_text().splitlines()] == [
        {"prompt": "What is two plus two?", "completion": "Four."}]
