"""ftk lint at scale: every default rule over 1,000,000 generated chat rows, against the naive loop.

    python bench/lint_scale.py [--rows 1000000] [--seed 0] [--naive-rows 20000] [--markdown FILE]

1. Generates bench/out/chat_{rows}_seed{seed}.jsonl with bench/gen_chat.py if it is missing or older
   than the generator (1M rows: 1.5 GB, about 4 minutes).
2. Runs `ftk lint FILE --output-format json -o REPORT --no-progress` as a subprocess (one worker
   process per core: the default) and measures wall time, CPU time (user + system of the lint
   process and its workers, from os.wait4) and peak memory of the whole process tree: RSS and PSS
   summed over the lint process and its workers, sampled every 0.2 s from /proc. RSS counts pages
   that forked workers share with their parent once per process (an upper bound); PSS splits them.
3. Runs the naive loop — per row: json.loads, datasketch `MinHash(num_perm=128)` with one
   `update` per word 3-gram, `MinHashLSH.query` then `insert` (threshold 0.8), and langdetect
   (seeded) on the row's user and assistant text — on the first `--naive-rows` rows of the SAME
   file, in a subprocess of its own (wall, CPU, peak RSS as above). It does less than ftk (no row
   rules, no verification, no contradictions, no token lengths), one core only, as the
   straightforward script would. Running it on 1M rows would take hours, so its time per row is
   measured on the prefix and extrapolated linearly to the whole file; the output says so.
4. Language agreement: ftk's LanguageDetector (fast paths, cache) against the naive loop's plain
   langdetect on every one of those prefix rows (rows langdetect cannot place count as None).

Take the lock shared with the other benchmarks on this machine: `flock /tmp/ftk-bench.lock python bench/lint_scale.py`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lint_speed import OUT, ROOT, ensure_data, lint_args, machine  # noqa: E402

_WORD = re.compile(r"\w+")


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                todo += [int(c) for c in Path(f"/proc/{p}/task/{task}/children").read_text().split()]
        except OSError:
            pass
    return out


def _memory_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in KiB summed over the process and its descendants."""
    rss = pss = 0
    for p in _tree(pid):
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            pass
    return rss, pss


def measure(cmd: list[str], timeout: float) -> dict:
    """Run `cmd`; wall, CPU (it and its reaped children), peak summed RSS/PSS of its process tree."""
    peak = {"rss": 0, "pss": 0}
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=err)
        done = threading.Event()

        def sample():
            while not done.wait(0.2):
                rss, pss = _memory_kib(proc.pid)
                peak["rss"], peak["pss"] = max(peak["rss"], rss), max(peak["pss"], pss)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        stdout = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        killer.cancel()
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "maxrss_kib": usage.ru_maxrss,
            "rss_kib": peak["rss"], "pss_kib": peak["pss"], "rc": proc.returncode, "stdout": stdout.decode(),
            "stderr": stderr, "load": os.getloadavg()[0]}


def naive_loop(data: Path, rows: int) -> dict:
    """The straightforward script, timed on the first `rows` rows (runs in its own process)."""
    from datasketch import MinHash, MinHashLSH
    from langdetect import DetectorFactory, detect
    from langdetect.detector_factory import init_factory
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0
    init_factory()  # load langdetect's profiles before the clock starts, as ftk does
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    langs: list[str | None] = []
    texts: list[str | None] = []
    candidates = done = 0
    cpu0, t0 = time.process_time(), time.perf_counter()
    with data.open("rb") as f:
        for i, raw in enumerate(f):
            if i == rows:
                break
            done += 1
            try:
                row = json.loads(raw)
                msgs = row["messages"]
                text = "\n".join(m["content"] for m in msgs if m["role"] in ("user", "assistant"))
            except (ValueError, KeyError, TypeError):
                langs.append(None)
                texts.append(None)
                continue
            words = _WORD.findall(text.lower())
            m = MinHash(num_perm=128)
            for j in range(len(words) - 2):
                m.update(" ".join(words[j:j + 3]).encode("utf-8", "surrogatepass"))
            candidates += len(lsh.query(m))
            lsh.insert(str(i), m)
            try:
                langs.append(detect(text))
            except LangDetectException:
                langs.append(None)
            texts.append(text)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0

    # Agreement: ftk's detector (fast paths and all) on the same rows, not timed.
    from ftk.lint.language import LanguageDetector

    det = LanguageDetector()
    pairs = [(det.detect(t), ref) for t, ref in zip(texts, langs) if t is not None]
    return {"rows": done, "wall": wall, "cpu": cpu, "candidates": candidates,
            "lang_rows": len(pairs), "lang_agree": sum(a == b for a, b in pairs),
            "lang_disagreements": _count(f"ftk {a} / langdetect {b}" for a, b in pairs if a != b),
            "langs": _count(b for _, b in pairs), "detector_calls": dict(det.calls)}


