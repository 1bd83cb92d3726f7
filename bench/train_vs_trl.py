"""`ftk run`'s training path against a plain TRL SFTTrainer + PEFT script: same model, data and settings.

    flock /tmp/ftk-bench.lock .venv/bin/python bench/train_vs_trl.py                 # SmolLM2-135M, 3 rounds
    .venv/bin/python bench/train_vs_trl.py --model tiny --rounds 1                 # tiny random Llama: a minute

Sides, each in a fresh process, interleaved round by round (ftk-hf, ftk-unsloth, trl, ftk-hf, …):

- `ftk-hf` / `ftk-unsloth`: ftk.train.run.train() with recipes/smollm2-lora.py (its LoRA, batch, max
  length, learning rate; its length-grouped batches and ftk's label mask), backend hf or unsloth.
- `trl`: the script a user writes from TRL's docs (`plain_trl` below): the JSONL loaded with
  `datasets`, TRL's own chat-template tokenisation of `messages` and its own collator, the same
  LoRA/batch/max length/learning rate/seed. Its one CPU addition: TRL 1.15 computes the loss with a
  Triton LM head that needs a GPU, so on CPU the trainer takes the model's own loss (4 lines; without
  them SFTTrainer fails on CPU with "'NoneType' object has no attribute 'apply'").

Both train one epoch over the same rows (ftk's train split, written to bench/out/train_vs_trl/),
no evaluation, no checkpoints. Measured in the child from the trainer's own events: the wall and CPU time
(process, all threads) of each optimizer step (from one `on_step_end` to the next, so batch collation
is included; the first step from `on_train_begin`), and of every batch the model saw, its non-pad tokens (attention_mask ones)
and its padded size (rows x longest). tokens/s counts non-pad tokens.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "toolkit"), str(ROOT)]
RECIPE = ROOT / "recipes" / "smollm2-lora.py"
OUT = ROOT / "bench" / "out" / "train_vs_trl"
SIDES = ("ftk-hf", "ftk-unsloth", "trl")


# ---------------------------------------------------------------- the plain TRL script, as a user writes it
def plain_trl(model_path: str, tokenizer_path: str, data_file: str, out_dir: str, settings: dict, callbacks=()):
    import torch
    from datasets import load_dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer
    from trl import SFTConfig, SFTTrainer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_path)
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)
    dataset = load_dataset("json", data_files=data_file, split="train")
    args = SFTConfig(
        output_dir=out_dir, use_cpu=True, bf16=False, gradient_checkpointing=False, report_to=[],
        save_strategy="no", logging_steps=1, max_length=settings["max_length"],
        per_device_train_batch_size=settings["per_device_train_batch_size"],
        learning_rate=settings["learning_rate"], num_train_epochs=settings["num_train_epochs"],
        max_steps=settings["max_steps"], lr_scheduler_type=settings["lr_scheduler_type"],
        warmup_steps=settings["warmup_steps"], seed=settings["seed"])

    class CPUSFTTrainer(SFTTrainer):  # TRL 1.15's fused LM head is a Triton kernel: the model's own loss on CPU
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            inputs["use_cache"] = False
            return Trainer.compute_loss(self, model, inputs, return_outputs, num_items_in_batch)

    trainer = CPUSFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                            peft_config=LoraConfig(task_type="CAUSAL_LM", **settings["lora"]), callbacks=list(callbacks))
    trainer.train()


# ---------------------------------------------------------------- one side, in its own process
def _count_batches(record: list) -> None:
    """Every batch the model trains on: (non-pad tokens, padded size)."""
    from transformers import Trainer

    original = Trainer.training_step

    def training_step(self, model, inputs, *args, **kwargs):
        mask = inputs.get("attention_mask")
        if mask is not None:
            record.append((int(mask.sum()), int(mask.numel())))
        else:  # padding-free: one row of real tokens
            record.append((int(inputs["input_ids"].numel()), int(inputs["input_ids"].numel())))
        return original(self, model, inputs, *args, **kwargs)

    Trainer.training_step = training_step


def _clock():
    from transformers import TrainerCallback

    class StepClock(TrainerCallback):
        def __init__(self):
            self.times, self.cpu, self.losses = [], [], []

        def on_train_begin(self, args, state, control, **kwargs):
            self.times, self.cpu = [time.perf_counter()], [time.process_time()]

        def on_step_end(self, args, state, control, **kwargs):
            self.times.append(time.perf_counter())
            self.cpu.append(time.process_time())

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                self.losses.append(logs["loss"])

    return StepClock()


def child(side: str, cfg_path: Path, result: Path) -> None:
    start = time.perf_counter()
    cfg = json.loads(cfg_path.read_text())
    import torch

    torch.set_num_threads(cfg["threads"])
    if side == "ftk-unsloth":
        from ftk.train.backends import prepare_backend

        prepare_backend("unsloth")  # before transformers, as `ftk run` does
    batches: list = []
    _count_batches(batches)
    clock = _clock()
    out_dir = Path(cfg["work"]) / side
    if side == "trl":
        plain_trl(cfg["model_path"], cfg["tokenizer_path"], cfg["data"], str(out_dir), cfg["settings"], [clock])
    else:
        from ftk.train.dataset import prepare_data
        from ftk.train.families import FAMILIES
        from ftk.train.models import load_tokenizer
        from ftk.train.recipe import apply_overrides, check_recipe, load_recipe
        from ftk.train.run import train

        recipe = apply_overrides(load_recipe(RECIPE), cfg["overrides"])
        check_recipe(recipe)
        fmt = FAMILIES[recipe["family"]]
        data = prepare_data(cfg["data"], load_tokenizer(recipe["tokenizer"], fmt, RECIPE.parent), fmt,
                            recipe["max_length"], eval_split=0.0, seed=recipe["train"]["seed"])
        train(recipe, out_dir, data=data, echo=lambda *a, **k: None, backend=side.split("-")[1], callbacks=[clock])
    steps = [b - a for a, b in zip(clock.times, clock.times[1:])]
    cpu = [b - a for a, b in zip(clock.cpu, clock.cpu[1:])]
    result.write_text(json.dumps({
        "side": side, "steps": len(steps), "step_s": steps, "cpu_s": cpu, "batches": batches, "losses": clock.losses,
        "total_s": time.perf_counter() - start, "threads": torch.get_num_threads(),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


# ---------------------------------------------------------------- the parent: data, interleaving, table
def prepare(args) -> dict:
    from ftk.train.dataset import prepare_data
    from ftk.train.families import FAMILIES
    from ftk.train.models import BUILTIN_SMOLLM2, load_tokenizer, model_dir, tokenizer_path
    from ftk.train.recipe import load_recipe

    OUT.mkdir(parents=True, exist_ok=True)
    recipe = load_recipe(RECIPE)
    fmt = FAMILIES[recipe["family"]]
    tok = load_tokenizer(recipe["tokenizer"], fmt, RECIPE.parent)
    data = prepare_data(str(ROOT / recipe["data"]["path"]), tok, fmt, recipe["max_length"],
                        recipe["data"]["eval_split"], seed=recipe["train"]["seed"])
    train_file = OUT / "train.jsonl"  # ftk's train split: both sides train on exactly these rows
    train_file.write_text("".join(json.dumps({"messages": r.messages}) + "\n" for r in data.train))
    if args.model == "tiny":
        from tests.train.test_run import make_tiny_model

        model = OUT / "tiny-llama"
        if not (model / "config.json").is_file():
            make_tiny_model(model)
        model_path, tok_path = str(model), tokenizer_path(recipe["tokenizer"], RECIPE.parent)
    else:
        model_path = tok_path = model_dir(BUILTIN_SMOLLM2)  # the SmolLM2 safetensors ftk converts, upstream tokenizer
    t = recipe["train"]
    settings = {"lora": recipe["lora"], "max_length": recipe["max_length"], "seed": t["seed"],
                "per_device_train_batch_size": t["per_device_train_batch_size"], "learning_rate": t["learning_rate"],
                "num_train_epochs": args.epochs, "max_steps": args.max_steps, "lr_scheduler_type": t["lr_scheduler_type"],
                "warmup_steps": t["warmup_steps"]}
    overrides = [f"model={model_path}", f"train.num_train_epochs={args.epochs}", f"train.max_steps={args.max_steps}",
                 "train.save_steps=1000000", f"data.path={train_file}"]
    return {"model": args.model, "model_path": model_path, "tokenizer_path": tok_path, "data": str(train_file),
            "rows": len(data.train), "settings": settings, "overrides": overrides, "threads": args.threads,
            "work": str(OUT / "runs")}


def summarise(runs: list[dict]) -> dict:
    step_s = [sum(r["step_s"]) / r["steps"] for r in runs]  # per run: epoch time / steps
    cpu_s = [sum(r["cpu_s"]) / r["steps"] for r in runs]  # CPU time of the process, all threads
    tokens = [sum(n for n, _ in r["batches"]) for r in runs]
    slots = [sum(s for _, s in r["batches"]) for r in runs]
    shares = [n / s for r in runs for n, s in r["batches"]]
    return {"runs": len(runs), "steps": runs[0]["steps"], "s_step": statistics.median(step_s),
            "s_step_all": step_s, "median_step_s": statistics.median(statistics.median(r["step_s"]) for r in runs),
            "cpu_step": statistics.median(cpu_s), "cpu_step_all": cpu_s,
            "tok_s": statistics.median(t / sum(r["step_s"]) for t, r in zip(tokens, runs)),
            "tokens": tokens[0], "slots": slots[0], "nonpad_share": tokens[0] / slots[0],
            "min_batch_share": min(shares), "median_batch_share": statistics.median(shares),
            "first_loss": runs[0]["losses"][0] if runs[0]["losses"] else None,
            "last_loss": runs[0]["losses"][-1] if runs[0]["losses"] else None,
            "peak_rss_mib": statistics.median(r["peak_rss_mib"] for r in runs)}


def table(summary: dict[str, dict], base: str) -> str:
    lines = ["| side | runs | steps | s/step (epoch / steps) | median step s | non-pad tokens/s | s/step vs trl | "
             "CPU s/step | CPU vs trl | non-pad share (all batches) | worst batch | peak RSS MiB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for side, s in summary.items():
        ratio = s["s_step"] / summary[base]["s_step"] if base in summary else float("nan")
        cpu_ratio = s["cpu_step"] / summary[base]["cpu_step"] if base in summary else float("nan")
        lines.append(f"| {side} | {s['runs']} | {s['steps']} | {s['s_step']:.3f} | {s['median_step_s']:.3f} | "
                     f"{s['tok_s']:,.0f} | {ratio:.2f}x | {s['cpu_step']:.3f} | {cpu_ratio:.2f}x | "
                     f"{s['nonpad_share']:.1%} | {s['min_batch_share']:.1%} | {s['peak_rss_mib']:,.0f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=["smollm2", "tiny"], default="smollm2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sides", default=",".join(SIDES))
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--max-steps", type=int, default=-1, help="stop each run after this many steps (-1: the epochs)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--markdown", type=Path, help="also write the table and details here")
    ap.add_argument("--child", choices=SIDES, help=argparse.SUPPRESS)
    ap.add_argument("--config", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--summarise", type=Path, metavar="DIR",
                    help="only rebuild the table from the per-run results (SIDE.ROUND.json) saved in DIR")
    args = ap.parse_args()
    if args.child:
        child(args.child, args.config, args.result)
        return
    if args.summarise:
        runs = {}
        for f in sorted(args.summarise.glob("*.*.json"), key=lambda f: (SIDES.index(f.name.split(".")[0]), f.name)):
            runs.setdefault(f.name.split(".")[0], []).append(json.loads(f.read_text()))
        summary = {s: summarise(rs) for s, rs in runs.items()}
        print(table(summary, "trl"))
        for side, s in summary.items():
            print(f"{side}: s/step per run {', '.join(f'{x:.3f}' for x in s['s_step_all'])}; CPU s/step per run "
                  f"{', '.join(f'{x:.3f}' for x in s['cpu_step_all'])}")
        return
    sides = [s for s in args.sides.split(",") if s]
    if unknown := set(sides) - set(SIDES):
        ap.error(f"unknown sides {sorted(unknown)} (choose from {', '.join(SIDES)})")
    cfg = prepare(args)
    cfg_path = OUT / "config.json"
    cfg_path.write_text(json.dumps(cfg, indent=1))
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "TOKENIZERS_PARALLELISM": "false",
           "HF_DATASETS_DISABLE_PROGRESS_BARS": "1", "TQDM_DISABLE": "1"}
    runs: dict[str, list] = {s: [] for s in sides}
    load = []
    for rnd in range(args.rounds):
        for side in sides:
            result = OUT / f"{side}.{rnd}.json"
            cmd = [sys.executable, __file__, "--child", side, "--config", str(cfg_path), "--result", str(result)]
            proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
            if proc.returncode:
                sys.exit(f"{side} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
            r = json.loads(result.read_text())
            runs[side].append(r)
            load.append(os.getloadavg()[0])
            share = sum(n for n, _ in r["batches"]) / max(sum(s for _, s in r["batches"]), 1)
            print(f"round {rnd + 1} {side:12s} {r['steps']} steps  {sum(r['step_s']) / r['steps']:.3f} s/step  "
                  f"median {statistics.median(r['step_s']):.3f}  CPU {sum(r['cpu_s']) / r['steps']:.3f} s/step  "
                  f"non-pad {share:.1%}  load {load[-1]:.2f}", flush=True)
    summary = {s: summarise(rs) for s, rs in runs.items()}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    head = (f"{date.today()}, commit {commit}, model {args.model} ({cfg['model_path']}), {cfg['rows']} rows, "
            f"{args.threads} threads, {os.cpu_count()} cores, 1-min load average after each run "
            f"{min(load):.2f}-{max(load):.2f}")
    text = table(summary, "trl")
    print(f"\n{head}\n\n{text}")
    for side, s in summary.items():
        print(f"{side}: s/step per run {', '.join(f'{x:.3f}' for x in s['s_step_all'])}; CPU s/step per run "
              f"{', '.join(f'{x:.3f}' for x in s['cpu_step_all'])}; loss {s['first_loss']} -> "
              f"{s['last_loss']}; tokens {s['tokens']:,} of {s['slots']:,} padded")
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(f"{head}\n\n{text}\n")
        (args.markdown.with_suffix(".json")).write_text(json.dumps({"head": head, "summary": summary}, indent=1))


if __name__ == "__main__":
    main()
