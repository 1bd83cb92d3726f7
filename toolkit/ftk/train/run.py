"""`ftk run`: recipe -> encoded data -> LoRA training with TRL's SFTTrainer -> adapter + eval report.

The data, the label mask and the trainer are ftk's and TRL's whichever backend (ftk.train.backends)
loads the model. TRL takes the pre-tokenised rows as they
are: `labels` carry -100 outside the assistant answers, and batches are padded to their longest
row with the family's pad token.
"""

from __future__ import annotations

import contextlib
import json
import signal
import time
from pathlib import Path

from ftk.train.chat import IGNORE
from ftk.train.dataset import PreparedData, prepare_data
from ftk.train.families import FAMILIES
from ftk.train.models import load_tokenizer
from ftk.train.progress import ProgressStats, make_display
from ftk.train.recipe import resolved


def _dataset(rows):
    from datasets import Dataset

    return Dataset.from_dict({"input_ids": [r.encoded.input_ids for r in rows],
                              "labels": [r.encoded.labels for r in rows]})


class MetricsLog:
    """A TrainerCallback (duck-typed) appending every log record to metrics.jsonl and showing training
    progress on `display` (ftk.train.progress). `elapsed_s` counts from the start of training."""

    def __init__(self, path: Path, display):
        self.path, self.display = path, display
        self.start, self.first_step, self.first_tokens = time.perf_counter(), 0, 0

    def on_train_begin(self, args, state, control, **kwargs):
        self.start, self.first_step = time.perf_counter(), state.global_step  # resumed runs start mid-way
        self.first_tokens = state.num_input_tokens_seen or 0
        self.display.start(state.global_step, state.max_steps)

    def on_train_end(self, args, state, control, **kwargs):
        self.display.stop()

    def on_log(self, args, state, control, logs=None, **kwargs):
        record = {"step": state.global_step, "elapsed_s": round(time.perf_counter() - self.start, 2), **(logs or {})}
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        if "loss" in record:
            done, elapsed = state.global_step - self.first_step, time.perf_counter() - self.start
            tokens = (record.get("num_input_tokens_seen") or 0) - self.first_tokens
            self.display.update(ProgressStats(
                step=state.global_step, max_steps=state.max_steps, loss=record["loss"],
                lr=record.get("learning_rate", 0.0), tokens_per_s=tokens / elapsed if tokens and elapsed > 0 else None,
                nonpad_share=record.get("nonpad_share"), elapsed_s=elapsed,
                eta_s=elapsed / done * max(state.max_steps - state.global_step, 0) if done else None))

    def __getattr__(self, name):  # every other callback event: nothing to do
        if name.startswith("on_"):
            return lambda *a, **k: None
        raise AttributeError(name)


class Interrupted(Exception):
    """Ctrl-C: the trainer saved a checkpoint at `step` and stopped."""

    def __init__(self, step: int, out_dir: Path):
        super().__init__(f"interrupted at step {step}: checkpoint saved in {out_dir / 'checkpoints'}; "
                         f"continue with --resume")
        self.step = step


def _stop_callback_class():
    from transformers import TrainerCallback

    class StopOnInterrupt(TrainerCallback):
        """Ctrl-C asks the trainer to save a checkpoint and stop at the end of the current step."""

        interrupted = False

        @contextlib.contextmanager
        def catching_sigint(self):
            def handler(signum, frame):
                self.interrupted = True

            previous = signal.signal(signal.SIGINT, handler)
            try:
                yield
            finally:
                signal.signal(signal.SIGINT, previous)

        def on_step_end(self, args, state, control, **kwargs):
            if self.interrupted:
                control.should_save = True
                control.should_training_stop = True

    return StopOnInterrupt


def StopOnInterrupt():  # noqa: N802  (a factory: transformers is imported only when training)
    return _stop_callback_class()()


