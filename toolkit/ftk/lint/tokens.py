"""Token counts for the length rules: a real tokenizer, or a labelled estimate when none is given.

Counting is batched (the Rust tokenizer encodes a batch on both cores). A row's length is the sum
of its turns' content tokens plus the chat template's own tokens for that sequence of roles. The
template part is rendered once per role sequence with a one-token stand-in for each content and
cached, so a million rows cost a handful of renders; it can be off by a token per turn where a
content's first or last token merges with the template's text. Contents the template drops
(Mistral's system prompt in some positions) are not counted.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ftk.errors import UsageError

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "tokenizers"
TURN_OVERHEAD_ESTIMATE = 4  # tokens a typical template spends per turn (role header + end marker)


class Layout(NamedTuple):
    """How a template lays out a sequence of roles: its own tokens, and which contents it keeps."""

    overhead: int
    kept: tuple[bool, ...]


class EstimateCounter:
    """No tokenizer: about four characters per token, the usual figure for English BPE."""

    exact = False
    label = "estimate: ≈4 characters per token (pass --tokenizer or --recipe for exact counts)"

    def count(self, texts: list[str]) -> list[int]:
        return [math.ceil(len(t) / 4) for t in texts]

    @staticmethod
    def count_lengths(lengths: np.ndarray) -> np.ndarray:
        """count() from the texts' lengths in characters alone."""
        return (lengths + 3) // 4

    @staticmethod
    @lru_cache(maxsize=1024)
    def layout(roles: tuple[str, ...]) -> Layout:
        return Layout(TURN_OVERHEAD_ESTIMATE * len(roles) if roles != ("text",) else 0, (True,) * len(roles))


class TokenCounter:
    """A real tokenizer (tokenizer.json, or anything transformers can load) and its chat template."""

    exact = True

    def __init__(self, backend, chat_template: str | None, special_tokens: dict[str, str], label: str):
        self.backend, self.chat_template, self.special_tokens, self.label = backend, chat_template, special_tokens, label
        self._layouts: dict[tuple[str, ...], Layout] = {}
        self._stand_in = len(backend.encode("x", add_special_tokens=False).ids)

    def count(self, texts: list[str]) -> list[int]:
        return [len(e.ids) for e in self.backend.encode_batch(texts, add_special_tokens=False)]

    def layout(self, roles: tuple[str, ...]) -> Layout:
        cached = self._layouts.get(roles)
        if cached is None:
            cached = self._layouts[roles] = self._render_layout(roles)
        return cached

    def _render(self, roles: tuple[str, ...], contents: list[str]) -> str:
        from transformers.utils.chat_template_utils import render_jinja_template

        messages = [{"role": r, "content": c} for r, c in zip(roles, contents)]
        rendered, _ = render_jinja_template([messages], chat_template=self.chat_template, **self.special_tokens)
        return rendered[0]

    def _render_layout(self, roles: tuple[str, ...]) -> Layout:
        if roles == ("text",) or not self.chat_template:
            return Layout(0, (True,) * len(roles))
        try:
            # Which turns does the template keep? (Mistral's drops the system prompt unless the
            # conversation ends with a user turn.) Mark each content and look for the marks.
            marked = self._render(roles, [f"\u2063{i}\u2063" for i in range(len(roles))])
            kept = tuple(f"\u2063{i}\u2063" in marked for i in range(len(roles)))
            rendered = self._render(roles, ["x"] * len(roles))
        except Exception:  # the template refuses this role order (Gemma, Mistral): structure rules report it
            return Layout(TURN_OVERHEAD_ESTIMATE * len(roles), (True,) * len(roles))
        n = len(self.backend.encode(rendered, add_special_tokens=False).ids)
        return Layout(max(0, n - self._stand_in * sum(kept)), kept)


def _special_tokens(config: dict) -> dict[str, str]:
    out = {}
    for key in ("bos_token", "eos_token", "pad_token", "unk_token"):
        v = config.get(key)
        if isinstance(v, dict):  # older configs store AddedToken dicts
            v = v.get("content")
        if isinstance(v, str):
            out[key] = v
    return out


def _from_hub_cache(spec: str) -> TokenCounter:
    """A model id (a GPU recipe's `unsloth/…`): whatever transformers finds in the local HF cache."""
    shipped = ", ".join(sorted(p.name for p in ASSETS.iterdir())) if ASSETS.is_dir() else "none"
    if spec.count("/") != 1 or spec.startswith((".", "/")):
        raise UsageError(f"--tokenizer {spec}: not a tokenizer directory or file (ftk ships: {shipped})")
    try:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(spec)
    except Exception as exc:
        raise UsageError(f"--tokenizer {spec}: not a local directory, and not loadable as a model id "
                         f"({type(exc).__name__}); pass a tokenizer directory (ftk ships: {shipped})") from exc
    return TokenCounter(tok.backend_tokenizer, tok.chat_template, {k: v for k, v in tok.special_tokens_map.items()
                                                                   if isinstance(v, str)}, f"{spec} tokenizer")


@lru_cache(maxsize=8)
def load_token_counter(spec: str) -> TokenCounter:
    """`spec`: a tokenizer directory, a tokenizer.json file, or the name of a tokenizer ftk ships."""
    path = Path(spec)
    if not path.exists() and (ASSETS / spec).is_dir():
        path = ASSETS / spec
    if path.is_file() and path.name.endswith(".json"):
        path = path.parent
    if not path.is_dir():
        return _from_hub_cache(spec)
    config_file = path / "tokenizer_config.json"
    config = json.loads(config_file.read_text(encoding="utf-8")) if config_file.exists() else {}
    template = config.get("chat_template")
    if isinstance(template, list):  # a list of named templates: use the default one
        template = next((t["template"] for t in template if t.get("name") == "default"), None)
    if (path / "tokenizer.json").exists():
        from tokenizers import Tokenizer

        backend = Tokenizer.from_file(str(path / "tokenizer.json"))
    else:
        # SentencePiece-only directories (Mistral): transformers converts tokenizer.model once.
        try:
            from transformers import AutoTokenizer

            tok = AutoTokenizer.from_pretrained(str(path))
        except Exception as exc:
            raise UsageError(f"--tokenizer {spec}: cannot load: {exc}") from exc
        backend = tok.backend_tokenizer
        template = template or tok.chat_template
    return TokenCounter(backend, template, _special_tokens(config), f"{path.name} tokenizer ({path})")
