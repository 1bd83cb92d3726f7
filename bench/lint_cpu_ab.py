"""CPU per row of `ftk lint`'s row work at two commits, measured at the same time, one per core.

    python bench/lint_cpu_ab.py --base 4adc2d0 --runs 8 bench/out/chat_1000000_seed0.jsonl

What a worker does to a chunk (`engine.run_task`: parse, row checks, every dataset rule's map)
over the file's first `--rows` rows, in one process with the rules prepared as `lint_paths`
prepares them; the first chunk is untimed (compiled kernels load, caches fill); CPU seconds
(time.process_time) per row of the rest. Each run starts both commits at once, each pinned to a
core of its own, and swaps the cores the next run: this machine's speed drifts by 10-20 % within
minutes, and runs taken one after the other (bench/lint_ab.py) cannot separate a 5 % change from
that, while two processes running side by side see the same drift. Prints each run, the medians
and the median of the runs' ratios. The base commit is checked out in a temporary git worktree and
run with this tree's virtualenv (PYTHONPATH points at its toolkit/), so only ftk's code differs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(path: str, chunk_bytes: int | None = None) -> tuple[float, int]:
    """(CPU µs per row, rows timed) of run_task over the file's chunks after the first (run in a child)."""
    import time

    from ftk.lint.engine import jsonl_tasks, run_task

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from lint_stages import prepared

    checker, rules, report = prepared(path)
    tasks = list(jsonl_tasks(path, report.format, *([chunk_bytes] if chunk_bytes else [])))
    run_task(tasks[0], (checker, rules))
    start, rows = time.process_time(), 0
    for task in tasks[1:]:
        rows += run_task(task, (checker, rules)).rows
    return (time.process_time() - start) / max(rows, 1) * 1e6, rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("--base", help="commit to compare this tree with")
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("--rows", type=int, default=30_000, help="the file's first rows measured")
    ap.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)  # internal: one side, one run
    args = ap.parse_args()
    if args.measure:
        print(f"{measure(str(args.data))[0]:.3f}")
        return
    if not args.base:
        ap.error("--base is required")
    cores = sorted(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as tmp:
        head = Path(tmp) / "head.jsonl"
        with open(args.data, "rb") as src, open(head, "wb") as dst:
            dst.writelines(line for _, line in zip(range(args.rows), src))
        base_tree = Path(tmp) / "base"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(base_tree), args.base], check=True)
        try:
            sides = {"base": base_tree / "toolkit", "this tree": ROOT / "toolkit"}

            def start(toolkit: Path, core: int | None) -> subprocess.Popen:
                pin = ["taskset", "-c", str(core)] if core is not None else []
                return subprocess.Popen([*pin, sys.executable, __file__, "--measure", str(head)],
                                        env={**os.environ, "PYTHONPATH": str(toolkit)}, stdout=subprocess.PIPE, text=True)

            for toolkit in sides.values():  # compile each tree's kernels into its __pycache__ first
                start(toolkit, None).communicate()
            got: dict[str, list[float]] = {name: [] for name in sides}
            for run in range(args.runs):
                order = list(sides) if run % 2 == 0 else list(sides)[::-1]
                if len(cores) >= 2:
                    procs = {name: start(sides[name], cores[k]) for k, name in enumerate(order)}
                    outs = {name: p.communicate()[0] for name, p in procs.items()}
                else:  # one core: one after the other
                    outs = {name: start(sides[name], None).communicate()[0] for name in order}
                for name in sides:
                    got[name].append(float(outs[name].strip().splitlines()[-1]))
                print(f"run {run + 1}: base {got['base'][-1]:6.1f}  this tree {got['this tree'][-1]:6.1f} µs/row  "
                      f"ratio {got['this tree'][-1] / got['base'][-1]:.3f}", flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base_tree)], check=False)
    ratios = [t / b for b, t in zip(got["base"], got["this tree"])]
    print(f"median CPU per row: base {args.base} {statistics.median(got['base']):.1f} µs, this tree "
          f"{statistics.median(got['this tree']):.1f} µs; median ratio {statistics.median(ratios):.3f} "
          f"({args.rows:,} rows, {args.runs} runs, {'side by side' if len(cores) >= 2 else 'one after the other'})")


if __name__ == "__main__":
    main()
