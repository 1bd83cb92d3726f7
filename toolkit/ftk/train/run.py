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
from ftk.train.recipe import resolved


def _dataset(rows):
    from datasets import Dataset

    return Dataset.from_dict({"input_ids": [r.encoded.input_ids for r in rows],
                              "labels": [r.encoded.labels for r in rows]})


class MetricsLog:
    """A TrainerCallback (duck-typed) appending every log record to metrics.jsonl and the console."""

    def __init__(self, path: Path, echo):
        self.path, self.echo, self.start = path, echo, time.perf_counter()

    def on_log(self, args, state, control, logs=None, **kwargs):
        record = {"step": state.global_step, "elapsed_s": round(time.perf_counter() - self.start, 2), **(logs or {})}
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        if "loss" in record:
            elapsed, step = record["elapsed_s"], max(state.global_step, 1)
            tokens = record.get("num_input_tokens_seen")
            rate = f"  {tokens / elapsed:,.0f} tok/s" if tokens and elapsed > 0 else ""
            eta = elapsed / step * max(state.max_steps - step, 0)
            self.echo(f"step {state.global_step}/{state.max_steps}  loss {record['loss']:.4f}  "
                      f"lr {record.get('learning_rate', 0):.2e}{rate}  {elapsed:.0f} s, ETA {eta:.0f} s")

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
          backend: str = "hf") -> dict:
    import torch
    from transformers import TrainerCallback
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
    model, lora = load_for_training(cfg, backend, recipe_dir)
    model.config.pad_token_id = tok.pad_token_id
    on_cpu = not torch.cuda.is_available()
    t = dict(cfg["train"])
    args = SFTConfig(
        output_dir=str(out_dir / "checkpoints"), max_length=cfg["max_length"], use_cpu=on_cpu,
        bf16=False, fp16=False, gradient_checkpointing=False,  # TRL's defaults assume a GPU: see DESIGN.md
        report_to=[], save_strategy="steps", eval_strategy="no", dataloader_num_workers=0,
        include_num_input_tokens_seen=True,
        disable_tqdm=True, **t)
    metrics = MetricsLog(out_dir / "metrics.jsonl", echo)
    callback = type("FtkMetrics", (TrainerCallback,), {"on_log": metrics.on_log})()
    trainer_cls = SFTTrainer if _trl_kernels_available() else _plain_loss_trainer(SFTTrainer)
    trainer = trainer_cls(model=model, args=args, train_dataset=_dataset(data.train),
                         eval_dataset=_dataset(data.eval) if data.eval else None,
                         processing_class=tok, peft_config=lora, callbacks=[callback])
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # ftk prints its own line per log step
    stop = StopOnInterrupt()
    trainer.add_callback(stop)
    before = trainer.evaluate() if data.eval else {}
    with stop.catching_sigint():
        trainer.train(resume_from_checkpoint=True if resume else None)
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


def _plain_loss_trainer(base):
    """TRL 1.15 computes the loss with a fused Triton LM head, which needs a GPU. On CPU the model's
    own forward computes the same causal-LM loss from the same labels (-100 ignored)."""
    from transformers import Trainer

    class PlainLossSFTTrainer(base):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            inputs["use_cache"] = False
            return Trainer.compute_loss(self, model, inputs, return_outputs=return_outputs,
                                        num_items_in_batch=num_items_in_batch)

    return PlainLossSFTTrainer


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
