"""The final phase of `ftk lint` (each dataset rule's finish()) on its own, replayed from a snapshot.

    python bench/lint_finish.py snapshot bench/out/chat_1000000_seed0.jsonl bench/out/finish_1m.pkl
    python bench/lint_finish.py replay bench/out/finish_1m.pkl --rule NearDuplicates --runs 3

On a million rows the final phase is about ten seconds after a minute of reading rows; this takes
the minute once. `snapshot` lints the file as `ftk lint` does (every default rule, the default
workers) but pickles each dataset rule as it stands when the rows are read, instead of finishing
it (about 0.9 GB for the 1M file). `replay` unpickles the rules, forks the worker pool as
`lint_paths` does (the workers see the rule as loaded), and times `finish()` of each rule asked
for, `--runs` times on a fresh copy, alternating rules; it prints each run, the median, and a
digest of the findings: equal digests, equal findings (compare a change against its base on the
same snapshot, made by either: the state map() leaves must not have changed between them). The
first run of each rule also loads its compiled kernels: compare medians.
"""

from __future__ import annotations

import argparse
import functools
import gc
import hashlib
import pickle
import statistics
import time

from ftk.lint import engine
from ftk.lint.engine import Checker, keep_freed_memory, lint_paths
from ftk.lint.registry import DATASET_RULES, select_codes


def snapshot(data: str, out: str) -> None:
    checker = Checker(select_codes(None, None))  # loads the rules: DATASET_RULES is filled from here on
    saved: dict[str, bytes] = {}

    def keep(rule) -> iter:
        pool_run, rule.pool_run = rule.pool_run, None  # the pool cannot be pickled (replay makes one)
        saved[type(rule).__name__] = pickle.dumps(rule, protocol=pickle.HIGHEST_PROTOCOL)
        rule.pool_run = pool_run
        return iter(())

    finishers = {cls: cls.finish for cls in DATASET_RULES}
    for cls in DATASET_RULES:
        cls.finish = keep
    try:
        result = lint_paths([data], checker)
    finally:
        for cls, finish in finishers.items():
            cls.finish = finish
    with open(out, "wb") as f:
        pickle.dump(saved, f, protocol=pickle.HIGHEST_PROTOCOL)
    print(f"{data}: {result.rows:,} rows read in {result.phases['rows']:.1f} s; saved {', '.join(saved)} to {out}")


def replay_once(blob: bytes, jobs: int) -> tuple[float, str, int]:
    """(seconds, digest of the findings, how many) of one rule's finish(), with `jobs` workers."""
    checker = Checker(select_codes(None, None))
    rule = pickle.loads(blob)
    engine._WORKER = (checker, [rule])  # what forked workers run tasks on, as in lint_paths
    pool = engine._pool(jobs)
    rule.threads = jobs
    if pool is not None:
        rule.pool_run = functools.partial(engine._pool_run, pool, 0)
    try:
        start = time.perf_counter()
        found = list(rule.finish())
        seconds = time.perf_counter() - start
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        engine._WORKER = None
    digest = hashlib.sha256(repr([(f.code, f.loc.path, f.loc.line, f.message, f.related) for f in found]).encode())
    return seconds, digest.hexdigest()[:16], len(found)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("snapshot")
    s.add_argument("data")
    s.add_argument("out")
    r = sub.add_parser("replay")
    r.add_argument("snapshot")
    r.add_argument("--rule", action="append", help="a dataset rule's class name (default: every one)")
    r.add_argument("--jobs", type=int, default=engine.default_jobs())
    r.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if args.command == "snapshot":
        snapshot(args.data, args.out)
        return
    keep_freed_memory()  # as the CLI runs
    gc.set_threshold(100_000, 50, 100)  # as lint_paths runs
    with open(args.snapshot, "rb") as f:
        saved = pickle.load(f)
    names = args.rule or list(saved)
    times: dict[str, list[float]] = {name: [] for name in names}
    for run in range(1, args.runs + 1):
        for name in names:
            seconds, digest, n = replay_once(saved[name], args.jobs)
            times[name].append(seconds)
            print(f"run {run} {name:28s} {seconds:6.2f} s  {n:,} findings  digest {digest}")
    for name in names:
        print(f"median {name:28s} {statistics.median(times[name]):6.2f} s  ({args.jobs} workers)")


if __name__ == "__main__":
    main()