def train(cfg: dict, out_dir: Path, data: PreparedData | None = None, resume: bool = False, echo=print,
          backend: str = "hf", callbacks: list | None = None, progress: str = "auto") -> dict:
    """Train the recipe's LoRA adapter; `progress`: "rich" (a live bar), "lines" (a line per logged step
    through `echo`), or "auto" (rich when stdout is a terminal, lines otherwise, as in CI logs)."""
    import datasets
    import torch
    from transformers import TrainerCallback
    from transformers.utils import logging as transformers_logging
    from trl import SFTConfig, SFTTrainer

    from ftk.train.backends import load_for_training

    fmt = FAMILIES[cfg["family"]]
    recipe_dir = Path(cfg.get("_path", ".")).parent
    tok = load_tokenizer(cfg["tokenizer"], fmt, recipe_dir)
    if data is None:
        data = prepare_data(cfg["data"]["path"], tok, fmt, cfg["max_length"], cfg["data"].get("eval_split", 0.1),
                            seed=cfg["train"].get("seed", 0))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "config.json").write_text(json.dumps(resolved(cfg), indent=2) + "\n")
    # transformers' weight-loading bar and TRL's quick passes over the pre-tokenised rows (datasets):
    # noise around ftk's own display, and tqdm's last line has no newline for the next one to start on.
    transformers_logging.disable_progress_bar()
    datasets.disable_progress_bars()
    model, lora = load_for_training(cfg, backend, recipe_dir)
    model.config.pad_token_id = tok.pad_token_id
    on_cpu = not torch.cuda.is_available()
    t = dict(cfg["train"])
    args = SFTConfig(
        output_dir=str(out_dir / "checkpoints"), max_length=cfg["max_length"], use_cpu=on_cpu,
        bf16=False, fp16=False, gradient_checkpointing=False,  # TRL's defaults assume a GPU: see DESIGN.md
        report_to=[], save_strategy="steps", eval_strategy="no", dataloader_num_workers=0,
        include_num_input_tokens_seen="non_padding",  # tokens/s counts real tokens
        disable_tqdm=True, **t)
    metrics = MetricsLog(out_dir / "metrics.jsonl", make_display(progress, echo))
    callback = type("FtkMetrics", (TrainerCallback,), {name: getattr(metrics, name) for name in
                                                       ("on_train_begin", "on_train_end", "on_log")})()
    trainer_cls = _trainer_class(SFTTrainer, plain_loss=not _trl_kernels_available())
    trainer = trainer_cls(model=model, args=args, train_dataset=_dataset(data.train),
                         eval_dataset=_dataset(data.eval) if data.eval else None,
                         processing_class=tok, peft_config=lora, callbacks=[callback, *(callbacks or [])])
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # ftk prints its own line per log step
    stop = StopOnInterrupt()
    trainer.add_callback(stop)
    before = trainer.evaluate() if data.eval else {}
    try:
        with stop.catching_sigint():
            trainer.train(resume_from_checkpoint=True if resume else None)
    finally:
        metrics.display.stop()  # also when training raised: leave the terminal usable
    if stop.interrupted:
        raise Interrupted(trainer.state.global_step, out_dir)
    after = trainer.evaluate() if data.eval else {}
    samples = compare_answers(trainer.model, tok, fmt, data, cfg) if data.eval else []
    plot_loss(out_dir / "metrics.jsonl", out_dir / "loss.png")
    adapter = out_dir / "adapter"
    trainer.model.save_pretrained(str(adapter))
    tok.save_pretrained(str(adapter))
    report = {"backend": backend, "eval_rows": len(data.eval), "train_rows": len(data.train),
              "before": _loss_and_ppl(before), "after": _loss_and_ppl(after),
              "trained_share": data.token_stats()["trained_share"], "skipped": [s.__dict__ for s in data.skipped],
              "samples": samples}
    (out_dir / "eval.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def compare_answers(model, tok, fmt, data: PreparedData, cfg: dict, n: int = 2, max_new_tokens: int = 48) -> list:
    """Greedy answers of the base model (adapter off) and the tuned one to the first eval prompts."""
    import torch

    from ftk.train.chat import prepare

    out = []
    model.eval()
    eos = [tok.convert_tokens_to_ids(fmt.end_of_turn), tok.eos_token_id]
    for row in data.eval[:n]:
        messages = row.messages
        last = max(i for i, m in enumerate(messages) if m["role"] == "assistant")
        ids = tok.apply_chat_template(prepare(messages[:last], fmt), add_generation_prompt=True, tokenize=True,
                                      return_tensors="pt")
        ids = ids["input_ids"] if hasattr(ids, "keys") else ids
        ids = ids.to(model.device)
        gen = dict(max_new_tokens=max_new_tokens, do_sample=False, eos_token_id=[e for e in eos if e is not None],
                   pad_token_id=tok.pad_token_id, attention_mask=torch.ones_like(ids))
        with torch.no_grad():
            with model.disable_adapter():
                base = model.generate(ids, **gen)[0, ids.shape[1]:]
            tuned = model.generate(ids, **gen)[0, ids.shape[1]:]
        out.append({"line": row.line, "prompt": messages[last - 1]["content"],
                    "base": tok.decode(base, skip_special_tokens=True).strip(),
                    "tuned": tok.decode(tuned, skip_special_tokens=True).strip()})
    return out


def plot_loss(metrics: Path, png: Path) -> None:
    """Training loss per step (and eval loss where logged) as a PNG beside the metrics."""
    import matplotlib

    matplotlib.use("Agg")  # no display on training boxes
    import matplotlib.pyplot as plt

    records = [json.loads(line) for line in metrics.read_text().splitlines()] if metrics.exists() else []
    train = [(r["step"], r["loss"]) for r in records if "loss" in r]
    evals = [(r["step"], r["eval_loss"]) for r in records if "eval_loss" in r]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    if train:
        ax.plot(*zip(*train), label="train loss", color="#2563eb")
    if evals:
        ax.plot(*zip(*evals), "o--", label="eval loss", color="#dc2626")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)


