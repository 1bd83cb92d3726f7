"""Benchmark `ftk lint` on a generated 100k-row chat file: rows/s and peak RSS, language rule on and off.

    python bench/lint_speed.py [--rows 100000] [--seed 0] [--repeat 3] [--markdown bench/out/lint_speed.md]

1. Generates bench/out/chat_{rows}_seed{seed}.jsonl (and its manifest) with bench/gen_chat.py if it
   is missing or older than the generator.
2. Runs `ftk lint FILE --output-format json -o REPORT --no-progress [extra]` as a subprocess in three
   configurations, interleaved (a, b, c, a, b, c, …) so that drift in machine load hits all of them
   alike, `--repeat` times each:
     (a) all default rules (language rule FTK601 on)
     (b) --ignore FTK601 (language off) — the baseline of the ratios
     (c) all default rules + --tokenizer smollm2 (exact token counts with a real tokenizer)
   and prints the median wall time, rows/s, CPU time (user + system, all threads), the engine's
   own time (the report's summary.seconds: reading and checking, without interpreter start-up,
   imports and report writing) and peak RSS. CPU time is the figure to compare when the machine is
   busy with other work (a shared 2-core box): wall time then grows with the load, CPU time much
   less; the load average after each run is printed so that a noisy run can be told apart.
3. Measures language-ID agreement: on a seeded sample of rows, ftk's LanguageDetector (with its
   fast paths) against plain seeded langdetect on the same cleaned text, plus the fast-path share.

Peak RSS: each run is reaped with os.wait4(pid), which returns the resource usage of exactly that
child, ru_maxrss included (KiB on Linux) — the figure `/usr/bin/time -v` prints, since GNU time
calls wait4 itself, but without depending on that binary being installed (or on its output format).
getrusage(RUSAGE_CHILDREN) cannot be used: its ru_maxrss is the maximum over all children reaped so
far, so it never goes down between runs and deltas of a maximum mean nothing. An in-process
launcher would work too, but this way the measured process is the real console entry point, in its
own interpreter, exactly as a user runs it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"  # gitignored
CONFIGS = [  # (key, description, extra `ftk lint` arguments)
    ("a", "all rules (language on)", []),
    ("b", "`--ignore FTK601` (language off)", ["--ignore", "FTK601"]),
    ("c", "all rules + `--tokenizer smollm2`", ["--tokenizer", "smollm2"]),
]
BASELINE = "b"


def ensure_data(rows: int, seed: int) -> Path:
    data = OUT / f"chat_{rows}_seed{seed}.jsonl"
    generator = ROOT / "bench" / "gen_chat.py"
    # Regenerate when the generator changed since: same seed, but no longer the same rows.
    if not data.exists() or data.stat().st_mtime < generator.stat().st_mtime:
        manifest = data.with_suffix(".manifest.json")
        subprocess.run([sys.executable, str(generator), "--rows", str(rows), "--seed", str(seed),
                        "--out", str(data), "--manifest", str(manifest)], check=True)
    return data


def lint_args(data: Path, report: Path, extra: list[str]) -> list[str]:
    """Arguments after `ftk`. Runs use `python -m ftk` with this interpreter: the same entry point as
    the `ftk` console script of its environment, without relying on that script being on PATH."""
    return ["lint", str(data), "--output-format", "json", "-o", str(report), "--no-progress", *extra]


def run_once(cmd: list[str], timeout: float) -> dict:
    """Run one lint; wall seconds, peak RSS (KiB) and exit code, or timed_out."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
        killed = threading.Event()
        killer = threading.Timer(timeout, lambda: (killed.set(), proc.kill()))
        killer.start()
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage: see the module docstring
        wall = time.perf_counter() - start
        killer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    rss_kib = usage.ru_maxrss if sys.platform != "darwin" else usage.ru_maxrss // 1024
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_kib": rss_kib, "rc": proc.returncode,
            "timed_out": killed.is_set(), "stderr": stderr}


