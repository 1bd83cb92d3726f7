"""bench/quality.py at a tiny size: the generator's bookkeeping, and a floor under ftk's detection quality.

One `ftk lint` run (default threshold, every rule) on 2,000 training rows and 200 eval rows: ~10 s.
Not 600 rows: there the near-duplicate F1 rests on ~36 planted pairs, a third of them within 0.05 of
the 0.8 cut where MinHash's estimate is a coin toss, and it ranged 0.82-0.97 over seeds 0-3; at 2,000
rows (120 pairs) it ranged 0.91-0.96 over seeds 0-4. The full-size figures are in bench/QUALITY.md.
"""


import pytest

from tests.conftest import load_bench


@pytest.fixture(scope="module")
def quality():
    return load_bench("quality")


@pytest.fixture(scope="module")
def results(quality, tmp_path_factory):
    out = tmp_path_factory.mktemp("quality")
    return quality.main(["--rows", "2000", "--seed", "0", "--out", str(out), "--no-sweep", "--quiet"])


def test_generator_is_deterministic(quality, tmp_path):
    a = quality.generate(200, 7, tmp_path / "a")
    b = quality.generate(200, 7, tmp_path / "b")
    assert a == b
    assert (tmp_path / "a" / "train.jsonl").read_bytes() == (tmp_path / "b" / "train.jsonl").read_bytes()


def test_bookkeeping(quality, results):
    book = results["bookkeeping"]
    assert book["problems"] == []
    expected = {kind: round(share * 2000) for kind, share in quality.SHARES.items()}
    assert book["train_planted"] == expected
    assert sum(book["eval_planted"].values()) == results["eval_rows"] == 200
    run = results["runs"]["0.8"]
    # Every kind has positives to find, and near-duplicates have negatives (J < 0.8) too.
    assert run["exact"]["tp"] + run["exact"]["fn"] >= 1
    assert run["near"]["positives"] >= 1 and run["near"]["negatives"] >= 1
    assert run["contradiction"]["tp"] + run["contradiction"]["fn"] == expected["contradiction"]
    assert run["leakage"]["tp"] + run["leakage"]["fn"] >= 1
    assert run["language"]["tp"] + run["language"]["fn"] == expected["language"]


def test_ground_truth_similarity(quality):
    row = {"messages": [{"role": "user", "content": "One two three four five"},
                        {"role": "assistant", "content": "Six seven eight nine ten eleven"}]}
    assert quality.jaccard(quality.shingle_set(row), quality.shingle_set(row)) == 1.0
    edited = {"messages": [row["messages"][0], {"role": "assistant", "content": "Six seven EIGHT, nine ten twelve"}]}
    # 3 + 4 shingles; the edit replaces the one ending in "eleven": 6 shared of 8.
    assert quality.jaccard(quality.shingle_set(row), quality.shingle_set(edited)) == pytest.approx(6 / 8)
    assert quality.minhash_flag_probability(0.95, 0.8) > 0.99
    assert quality.minhash_flag_probability(0.6, 0.8) < 0.001


def test_detection_floor(results):
    run = results["runs"]["0.8"]
    assert run["exact"]["f1"] == 1.0
    # At 20,000 rows ftk reaches near-duplicate F1 0.93 and leakage recall 0.99 (bench/QUALITY.md);
    # the brief's floors for this size hold there with room to spare.
    assert run["near"]["f1"] >= 0.9  # 0.94 here
    assert run["near"]["outside_band"]["f1"] >= 0.97  # pairs with |J - 0.8| >= 0.05: 1.00 here, 0.985 at 20k
    assert run["leakage"]["recall"] >= 0.95
    # Measured at full size: contradictions F1 0.81, language F1 0.98 (the goals' 0.95 for
    # contradictions is not met: see bench/QUALITY.md). Floors a margin below this size's figures
    # (contradiction recall 0.85 of 40 pairs, language recall 0.95 of 20 rows, seed 0).
    assert run["contradiction"]["recall"] >= 0.7
    assert run["language"]["recall"] >= 0.8
    assert run["language"]["controls_flagged"] == 0
