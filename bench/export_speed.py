"""`ftk export` of a SmolLM2-135M run, timed step by step, with the agreement table per quant type.

    .venv/bin/python bench/export_speed.py [--run RUN_DIR] [--repeat 3] [--quant f16,q8_0,q4_k_m,q5_k_m,q6_k]

Without --run it first makes one (`ftk run recipes/smollm2-lora.py train.max_steps=20`, not
timed). Each repeat is a separate `ftk export … --force` process; the figures are the medians of
the step times it records in export.json, and the wall time of the whole command (interpreter
start-up included). The issue's goal: merge + f16 + q8_0 + q4_k_m + verify <= 90 s on 2 cores.
Run it on an idle machine: llama.cpp's and PyTorch's threads stall when another process holds a core.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FTK = [sys.executable, "-m", "ftk"]


def make_run(out: Path) -> None:
    cmd = [*FTK, "run", str(REPO / "recipes" / "smollm2-lora.py"), "train.max_steps=20", "--out", str(out)]
    subprocess.run(cmd, check=True, cwd=REPO, stdout=subprocess.DEVNULL)


def one_export(run: Path, out: Path, quants: str) -> tuple[float, dict, int]:
    start = time.perf_counter()
    done = subprocess.run([*FTK, "export", str(run), "--quant", quants, "--out", str(out), "--force"], cwd=REPO,
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    summary = json.loads((out / "export.json").read_text()) if (out / "export.json").exists() else {}
    if done.returncode not in (0, 1):
        sys.exit(f"ftk export failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return wall, summary, done.returncode


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", type=Path, default=REPO / "bench" / "out" / "smollm2-export-run")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quant", default="f16,q8_0,q4_k_m")
    args = ap.parse_args()
    if not (args.run / "adapter").is_dir():
        print(f"making {args.run} (ftk run, 20 steps; not timed)", flush=True)
        make_run(args.run)
    out = args.run.parent / (args.run.name + "-export")
    walls, seconds, last = [], {}, {}
    for i in range(args.repeat):
        wall, summary, rc = one_export(args.run, out, args.quant)
        walls.append(wall)
        for k, v in summary.get("seconds", {}).items():
            seconds.setdefault(k, []).append(v)
        last = summary
        print(f"run {i + 1}: {wall:.1f} s wall, exit {rc}, load average {os.getloadavg()[0]:.2f}", flush=True)
    med = {k: statistics.median(v) for k, v in seconds.items()}
    print(f"\n{'step':<16}{'median s':>10}")
    for k, v in med.items():
        print(f"{k:<16}{v:>10.1f}")
    goal_steps = ["merge", "f16", "q8_0", "q4_k_m", "verify_f16", "verify_q8_0", "verify_q4_k_m"]
    in_goal = sum(med.get(k, 0.0) for k in goal_steps)
    print(f"{'goal steps':<16}{in_goal:>10.1f}   (merge + f16 + q8_0 + q4_k_m + their verification; goal <= 90 s)")
    print(f"{'all steps':<16}{sum(med.values()):>10.1f}")
    print(f"{'command wall':<16}{statistics.median(walls):>10.1f}   (median of {len(walls)}, start-up included)")
    print(f"\n{'quant':<8}{'file MiB':>9}  {'greedy agreement':>17}  {'max logit gap':>14}  checks")
    for v in last.get("verify", []):
        size = (out / v["file"]).stat().st_size / 2**20 if (out / v["file"]).exists() else float("nan")
        checks = ", ".join(f"{c['name']} {'ok' if c['passed'] else 'FAIL' if c['required'] else 'differs'} ({c['summary']})"
                           for c in v["checks"])
        print(f"{v['quant']:<8}{size:>9.1f}  {v['greedy_agreement']:>17.3f}  {v['logit_gap']:>14.3f}  {checks}")


if __name__ == "__main__":
    main()
