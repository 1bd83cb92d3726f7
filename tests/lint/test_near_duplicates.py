"""Near-duplicates (FTK203), near-contradictions (FTK204), leakage (FTK205) and the near-dup fix."""

import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from ftk.cli import main
from ftk.lint.near_dup import NearDuplicateIndex, clusters, shingles

CASES = Path(__file__).resolve().parent.parent / "cases"
LEAKAGE = Path(__file__).resolve().parent / "leakage"


def lint_json(*args):
    r = CliRunner().invoke(main, ["lint", *map(str, args), "--output-format", "json"])
    return r, json.loads(r.stdout)


def test_shingles_ignore_punctuation_and_short_texts_use_characters():
    assert np.array_equal(shingles("how long does standard delivery take within germany?"),
                          shingles("how long does standard delivery take within germany,"))
    short = shingles("thanks a lot")
    assert short.size == len("thanks a lot") - 4  # character 5-grams


def test_index_verifies_candidates_and_clusters_transitively():
    idx = NearDuplicateIndex(threshold=0.8, num_perm=128, warmup=1)
    base = " ".join(f"word{i}" for i in range(60))
    texts = [base, base + " extra", base + " extra more", " ".join(f"other{i}" for i in range(60))]
    for i, t in enumerate(texts):
        idx.add(i, shingles(t))
    pairs = idx.finish()
    assert {(a, b) for a, b, _ in pairs} >= {(1, 0), (2, 1)}
    assert all(sim >= 0.8 for _, _, sim in pairs)
    assert clusters(pairs) == {0: [0, 1, 2]}


def test_shared_boilerplate_is_discounted():
    preamble = " ".join(f"policy{i}" for i in range(80))  # long text repeated in every row
    idx = NearDuplicateIndex(threshold=0.8, num_perm=128, warmup=50)
    for i in range(60):
        idx.add(i, shingles(f"{preamble} question number {i} about topic{i} and detail{i * 7} please"))
    assert idx.boilerplate.size >= 70
    assert idx.finish() == [], "rows sharing only the preamble must not be near-duplicates"


def test_near_duplicate_fix_keeps_first_of_each_cluster(tmp_path):
    src = CASES / "FTK203" / "fail.jsonl"
    out = tmp_path / "out.jsonl"
    r, report = lint_json(src, "--fix", out, "--fix-near-duplicates", "--ignore", "FTK601")
    kept = out.read_text().splitlines()
    assert len(kept) == 10 - 3 - 1  # three near-duplicates, one exact duplicate
    r2, report2 = lint_json(out, "--ignore", "FTK601")
    assert not {d["code"] for d in report2["diagnostics"]} & {"FTK201", "FTK203"}
    # Without the flag near-duplicates are reported but kept.
    lint_json(src, "--fix", tmp_path / "o2.jsonl", "--ignore", "FTK601")
    assert len((tmp_path / "o2.jsonl").read_text().splitlines()) == 9


def test_fix_near_duplicates_needs_fix():
    r = CliRunner().invoke(main, ["lint", str(CASES / "FTK203" / "fail.jsonl"), "--fix-near-duplicates"])
    assert r.exit_code == 2 and "goes with --fix" in r.output


def test_leakage_reports_eval_rows_with_the_training_line():
    train, ev = LEAKAGE / "train.jsonl", LEAKAGE / "eval.jsonl"
    r, report = lint_json(train, "--against", ev, "--ignore", "FTK601")
    assert r.exit_code == 1  # leakage is an error
    leaks = {d["line"]: d["message"] for d in report["diagnostics"] if d["code"] == "FTK205"}
    assert set(leaks) == {1, 2, 3}
    assert all(d["path"] == str(ev) for d in report["diagnostics"] if d["code"] == "FTK205")
    assert leaks[1] == f"exact duplicate of training row {train}:3"
    assert leaks[2].startswith("near-duplicate (") and leaks[2].endswith(f"of training row {train}:4")
    assert leaks[3] == f"shares a 13-word sequence with training row {train}:5"
    assert report["stats"]["leakage"] == {"eval_rows": 5, "leaked_rows": 3}


def test_stricter_threshold_leaves_the_ngram_test():
    train = LEAKAGE / "train.jsonl"
    r, report = lint_json(train, "--against", train.parent / "eval.jsonl", "--select", "FTK205",
                          "--near-threshold", "0.95")
    leaks = {d["line"]: d["message"] for d in report["diagnostics"]}
    assert set(leaks) == {1, 2, 3}
    # A near-duplicate message at 0.95 must carry a similarity of at least 0.95; otherwise the
    # row is caught by its 13-grams.
    if leaks[2].startswith("near-duplicate"):
        assert float(leaks[2].split("(")[1].split(")")[0]) >= 0.95
    else:
        assert leaks[2].startswith("shares a 13-word sequence")


def test_batch_signatures_equal_datasketch_minhash():
    from datasketch import MinHash

    from ftk.lint.near_dup import MinHasher

    rows = [shingles("the quick brown fox jumps over the lazy dog again and again"), shingles("hello there"),
            np.array([1, 2, 3, 4000000000], dtype=np.uint32)]
    sigs = MinHasher(64).signatures(rows)
    for row, sig in zip(rows, sigs):
        m = MinHash(num_perm=64, hashfunc=lambda x: x)
        m.update_batch(row.tolist())
        assert np.array_equal(m.hashvalues, sig)