def _trl_kernels_available() -> bool:
    try:
        import trl.kernels  # noqa: F401  (Triton; with CUDA)
    except ImportError:
        return False
    import torch

    return torch.cuda.is_available()


def _trainer_class(base, plain_loss: bool):
    """ftk's SFTTrainer: length-bucketed batches (ftk.train.batching) under `group_by_length`, the
    share of real (non-pad) tokens in the logs, and, with `plain_loss`, the model's own loss.

    TRL 1.15 computes the loss with a fused Triton LM head, which needs a GPU. On CPU the model's own
    forward computes the same causal-LM loss from the same labels (-100 ignored)."""
    from transformers import Trainer

    from ftk.train.batching import LengthBucketSampler

    class FtkSFTTrainer(base):
        _real_tokens = _padded_tokens = 0

        def _get_train_sampler(self, train_dataset=None):
            dataset = self.train_dataset if train_dataset is None else train_dataset
            if (self.args.train_sampling_strategy != "group_by_length"
                    or "input_ids" not in (getattr(dataset, "column_names", None) or [])):
                return super()._get_train_sampler(train_dataset)
            seed = self.args.seed if self.args.data_seed is None else self.args.data_seed
            return LengthBucketSampler([len(ids) for ids in dataset["input_ids"]],
                                       self.args.train_batch_size * self.args.gradient_accumulation_steps, seed=seed)

        def training_step(self, model, inputs, *args, **kwargs):
            mask = inputs.get("attention_mask")
            if mask is not None:
                self._real_tokens += int(mask.sum())
                self._padded_tokens += mask.numel()
            return super().training_step(model, inputs, *args, **kwargs)

        def log(self, logs, *args, **kwargs):
            if self._padded_tokens and "loss" in logs:  # the batches since the last log
                logs["nonpad_share"] = round(self._real_tokens / self._padded_tokens, 4)
                self._real_tokens = self._padded_tokens = 0
            return super().log(logs, *args, **kwargs)

        if plain_loss:
            def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
                inputs["use_cache"] = False
                return Trainer.compute_loss(self, model, inputs, return_outputs=return_outputs,
                                            num_items_in_batch=num_items_in_batch)

    return FtkSFTTrainer


def _loss_and_ppl(metrics: dict) -> dict:
    import math

    loss = metrics.get("eval_loss")
    return {} if loss is None else {"loss": round(loss, 4), "perplexity": round(math.exp(min(loss, 50)), 2)}


def trained_mask_preview(tok, row, limit: int = 400) -> list[tuple[str, bool]]:
    """(text, trained?) pieces of one encoded row, for `--dry-run`."""
    pieces: list[tuple[str, bool]] = []
    for tok_id, label in zip(row.encoded.input_ids[:limit], row.encoded.labels[:limit]):
        text, trained = tok.decode([tok_id]), label != IGNORE
        if pieces and pieces[-1][1] == trained:
            pieces[-1] = (pieces[-1][0] + text, trained)
        else:
            pieces.append((text, trained))
    return pieces
