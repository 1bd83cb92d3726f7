"""Conversations -> the family's chat template -> input ids and labels that train only the assistant.

ftk owns the label mask instead of relying on `{% generation %}` markers (TRL refuses templates
without them, and most families' stock templates have none). The rule, the same for every family:

1. Render the conversation with the tokenizer's own chat template (the exact text the model will
   see at inference), after the family's adjustments (Mistral: the system prompt is merged into
   the first user turn, because the v0.3 template drops it unless the conversation ends with a
   user turn).
2. Find each assistant message's content in the rendered text, in order, and extend its span over
   the family's end-of-turn marker that follows it — the token the model must learn to emit to stop.
3. Tokenise the rendered text once, with offsets, without adding special tokens (the template
   already wrote BOS where the family wants one: no double BOS), and label exactly the tokens that
   overlap an assistant span; everything else gets -100.
"""

from __future__ import annotations

from dataclasses import dataclass

IGNORE = -100  # the label PyTorch's cross-entropy skips


class TemplateError(ValueError):
    """The conversation cannot be rendered or its assistant turns cannot be located."""


@dataclass(frozen=True)
class ChatFormat:
    """What ftk needs to know about a family's template beyond the template itself."""

    end_of_turn: str  # the marker that ends an assistant turn: trained, and a stop token at inference
    pad_token: str  # never the end-of-turn or EOS token: padding must not teach the model to stop
    merge_system: bool = False  # fold the system prompt into the first user turn before rendering


@dataclass
class Encoded:
    input_ids: list[int]
    labels: list[int]
    rendered: str
    truncated: int = 0  # tokens cut off at max_length

    @property
    def trained_tokens(self) -> int:
        return sum(1 for x in self.labels if x != IGNORE)


def prepare(messages: list[dict], fmt: ChatFormat) -> list[dict]:
    """The messages as the template should see them."""
    msgs = [{"role": m["role"], "content": m["content"]} for m in messages]
    if fmt.merge_system and msgs and msgs[0]["role"] == "system":
        system, rest = msgs[0]["content"], msgs[1:]
        first_user = next((i for i, m in enumerate(rest) if m["role"] == "user"), None)
        if first_user is None:
            raise TemplateError("a system prompt needs a user turn to be merged into")
        rest[first_user] = {"role": "user", "content": f"{system}\n\n{rest[first_user]['content']}"}
        msgs = rest
    return msgs


def render(tokenizer, messages: list[dict], fmt: ChatFormat) -> str:
    try:
        return tokenizer.apply_chat_template(prepare(messages, fmt), tokenize=False)
    except TemplateError:
        raise
    except Exception as exc:  # jinja's raise_exception ("roles must alternate …") and friends
        raise TemplateError(f"the chat template refused this conversation: {exc}") from exc


def assistant_spans(rendered: str, messages: list[dict], fmt: ChatFormat) -> list[tuple[int, int]]:
    """Character spans of each assistant turn's content plus its end-of-turn marker."""
    spans, cursor = [], 0
    for m in messages:
        if m["role"] != "assistant":
            continue
        content = m["content"]
        start = rendered.find(content, cursor) if content else -1
        if start < 0 and content.strip():  # templates that trim (Llama 3, Gemma 3)
            content = content.strip()
            start = rendered.find(content, cursor)
        if start < 0:
            raise TemplateError(f"assistant turn {content[:40]!r} not found in the rendered template")
        end = start + len(content)
        marker = rendered.find(fmt.end_of_turn, end)
        if marker < 0 or rendered[end:marker].strip():
            raise TemplateError(f"no {fmt.end_of_turn!r} right after an assistant turn")
        end = marker + len(fmt.end_of_turn)
        spans.append((start, end))
        cursor = end
    return spans


def _in_span(text: str, start: int, end: int, span: tuple[int, int]) -> bool:
    """Does the token at text[start:end] belong to the answer span?

    A token starting inside belongs. So does one that starts just before it on whitespace only:
    SentencePiece's "▁Hello" begins at the space the template wrote before the answer, and the
    answer's first word must be trained. A marker that swallows the whitespace after it (Phi-3's
    `<|assistant|>` is rstrip) starts on non-space text and stays out.
    """
    if start >= span[1]:
        return False
    if start >= span[0]:
        return True
    return end > span[0] and text[start:span[0]].isspace()


def encode(tokenizer, messages: list[dict], fmt: ChatFormat, max_length: int | None = None) -> Encoded:
    rendered = render(tokenizer, messages, fmt)
    spans = assistant_spans(rendered, prepare(messages, fmt), fmt)
    enc = tokenizer(rendered, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = enc["input_ids"], enc["offset_mapping"]
    labels, k = [], 0
    for tok_id, (start, end) in zip(ids, offsets):
        while k < len(spans) and start >= spans[k][1]:
            k += 1
        labels.append(tok_id if k < len(spans) and _in_span(rendered, start, end, spans[k]) else IGNORE)
    truncated = 0
    if max_length is not None and len(ids) > max_length:
        truncated = len(ids) - max_length
        ids, labels = ids[:max_length], labels[:max_length]
    return Encoded(list(ids), labels, rendered, truncated)
