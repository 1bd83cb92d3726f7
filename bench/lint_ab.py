"""`ftk lint` at two commits, side by side on one file: runs alternate (base, this tree, base, …)
so that the machine's drift hits both alike; prints each run, the medians and their ratio, and
whether the two give the same diagnostics. Each side first lints the file's first 5,000 lines,
untimed: numba compiles its kernels into each tree's __pycache__ on first use (seconds), which a
timed run should not pay.

    python bench/lint_ab.py --base 0d68835 --runs 3 bench/out/chat_100000_seed0.jsonl

The base commit is checked out in a temporary git worktree and run with this tree's virtualenv
(PYTHONPATH points at its toolkit/), so only ftk's code differs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def lint_once(toolkit: Path, data: Path, report: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(toolkit)}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "ftk", "lint", str(data), "--output-format", "json", "-o", str(report),
                           "--no-progress"], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"ftk lint failed at {toolkit}:\n{done.stderr[-3000:]}")
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("--base", required=True, help="commit to compare this tree with")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base_tree = Path(tmp) / "base"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(base_tree), args.base], check=True)
        try:
            sides = {"base": base_tree / "toolkit", "this tree": ROOT / "toolkit"}
            walls: dict[str, list[float]] = {name: [] for name in sides}
            head = Path(tmp) / "head.jsonl"
            with open(args.data, "rb") as src, open(head, "wb") as dst:
                dst.writelines(line for _, line in zip(range(5000), src))
            for toolkit in sides.values():
                lint_once(toolkit, head, Path(tmp) / "warmup.json")
            for i in range(args.runs):
                for name, toolkit in sides.items():
                    wall = lint_once(toolkit, args.data, Path(tmp) / f"{name.replace(' ', '_')}.json")
                    walls[name].append(wall)
                    print(f"run {i + 1} {name:9s} {wall:7.2f} s", flush=True)
            reports = {name: json.loads((Path(tmp) / f"{name.replace(' ', '_')}.json").read_text(encoding="utf-8"))
                       for name in sides}
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base_tree)], check=False)
    base, this = (statistics.median(walls[name]) for name in sides)
    same = reports["base"]["diagnostics"] == reports["this tree"]["diagnostics"]
    print(f"median wall: base {args.base} {base:.2f} s, this tree {this:.2f} s: {base / this:.2f}x; "
          f"diagnostics identical: {same} ({len(reports['this tree']['diagnostics']):,})")


if __name__ == "__main__":
    main()
