"""Detect a row's format and normalise it to one shape: a list of turns (plus chosen/rejected
responses for preference pairs). Every later stage — lint rules, the trainer — sees only `Example`.

Normalisation never guesses: a row with a missing, empty or mistyped required field yields
`SchemaIssue`s and no example, and the issue names the exact field (e.g. `messages[2].content`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Format(str, Enum):
    CHAT = "chat"  # OpenAI {"messages": [{"role", "content"}]}
    SHAREGPT = "sharegpt"  # {"conversations": [{"from", "value"}]}
    ALPACA = "alpaca"  # {"instruction", "input", "output"}
    COMPLETION = "prompt-completion"  # {"prompt", "completion"}
    DPO = "dpo"  # {"prompt", "chosen", "rejected"}
    TEXT = "text"  # {"text"}


class SchemaProblem(str, Enum):
    MISSING = "missing"
    EMPTY = "empty"
    WRONG_TYPE = "wrong-type"
    UNKNOWN_KEY = "unknown-key"


@dataclass(frozen=True, slots=True)
class SchemaIssue:
    problem: SchemaProblem
    field: str
    message: str


@dataclass(slots=True)
class Turn:
    role: str
    content: str
    field: str  # where the content lives in the row, e.g. "messages[1].content"
    has_tool_calls: bool = False  # an assistant turn may carry tool calls and no text


@dataclass(slots=True)
class Example:
    format: Format
    turns: list[Turn]  # the conversation; for DPO, the prompt
    chosen: list[Turn] | None = None
    rejected: list[Turn] | None = None
    # Derived values (normalised text, hashes, shingles) that several lint rules share: computed
    # once per example by ftk.lint.features.
    memo: dict = field(default_factory=dict, repr=False, compare=False)

    def all_turns(self) -> list[Turn]:
        """Every turn: the conversation, then chosen and rejected responses. Not to be changed: for
        most rows it is `turns` itself (the row checks ask for it several times a row)."""
        if self.chosen is None and self.rejected is None:
            return self.turns
        return self.turns + (self.chosen or []) + (self.rejected or [])

    def conversations(self) -> list[list[Turn]]:
        """The full sequences a trainer sees: one, or prompt+chosen and prompt+rejected for DPO."""
        if self.format is Format.DPO:
            return [self.turns + (self.chosen or []), self.turns + (self.rejected or [])]
        return [self.turns]

    def prompt_and_response(self) -> tuple[list[Turn], Turn | None]:
        """Everything before the last assistant turn, and that turn (DPO: the chosen one)."""
        if self.format is Format.DPO:
            return self.turns, (self.chosen[-1] if self.chosen else None)
        for i in range(len(self.turns) - 1, -1, -1):
            if self.turns[i].role == "assistant":
                return self.turns[:i], self.turns[i]
        return self.turns, None


# ShareGPT speaker names, as Axolotl and FastChat map them.
SHAREGPT_ROLES = {
    "system": "system", "human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
    "chatgpt": "assistant", "bing": "assistant", "bard": "assistant", "model": "assistant",
    "tool": "tool", "function": "tool", "observation": "tool", "function_response": "tool",
    "function_call": "assistant",  # LLaMA-Factory: the assistant's tool call
}
META_KEYS = {"id", "metadata", "meta", "source", "category"}
KNOWN_KEYS = {
    Format.CHAT: {"messages", "tools", "parallel_tool_calls"} | META_KEYS,
    Format.SHAREGPT: {"conversations", "system", "tools"} | META_KEYS,
    Format.ALPACA: {"instruction", "input", "output", "system"} | META_KEYS,
    Format.COMPLETION: {"prompt", "completion", "system"} | META_KEYS,
    Format.DPO: {"prompt", "chosen", "rejected", "system", "score_chosen", "score_rejected"} | META_KEYS,
    Format.TEXT: {"text"} | META_KEYS,
}
MESSAGE_KEYS = {"role", "content", "name", "tool_calls", "tool_call_id", "weight", "reasoning_content"}
SHAREGPT_KEYS = {"from", "value", "weight"}


def detect_format(obj: dict) -> Format | None:
    """The format a row's keys say it is in; None when they match none."""
    if "messages" in obj:
        return Format.CHAT
    if "conversations" in obj:
        return Format.SHAREGPT
    if "chosen" in obj or "rejected" in obj:
        return Format.DPO
    if "instruction" in obj or ("output" in obj and "input" in obj):
        return Format.ALPACA
    if "prompt" in obj or "completion" in obj:
        return Format.COMPLETION
    if "text" in obj:
        return Format.TEXT
    return None


