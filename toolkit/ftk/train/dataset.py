"""Training data: any file `ftk lint` reads -> conversations -> encoded rows (ids + assistant-only labels).

Rows are read and normalised by ftk.data (the same code the linter uses), so the trainer sees
exactly what the linter checked. Rows that cannot be encoded, or whose answer would be truncated
away entirely, are reported with their line numbers and left out — never trained silently.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field

from ftk.data.formats import Example, Format, normalise
from ftk.data.reader import read_records
from ftk.lint.engine import majority_format, row_format
from ftk.train.chat import IGNORE, ChatFormat, Encoded, TemplateError, encode


@dataclass
class Row:
    line: int
    encoded: Encoded
    messages: list[dict] = field(default_factory=list)


@dataclass
class Skipped:
    line: int
    reason: str


@dataclass
class PreparedData:
    path: str
    train: list[Row] = field(default_factory=list)
    eval: list[Row] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def all_rows(self) -> list[Row]:
        return self.train + self.eval

    def token_stats(self) -> dict:
        rows = self.all_rows()
        lengths = sorted(len(r.encoded.input_ids) for r in rows)
        trained = sum(r.encoded.trained_tokens for r in rows)
        total = sum(lengths)
        return {"rows": len(rows), "train_rows": len(self.train), "eval_rows": len(self.eval),
                "skipped": len(self.skipped), "tokens": total, "trained_tokens": trained,
                "trained_share": trained / total if total else 0.0,
                "min": lengths[0] if lengths else 0, "median": lengths[len(lengths) // 2] if lengths else 0,
                "max": lengths[-1] if lengths else 0,
                "truncated_rows": sum(1 for r in rows if r.encoded.truncated)}


def messages_of(example: Example) -> list[dict]:
    if example.format is Format.DPO:
        raise TemplateError("preference (DPO) rows need a preference trainer; ftk run trains SFT")
    if example.format is Format.TEXT:
        raise TemplateError("plain-text rows have no assistant turn to train with assistant-only loss")
    return [{"role": t.role, "content": t.content} for t in example.turns]


def prepare_data(path: str, tokenizer, fmt: ChatFormat, max_length: int, eval_split: float = 0.1,
                 seed: int = 0, max_rows: int | None = None) -> PreparedData:
    """Encode every row of `path` (the first `max_rows` when given); hold out `eval_split` of them
    (seeded) for evaluation."""
    out = PreparedData(str(path))
    records = list(itertools.islice(read_records(path), max_rows))
    file_format = majority_format(records[:256])
    rows: list[Row] = []
    for rec in records:
        if not rec.parsed or not isinstance(rec.value, dict):
            out.skipped.append(Skipped(rec.line, "not a readable JSON object (run ftk lint)"))
            continue
        row_fmt = row_format(rec.value, file_format)
        example = normalise(rec.value, row_fmt)[0] if row_fmt is not None else None
        if example is None:
            out.skipped.append(Skipped(rec.line, "not a valid row (run ftk lint)"))
            continue
        try:
            messages = messages_of(example)
            enc = encode(tokenizer, messages, fmt, max_length)
        except TemplateError as exc:
            out.skipped.append(Skipped(rec.line, str(exc)))
            continue
        if not any(label != IGNORE for label in enc.labels):
            out.skipped.append(Skipped(rec.line, f"the answer starts after max_length={max_length}: nothing to train"))
            continue
        rows.append(Row(rec.line, enc, messages))
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    n_eval = int(round(len(rows) * eval_split)) if len(rows) > 1 else 0
    held_out = set(order[:n_eval])
    out.train = [r for i, r in enumerate(rows) if i not in held_out]
    out.eval = [r for i, r in enumerate(rows) if i in held_out]
    return out
