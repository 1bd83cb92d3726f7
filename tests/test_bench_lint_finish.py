"""bench/lint_finish.py: the final phase replayed from a snapshot of the rules."""

from tests.conftest import load_bench


def test_final_phase_replay_finds_what_lint_finds(tmp_path):
    """bench/lint_finish.py: the rules pickled when the rows are read, then finished on their own,
    give the findings a whole `ftk lint` run gives."""
    import pickle
    from collections import Counter
    from pathlib import Path

    from ftk.lint.engine import Checker, lint_paths
    from ftk.lint.registry import DATASET_RULES, select_codes

    finish = load_bench("lint_finish")
    data = str(Path(__file__).resolve().parent.parent / "sample_data" / "dirty_chat.jsonl")
    finish.snapshot(data, str(tmp_path / "snap.pkl"))
    saved = pickle.loads((tmp_path / "snap.pkl").read_bytes())
    whole = lint_paths([data], Checker(select_codes(None, None)))
    codes = {r.code: cls.__name__ for cls in DATASET_RULES for r in cls.RULES}
    want = Counter(codes[d.code] for d in whole.diagnostics if d.code in codes)
    got = Counter({name: finish.replay_once(blob, 1)[2] for name, blob in saved.items()})
    assert +got == want and sum(want.values()) > 0


def test_cpu_ab_times_every_row_after_the_first_chunk(tmp_path):
    """bench/lint_cpu_ab.py's measurement: run_task over every chunk but the first (untimed, while
    kernels load), per row of those chunks."""
    from pathlib import Path

    from ftk.lint.engine import jsonl_tasks

    cpu_ab = load_bench("lint_cpu_ab")
    data = str(Path(__file__).resolve().parent.parent / "sample_data" / "dirty_chat.jsonl")
    tasks = list(jsonl_tasks(data, None, 2048))
    assert len(tasks) > 2
    micros, rows = cpu_ab.measure(data, 2048)
    first = sum(1 for _ in open(data, "rb").read()[:tasks[0].length].splitlines())
    assert rows == sum(1 for _ in open(data, "rb")) - first and micros > 0