def _count(items) -> dict:
    out: dict = {}
    for x in items:
        out[str(x)] = out.get(str(x), 0) + 1
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--naive-rows", type=int, default=20_000, help="prefix of the same file the naive loop runs on")
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--markdown", type=Path, help="also write the results here as markdown")
    ap.add_argument("--naive-only", type=Path, help=argparse.SUPPRESS)  # internal: run the naive loop on this file
    args = ap.parse_args(argv)
    if args.naive_only:
        print(json.dumps(naive_loop(args.naive_only, args.naive_rows)))
        return

    OUT.mkdir(parents=True, exist_ok=True)
    data = ensure_data(args.rows, args.seed)
    mach = machine()
    started = dt.datetime.now().astimezone()
    print(f"{started:%Y-%m-%d %H:%M %Z} · {mach}", flush=True)
    print(f"data: {data.relative_to(ROOT)} ({data.stat().st_size / 2**20:,.1f} MiB, {args.rows:,} rows)", flush=True)
    with data.open("rb") as f:  # warm the page cache for both
        while f.read(1 << 24):
            pass

    report = OUT / "lint_scale_report.json"
    cmd = [sys.executable, "-m", "ftk", *lint_args(data, report, [])]
    print("ftk: " + " ".join(["ftk", *cmd[3:]]), flush=True)
    ftk = measure(cmd, args.timeout)
    if ftk["rc"] not in (0, 1):
        sys.exit(f"ftk lint failed (exit {ftk['rc']}):\n{ftk['stderr'][-3000:]}")
    summary = json.loads(report.read_text(encoding="utf-8"))
    rows = summary["summary"]["rows"]
    print(f"  {ftk['wall']:.1f} s wall, {ftk['cpu']:.1f} s CPU, peak RSS {ftk['rss_kib'] / 2**20:.2f} GiB summed "
          f"(PSS {ftk['pss_kib'] / 2**20:.2f} GiB; largest process {ftk['maxrss_kib'] / 2**20:.2f} GiB), "
          f"load avg {ftk['load']:.2f}", flush=True)

    print(f"naive loop on the first {args.naive_rows:,} rows of the same file …", flush=True)
    naive_run = measure([sys.executable, __file__, "--naive-only", str(data), "--naive-rows", str(args.naive_rows)],
                        args.timeout)
    if naive_run["rc"] != 0:
        sys.exit(f"naive loop failed:\n{naive_run['stderr'][-3000:]}")
    naive = json.loads(naive_run["stdout"])
    per_row_wall, per_row_cpu = naive["wall"] / naive["rows"], naive["cpu"] / naive["rows"]
    est_wall, est_cpu = per_row_wall * rows, per_row_cpu * rows
    agree = naive["lang_agree"] / naive["lang_rows"] if naive["lang_rows"] else float("nan")

    lines = [
        "| | rows run | wall s | CPU s | rows/s | peak RSS (tree) | peak PSS (tree) |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| ftk lint (all default rules; {sum(summary['summary']['by_rule'].values()):,} findings) "
        f"| {rows:,} | {ftk['wall']:.1f} | {ftk['cpu']:.1f} | {rows / ftk['wall']:,.0f} | "
        f"{ftk['rss_kib'] / 2**20:.2f} GiB | {ftk['pss_kib'] / 2**20:.2f} GiB |",
        f"| naive loop, measured | {naive['rows']:,} | {naive['wall']:.1f} | {naive['cpu']:.1f} | "
        f"{1 / per_row_wall:,.0f} | {naive_run['rss_kib'] / 2**20:.2f} GiB | {naive_run['pss_kib'] / 2**20:.2f} GiB |",
        f"| naive loop, extrapolated to {rows:,} rows | {rows:,} | ≈ {est_wall:,.0f} | ≈ {est_cpu:,.0f} | "
        f"{1 / per_row_wall:,.0f} | (grows with the LSH index) | |",
    ]
    tbl = "\n".join(lines)
    ratio_text = (f"ftk vs the naive loop on the same file: **{est_wall / ftk['wall']:.1f}× faster in wall time**, "
                  f"{est_cpu / ftk['cpu']:.1f}× less CPU time (naive time per row measured on the first "
                  f"{naive['rows']:,} rows, extrapolated linearly to {rows:,}).")
    lang_text = (f"Language: ftk's detector agrees with plain langdetect on every row on "
                 f"**{100 * agree:.2f} %** of the {naive['lang_rows']:,} prefix rows "
                 f"({naive['lang_agree']:,}); langdetect's languages `{json.dumps(naive['langs'])}`; "
                 f"disagreements `{json.dumps(naive['lang_disagreements']) or 'none'}`; ftk detector calls "
                 f"`{json.dumps(naive['detector_calls'])}`.")
    goal = (f"Goal (≤ 60 s wall, ≤ 2 GB peak, ≥ 10×): wall {'met' if ftk['wall'] <= 60 else 'NOT met'} "
            f"({ftk['wall']:.1f} s), memory {'met' if ftk['pss_kib'] <= 2 * 10**6 / 1.024 else 'NOT met'} "
            f"(PSS {ftk['pss_kib'] * 1024 / 1e9:.2f} GB, RSS {ftk['rss_kib'] * 1024 / 1e9:.2f} GB), "
            f"ratio {'met' if est_wall / ftk['wall'] >= 10 else 'NOT met'} ({est_wall / ftk['wall']:.1f}×).")
    phases = summary["summary"].get("phases", {})
    phase_text = ("ftk phases (s, `summary.phases`): " + ", ".join(
        f"{name} {value}" for name, value in phases.items() if name != "jobs") + f"; workers {phases.get('jobs', 1)}.")
    goal += "\n\n" + phase_text
    print("\n" + tbl + "\n\n" + ratio_text + "\n" + lang_text + "\n" + goal)
    print(f"ftk findings by rule: {json.dumps(summary['summary']['by_rule'])}")
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text("\n".join([
            f"Measured {started:%Y-%m-%d %H:%M} on {mach}; load average after the ftk run {ftk['load']:.2f}, "
            f"after the naive run {naive_run['load']:.2f}.", "", tbl, "", ratio_text, "", lang_text, "", goal, "",
            f"ftk findings by rule: `{json.dumps(summary['summary']['by_rule'])}`", ""]), encoding="utf-8")
        print(f"wrote {args.markdown}")


if __name__ == "__main__":
    main()