def benchmark(data: Path, repeat: int, timeout: float) -> dict[str, dict]:
    # Read the file once so that the first run does not pay for a cold page cache alone.
    with data.open("rb") as f:
        while f.read(1 << 24):
            pass
    results: dict[str, dict] = {key: {"runs": [], "timed_out": False} for key, _, _ in CONFIGS}
    for r in range(repeat):
        for key, _desc, extra in CONFIGS:
            res = results[key]
            if res["timed_out"]:
                continue  # one run past the limit is the finding; do not wait on it again
            report = OUT / f"lint_speed_report_{key}.json"
            run = run_once([sys.executable, "-m", "ftk", *lint_args(data, report, extra)], timeout)
            run["load"] = os.getloadavg()[0]
            if run["timed_out"]:
                res["timed_out"] = True
                print(f"  ({key}) run {r + 1}: KILLED after {timeout:.0f} s — over the limit", flush=True)
                continue
            if run["rc"] not in (0, 1):  # 1 means error findings, expected on this file
                sys.exit(f"ftk lint failed (exit {run['rc']}) for ({key}):\n{run['stderr'][-2000:]}")
            summary = json.loads(report.read_text(encoding="utf-8"))["summary"]
            run |= {"engine": summary["seconds"], "rows": summary["rows"], "by_rule": summary["by_rule"]}
            res["runs"].append(run)
            print(f"  ({key}) run {r + 1}: {run['wall']:.1f} s wall, {run['cpu']:.1f} s CPU, {run['engine']:.1f} s engine, "
                  f"{run['rss_kib'] / 1024:.0f} MiB peak RSS, load avg {run['load']:.2f}", flush=True)
    return results


