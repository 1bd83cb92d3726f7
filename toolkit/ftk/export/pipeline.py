"""`ftk export RUN_DIR`: merge → GGUF (f16, then each quant type) → Modelfile → verify with llama.cpp.

Everything is written into OUT.partial/ and renamed to OUT/ at the end, so OUT/ is never half
written; a failed verification keeps the files (and says so) for inspection.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from ftk.errors import UsageError
from ftk.export import llama_cpp
from ftk.export.merge import load_run, merge, parameter_count
from ftk.export.modelfile import modelfile
from ftk.export.verify import FileReport, reference, texts_for_tokenizer, verify_file
from ftk.train.models import model_dir

VERIFY_CONVERSATIONS = 4
# Rows of the training file read for verification: the tokenizer check encodes their texts (up to
# 3,000), so a 100k-row file costs what a 2k-row one does.
VERIFY_ROWS = 2000


@dataclass
class ExportResult:
    out_dir: Path
    name: str  # the run's name, used in file names (NAME-f16.gguf) and `ollama create NAME`
    ggufs: dict[str, Path] = field(default_factory=dict)
    reports: list[FileReport] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.reports)


def parse_quants(values: list[str]) -> list[str]:
    quants = list(dict.fromkeys(v.lower() for v in values))
    unknown = [q for q in quants if q not in llama_cpp.QUANT_TYPES]
    if unknown:
        raise UsageError(f"unknown quant type {', '.join(unknown)}; choose from {', '.join(llama_cpp.QUANT_TYPES)}")
    if not quants:
        raise UsageError("--quant needs at least one type")
    return quants


def check_disk(where: Path, params: int, quants: list[str]) -> None:
    """Refuse to start when the merged model and the GGUFs will not fit (10% headroom)."""
    need = params * (2 + 2 + sum(llama_cpp.BYTES_PER_WEIGHT[q] for q in quants if q != "f16")) * 1.1
    free = shutil.disk_usage(where).free
    if free < need:
        raise UsageError(f"{where}: {free / 2**30:.1f} GiB free, the export needs about {need / 2**30:.1f} GiB "
                         f"({params / 1e6:.0f}M weights: merged 16-bit model, f16 GGUF, {', '.join(quants)})")


def verify_conversations(run, tok, n: int = VERIFY_CONVERSATIONS) -> tuple[list[list[dict]], list[list[dict]]]:
    """(conversations to verify with, all conversations for the tokenizer check): from the first
    VERIFY_ROWS rows of the run's own data, the held-out ones first (training rows if none were held
    out), then fixed ones; only the fixed ones when the data file is no longer where the run found it."""
    from ftk.train.dataset import prepare_data

    path = Path(run.cfg.get("data", {}).get("path", ""))
    convs: list[list[dict]] = []
    everything: list[list[dict]] = []
    if path.is_file():
        data = prepare_data(str(path), tok, run.fmt, run.cfg.get("max_length", 2048),
                            run.cfg["data"].get("eval_split", 0.1), max_rows=VERIFY_ROWS)
        convs = [r.messages for r in (data.eval or data.train)]
        everything = [r.messages for r in data.all_rows()]
    fixed = [
        [{"role": "user", "content": "What is the capital of France?"}, {"role": "assistant", "content": "Paris."}],
        [{"role": "system", "content": "You answer briefly."}, {"role": "user", "content": "Name a prime number."},
         {"role": "assistant", "content": "Seven."}],
    ]
    return convs[: max(0, n - len(fixed))] + fixed, everything + fixed  # fixed ones: a system prompt is always tried


def export(run_dir: Path, quants: list[str], out_dir: Path | None = None, force: bool = False, base: str | None = None,
           llama_cpp_dir: Path | None = None, verify: bool = True, trust_remote_code: bool = False,
           step=None) -> ExportResult:
    """The whole export. `step(name)` is a context manager the CLI uses to show progress."""
    step = step or (lambda label: contextlib.nullcontext())
    run = load_run(run_dir)
    out_dir = out_dir or run_dir / "export"
    if out_dir.exists() and not force:
        raise UsageError(f"{out_dir} exists; pass --force to overwrite it")
    work = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    name = run_dir.resolve().name
    result = ExportResult(out_dir, name)
    check_disk(work, parameter_count(model_dir(base or run.cfg["model"])), quants)
    log = work / "convert.log"

    @contextlib.contextmanager
    def timed(key, label):  # records the step's seconds in export.json, around the CLI's progress display
        start = time.perf_counter()
        with step(label):
            yield
        result.seconds[key] = round(time.perf_counter() - start, 2)

    with timed("merge", "merge the adapter into the base weights"):
        merged = merge(run, work / "merged", base=base, trust_remote_code=trust_remote_code)
    f16 = work / f"{name}-f16.gguf"
    with timed("f16", "convert to GGUF f16 (llama.cpp's converter)"):
        llama_cpp.convert(merged, f16, "f16", log, llama_cpp_dir)
    for q in quants:
        target = work / f"{name}-{q}.gguf"
        if q == "f16":
            result.ggufs[q] = f16
            continue
        with timed(q, f"write {q}"):
            if q in llama_cpp.CONVERTER_TYPES:
                llama_cpp.convert(merged, target, q, log, llama_cpp_dir)
            else:
                llama_cpp.quantize(f16, target, q, llama_cpp_dir)
        result.ggufs[q] = target
    if "f16" not in quants:
        result.ggufs["f16"] = f16  # verified as the exact reference, removed afterwards
    num_ctx = int(run.cfg.get("export", {}).get("num_ctx", 2048))
    first = result.ggufs[quants[0]]
    (work / "Modelfile").write_text(modelfile(run.family, first.name, num_ctx))

    if verify:
        tok, model, stop_ids = reference(run, merged)
        convs, everything = verify_conversations(run, tok)
        texts = texts_for_tokenizer(everything)
        for q, path in result.ggufs.items():
            with timed(f"verify_{q}", f"verify {q} with llama.cpp"):
                result.reports.append(verify_file(q, path, run, tok, model, convs, texts, stop_ids))
    if "f16" not in quants and result.passed:
        f16.unlink()
        result.ggufs.pop("f16")
    summary = {"run": str(run_dir), "family": run.family, "quants": quants, "seconds": result.seconds,
               "files": {q: p.name for q, p in result.ggufs.items()}, "passed": result.passed,
               "verify": [{"quant": r.qtype, "file": r.path.name, "greedy_agreement": r.greedy_agreement,
                           "logit_gap": r.logit_gap, "checks": [c.__dict__ for c in r.checks]} for r in result.reports]}
    (work / "export.json").write_text(json.dumps(summary, indent=2) + "\n")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    work.rename(out_dir)
    result.ggufs = {q: out_dir / p.name for q, p in result.ggufs.items()}
    for r in result.reports:
        r.path = out_dir / r.path.name
    return result