def _type_name(v: object) -> str:
    return {str: "string", list: "array", dict: "object", bool: "boolean", int: "number",
            float: "number", type(None): "null"}.get(type(v), type(v).__name__)


class _Normaliser:
    """Collects issues while building an Example from one row."""

    def __init__(self, obj: dict, fmt: Format):
        self.obj, self.fmt, self.issues = obj, fmt, []

    def issue(self, problem: SchemaProblem, field: str, message: str) -> None:
        self.issues.append(SchemaIssue(problem, field, message))

    def text(self, key: str, *, required: bool = True, allow_empty: bool = False) -> str | None:
        """A top-level string field."""
        if key not in self.obj or (not required and self.obj[key] is None):
            if required:
                self.issue(SchemaProblem.MISSING, key, f"missing required field '{key}' for {self.fmt.value} rows")
            return None
        v = self.obj[key]
        if not isinstance(v, str):
            self.issue(SchemaProblem.WRONG_TYPE, key, f"'{key}' must be a string, got {_type_name(v)}")
            return None
        if not allow_empty and not v.strip():
            self.issue(SchemaProblem.EMPTY, key, f"'{key}' is empty")
            return None
        return v

    def content(self, v: object, field: str) -> str | None:
        """Message content: a string, or a list of {"type": "text", "text": ...} parts."""
        if isinstance(v, str):
            return v
        if isinstance(v, list) and all(isinstance(p, dict) for p in v):
            parts = []
            for j, part in enumerate(v):
                if part.get("type", "text") != "text":
                    self.issue(SchemaProblem.WRONG_TYPE, f"{field}[{j}]",
                               f"only text content parts are supported, got type '{part.get('type')}'")
                    return None
                if not isinstance(part.get("text"), str):
                    self.issue(SchemaProblem.WRONG_TYPE, f"{field}[{j}].text",
                               f"a text part's 'text' must be a string, got {_type_name(part.get('text'))}")
                    return None
                parts.append(part["text"])
            return "".join(parts)
        self.issue(SchemaProblem.WRONG_TYPE, field, f"content must be a string, got {_type_name(v)}")
        return None

    def turns(self, key: str, role_key: str, content_key: str, known: set[str],
              roles: dict[str, str] | None = None) -> list[Turn] | None:
        """A list of message objects under `key`."""
        if key not in self.obj:
            self.issue(SchemaProblem.MISSING, key, f"missing required field '{key}'")
            return None
        items = self.obj[key]
        if not isinstance(items, list):
            self.issue(SchemaProblem.WRONG_TYPE, key, f"'{key}' must be an array of messages, got {_type_name(items)}")
            return None
        if not items:
            self.issue(SchemaProblem.EMPTY, key, f"'{key}' has no messages")
            return None
        out, ok = [], True
        for i, m in enumerate(items):
            # Most messages are exactly {role: str, content: str}: nothing to report, one step.
            if type(m) is dict and len(m) == 2 and type(role := m.get(role_key)) is str \
                    and type(text := m.get(content_key)) is str:
                out.append(Turn(_mapped(role, roles), text, f"{key}[{i}].{content_key}"))
                continue
            where = f"{key}[{i}]"
            if not isinstance(m, dict):
                self.issue(SchemaProblem.WRONG_TYPE, where, f"message must be an object, got {_type_name(m)}")
                ok = False
                continue
            for k in m:
                if k not in known:
                    self.issue(SchemaProblem.UNKNOWN_KEY, f"{where}.{k}", f"unknown key '{k}' in message")
            role = m.get(role_key)
            if role is None and role_key not in m:
                self.issue(SchemaProblem.MISSING, f"{where}.{role_key}", f"message has no '{role_key}'")
                ok = False
                continue
            if not isinstance(role, str):
                self.issue(SchemaProblem.WRONG_TYPE, f"{where}.{role_key}",
                           f"'{role_key}' must be a string, got {_type_name(role)}")
                ok = False
                continue
            tool_calls = bool(m.get("tool_calls"))
            if content_key not in m:
                if not tool_calls:
                    self.issue(SchemaProblem.MISSING, f"{where}.{content_key}", f"message has no '{content_key}'")
                    ok = False
                    continue
                text = ""
            elif m[content_key] is None and tool_calls:
                text = ""
            else:
                text = self.content(m[content_key], f"{where}.{content_key}")
                if text is None:
                    ok = False
                    continue
            out.append(Turn(_mapped(role, roles), text, f"{where}.{content_key}", tool_calls))
        return out if ok else None

    def response(self, key: str) -> list[Turn] | None:
        """A DPO response: a string, or a list of messages (TRL's conversational form)."""
        v = self.obj.get(key)
        if isinstance(v, list):
            return self.turns(key, "role", "content", MESSAGE_KEYS)
        s = self.text(key)
        return None if s is None else [Turn("assistant", s, key)]

    def unknown_keys(self) -> None:
        for k in self.obj:
            if k not in KNOWN_KEYS[self.fmt]:
                self.issue(SchemaProblem.UNKNOWN_KEY, k, f"unknown key '{k}' for {self.fmt.value} rows")