def table(results: dict[str, dict], timeout: float) -> str:
    med = {}
    for key, res in results.items():
        runs = res["runs"]
        if runs:
            med[key] = {k: statistics.median(r[k] for r in runs) for k in ("wall", "cpu", "engine", "rss_kib")}
            med[key]["rows"] = runs[0]["rows"]
    base = med.get(BASELINE)
    lines = ["| config | rules | runs | wall s | rows/s | CPU s | rows/CPU-s | engine s | peak RSS MiB "
             "| wall vs (b) | CPU vs (b) | RSS vs (b) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for key, desc, _ in CONFIGS:
        if key not in med:
            lines.append(f"| ({key}) | {desc} | 0 | > {timeout:.0f} (killed) | | | | | | | | |")
            continue
        m = med[key]
        ratios = " | ".join(f"{m[k] / base[k]:.2f}×" if base else "" for k in ("wall", "cpu", "rss_kib"))
        lines.append(f"| ({key}) | {desc} | {len(results[key]['runs'])} | {m['wall']:.1f} | {m['rows'] / m['wall']:,.0f} | "
                     f"{m['cpu']:.1f} | {m['rows'] / m['cpu']:,.0f} | {m['engine']:.1f} | {m['rss_kib'] / 1024:.0f} | "
                     f"{ratios} |")
    return "\n".join(lines)


def row_texts(data: Path, sample: int, seed: int) -> list[str]:
    """The text FTK601 judges (user and assistant turns, joined), for `sample` random valid rows."""
    from ftk.data.formats import detect_format, normalise
    from ftk.data.reader import parse_line
    from ftk.lint.rules.language import TRAINED_ROLES

    raw_lines = data.read_bytes().split(b"\n")
    order = list(range(len(raw_lines)))
    random.Random(seed).shuffle(order)
    texts = []
    for i in order:  # shuffled; rows that do not normalise (schema defects) are skipped
        rec = parse_line(str(data), i + 1, raw_lines[i])
        if rec.parsed and isinstance(rec.value, dict) and (fmt := detect_format(rec.value)) is not None:
            example, _ = normalise(rec.value, fmt)
            if example is not None:
                texts.append("\n".join(t.content for t in example.all_turns() if t.role in TRAINED_ROLES))
                if len(texts) == sample:
                    break
    return texts


def language_agreement(data: Path, sample: int, seed: int) -> dict:
    from langdetect import DetectorFactory, detect
    from langdetect.lang_detect_exception import LangDetectException

    from ftk.lint.language import LanguageDetector, clean_text

    texts = row_texts(data, sample, seed)
    detector = LanguageDetector()
    DetectorFactory.seed = 0
    ours, ref = [], []
    t0 = time.perf_counter()
    for text in texts:
        ours.append(detector.detect(text))
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    for text in texts:
        try:
            ref.append(detect(clean_text(text)))
        except LangDetectException:
            ref.append(None)
    t_ref = time.perf_counter() - t0
    n = len(texts)
    judged = [(o, r) for o, r in zip(ours, ref) if o is not None]
    calls = dict(detector.calls)
    disagreements: dict[str, int] = {}
    for o, r in zip(ours, ref):
        if o != r:
            disagreements[f"ftk {o} / langdetect {r}"] = disagreements.get(f"ftk {o} / langdetect {r}", 0) + 1
    return {
        "rows": n, "agree": sum(o == r for o, r in zip(ours, ref)),
        "judged": len(judged), "agree_judged": sum(o == r for o, r in judged),
        "calls": calls, "fast_path": n - calls["langdetect"],
        "ms_ours": 1000 * t_ours / n, "ms_ref": 1000 * t_ref / n,
        "langs_ref": dict(sorted(_count(ref).items(), key=lambda kv: -kv[1])),
        "disagreements": disagreements,
    }


def _count(items) -> dict:
    out: dict = {}
    for x in items:
        out[str(x)] = out.get(str(x), 0) + 1
    return out


def agreement_text(a: dict) -> str:
    pct = lambda x, n: f"{100 * x / n:.2f} %" if n else "n/a"  # noqa: E731
    return "\n".join([
        f"- Agreement with plain langdetect on {a['rows']:,} sampled rows: **{pct(a['agree'], a['rows'])}** "
        f"({a['agree']:,}/{a['rows']:,}); on the {a['judged']:,} rows ftk judged (not too short): "
        f"{pct(a['agree_judged'], a['judged'])}.",
        f"- Fast-path share (answered without calling langdetect): **{pct(a['fast_path'], a['rows'])}** — "
        f"detector.calls = `{json.dumps(a['calls'])}`.",
        f"- Time per row: ftk detector {a['ms_ours']:.2f} ms, plain langdetect {a['ms_ref']:.2f} ms.",
        f"- langdetect's languages in the sample: `{json.dumps(a['langs_ref'])}`; "
        f"disagreements: `{json.dumps(a['disagreements']) if a['disagreements'] else 'none'}`.",
    ])


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    mem = next((int(line.split()[1]) / 2**20 for line in _read("/proc/meminfo").splitlines()
                if line.startswith("MemTotal")), 0)
    gpu = "NVIDIA GPU present" if shutil.which("nvidia-smi") else "no GPU"
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    dirty = subprocess.run(["git", "status", "--porcelain", "toolkit"], cwd=ROOT, capture_output=True, text=True).stdout
    from ftk import __version__
    return (f"nproc {nproc} ({cpu}), {mem:.0f} GiB RAM, {gpu}; Python {platform.python_version()} on "
            f"{platform.system()} {platform.release()}; ftk {__version__} at {commit.strip() or '?'}"
            f"{' (toolkit/ has uncommitted changes)' if dirty.strip() else ''}")


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0, help="generator seed (the language sample uses it too)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=300, help="seconds before one lint run is killed (default 5 min)")
    ap.add_argument("--sample", type=int, default=2000, help="rows in the language-agreement sample")
    ap.add_argument("--markdown", type=Path, help="also write the results here as markdown")
    args = ap.parse_args(argv)

    OUT.mkdir(parents=True, exist_ok=True)
    data = ensure_data(args.rows, args.seed)
    mach = machine()
    started = dt.datetime.now().astimezone()
    print(f"{started:%Y-%m-%d %H:%M %Z} · {mach}")
    print(f"data: {data.relative_to(ROOT)} ({data.stat().st_size / 2**20:.1f} MiB)")
    print("command: ftk " + " ".join(lint_args(data.relative_to(ROOT), Path("REPORT.json"), [])) + " [extra]")
    results = benchmark(data, args.repeat, args.timeout)
    tbl = table(results, args.timeout)
    print("\n" + tbl + "\n")
    for key, res in results.items():
        if res["timed_out"]:
            print(f"FINDING: config ({key}) ran past {args.timeout:.0f} s and was killed")
    found = {key: res["runs"][0]["by_rule"].get("FTK601", 0) for key, res in results.items() if res["runs"]}
    print(f"FTK601 findings per config: {found}")
    loads = [r["load"] for res in results.values() for r in res["runs"]]
    load_text = f"1-minute load average after each run: {min(loads):.2f}–{max(loads):.2f}" if loads else ""
    print(load_text)

    print(f"\nlanguage-ID agreement on {args.sample:,} sampled rows …", flush=True)
    agreement = language_agreement(data, args.sample, args.seed)
    agr = agreement_text(agreement)
    print(agr)

    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text("\n".join([
            f"Measured {started:%Y-%m-%d} on {mach}.",
            f"Data: `{data.relative_to(ROOT)}` ({args.rows:,} rows, seed {args.seed}, "
            f"{data.stat().st_size / 2**20:.1f} MiB); median of {args.repeat} interleaved runs per config; "
            f"{load_text}.",
            "", tbl, "", f"FTK601 findings per config: `{json.dumps(found)}`", "", agr, ""]), encoding="utf-8")
        print(f"\nwrote {args.markdown}")


if __name__ == "__main__":
    main()