def _mapped(role: str, roles: dict[str, str] | None) -> str:
    """A speaker name as the format's role map names it (ShareGPT's "human" is "user"), else as is."""
    return roles.get(role.lower(), role) if roles else role


def _system(n: _Normaliser) -> list[Turn]:
    # The system field is optional: empty means none (as Axolotl and LLaMA-Factory read it).
    s = n.text("system", required=False, allow_empty=True)
    return [Turn("system", s, "system")] if s is not None and s.strip() else []


_MESSAGE_FIELDS: list[str] = []  # "messages[i].content" by i, made once: shared by every row


def _plain_chat(obj: dict) -> Example | None:
    """normalise(obj, Format.CHAT) for the row most chat files are made of, which has nothing to
    report: known keys only, and a non-empty list of messages that are each exactly a string role
    and a string content; None for any other row (normalise then does it step by step). Half the
    cost of the general path, which a million rows pay a million times."""
    items = obj.get("messages")
    if type(items) is not list or not items or not obj.keys() <= KNOWN_KEYS[Format.CHAT]:
        return None
    while len(_MESSAGE_FIELDS) < len(items):
        _MESSAGE_FIELDS.append(f"messages[{len(_MESSAGE_FIELDS)}].content")
    turns = []
    for m, where in zip(items, _MESSAGE_FIELDS):
        if type(m) is not dict or len(m) != 2 or type(role := m.get("role")) is not str \
                or type(text := m.get("content")) is not str:
            return None
        turns.append(Turn(role, text, where))
    return Example(Format.CHAT, turns)


def normalise(obj: object, fmt: Format) -> tuple[Example | None, list[SchemaIssue]]:
    """Build the Example for one row in the given format, or report why it cannot be built."""
    if not isinstance(obj, dict):
        raise TypeError("normalise() takes a JSON object; check isinstance first")
    if fmt is Format.CHAT and (ex := _plain_chat(obj)) is not None:
        return ex, []
    n = _Normaliser(obj, fmt)
    n.unknown_keys()
    ex: Example | None = None
    if fmt is Format.CHAT:
        turns = n.turns("messages", "role", "content", MESSAGE_KEYS)
        ex = Example(fmt, turns) if turns is not None else None
    elif fmt is Format.SHAREGPT:
        system = _system(n)
        turns = n.turns("conversations", "from", "value", SHAREGPT_KEYS, SHAREGPT_ROLES)
        ex = Example(fmt, system + turns) if turns is not None else None
    elif fmt is Format.ALPACA:
        system = _system(n)
        instruction, output = n.text("instruction"), n.text("output")
        inp = n.text("input", required=False, allow_empty=True)
        if instruction is not None and output is not None:
            # Axolotl's and Stanford Alpaca's join: the input follows the instruction after a blank line.
            user = Turn("user", instruction + ("\n\n" + inp if inp and inp.strip() else ""), "instruction")
            ex = Example(fmt, system + [user, Turn("assistant", output, "output")])
    elif fmt is Format.COMPLETION:
        system = _system(n)
        prompt, completion = n.text("prompt"), n.text("completion")
        if prompt is not None and completion is not None:
            ex = Example(fmt, system + [Turn("user", prompt, "prompt"), Turn("assistant", completion, "completion")])
    elif fmt is Format.DPO:
        system = _system(n)
        if isinstance(obj.get("prompt"), list):
            prompt = n.turns("prompt", "role", "content", MESSAGE_KEYS)
        else:
            p = n.text("prompt")
            prompt = None if p is None else [Turn("user", p, "prompt")]
        chosen, rejected = n.response("chosen"), n.response("rejected")
        if prompt is not None and chosen is not None and rejected is not None:
            ex = Example(fmt, system + prompt, chosen, rejected)
    elif fmt is Format.TEXT:
        t = n.text("text")
        ex = Example(fmt, [Turn("text", t, "text")]) if t is not None else None
    return ex, n.issues
