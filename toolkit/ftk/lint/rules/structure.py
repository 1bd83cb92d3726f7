"""FTK1xx — conversation structure: roles, their order, and empty turns.

Checks run on each full conversation a trainer would see (for DPO: prompt + chosen and prompt +
rejected); plain-text rows have no turns and are skipped.
"""

from collections.abc import Iterator

from ftk.data.formats import Example, Format, Turn
from ftk.lint.registry import Fix, Options, Severity, row_rule

KNOWN_ROLES = ("system", "user", "assistant", "tool")


def _conversations(ex: Example) -> Iterator[list[Turn]]:
    if ex.format is not Format.TEXT:
        yield from ex.conversations()


def _blank(text: str) -> bool:
    """`not text.strip()`, without the copy strip() makes of every non-blank text."""
    return not text or text.isspace()


def _once(found: Iterator[tuple[str | None, str]]) -> Iterator[tuple[str | None, str]]:
    # DPO's two conversations share the prompt: report a prompt problem once, not twice.
    seen = set()
    for f in found:
        if f not in seen:
            seen.add(f)
            yield f


@row_rule("FTK101", "unknown-role", Severity.ERROR, "Message has a role the chat templates do not know", Fix.DROP_ROW, roles_only=True)
def unknown_role(ex: Example, opts: Options):
    """
    What it does: flags a message whose role is not system, user, assistant or tool (ShareGPT's
    human/gpt/function names are mapped first).
    Why it matters: chat templates raise on unknown roles, or render them as plain text, and a
    misspelt `assitant` turn is never trained on.
    Example: `{"role": "bot", "content": "Hello!"}`
    Use instead: `{"role": "assistant", "content": "Hello!"}`
    """
    return _once(
        (t.field.rsplit(".", 1)[0] + ".role", f"unknown role '{t.role}' (expected one of {', '.join(KNOWN_ROLES)})")
        for conv in _conversations(ex) for t in conv if t.role not in KNOWN_ROLES
    )


@row_rule("FTK102", "system-not-first", Severity.ERROR, "System message is not the first message", Fix.DROP_ROW, roles_only=True)
def system_not_first(ex: Example, opts: Options):
    """
    What it does: flags a system message anywhere but first.
    Why it matters: most templates (Llama 3, Mistral, Gemma, Qwen) only place a system prompt at the
    start; a later one raises an error or is rendered as a user turn.
    Example: messages user → system → assistant.
    Use instead: move the system message to the front, or merge it into the user turn.
    """
    return _once(
        (t.field, f"system message at position {i + 1}; it must be first")
        for conv in _conversations(ex) for i, t in enumerate(conv) if t.role == "system" and i > 0
    )


@row_rule("FTK103", "roles-not-alternating", Severity.ERROR, "User and assistant turns do not alternate", Fix.DROP_ROW, roles_only=True)
def roles_not_alternating(ex: Example, opts: Options):
    """
    What it does: flags two user turns, or two assistant turns, in a row (tool results may sit
    between an assistant's tool call and its next turn).
    Why it matters: Mistral's and Gemma's templates raise "roles must alternate"; others render it,
    but the model learns a dialogue shape it will never see.
    Example: user → user → assistant.
    Use instead: merge consecutive turns of the same speaker.
    """
    def found():
        for conv in _conversations(ex):
            last = None
            for t in conv:
                if t.role not in ("user", "assistant"):
                    if t.role == "tool":
                        last = "tool"
                    continue
                if t.role == last:
                    yield t.field, f"two {t.role} turns in a row"
                last = t.role
    return _once(found())


@row_rule("FTK104", "no-assistant-turn", Severity.ERROR, "Conversation has no assistant turn", Fix.DROP_ROW, roles_only=True)
def no_assistant_turn(ex: Example, opts: Options):
    """
    What it does: flags a conversation in which no message has the assistant role.
    Why it matters: with assistant-only loss nothing in the row is trained on; it costs time and
    teaches nothing.
    Example: `{"messages": [{"role": "user", "content": "Hi"}]}`
    Use instead: add the assistant's answer, or drop the row.
    """
    for conv in _conversations(ex):
        if conv and not any(t.role == "assistant" for t in conv):
            yield conv[0].field.split("[")[0], "no assistant turn: nothing here would be trained on"
            return


@row_rule("FTK105", "ends-without-assistant", Severity.WARNING, "Conversation does not end with an assistant turn", roles_only=True)
def ends_without_assistant(ex: Example, opts: Options):
    """
    What it does: flags a conversation whose last message is not from the assistant.
    Why it matters: the trailing turns carry no loss, so they only cost tokens; often they are an
    answer that was cut off in export.
    Example: user → assistant → user.
    Use instead: end each example with the assistant turn you want learnt.
    """
    return _once(
        (conv[-1].field, f"last message is from '{conv[-1].role}'; trailing turns are not trained on")
        for conv in _conversations(ex)
        if conv and conv[-1].role != "assistant" and any(t.role == "assistant" for t in conv)
    )


@row_rule("FTK106", "empty-turn", Severity.ERROR, "Message content is empty", Fix.DROP_ROW)
def empty_turn(ex: Example, opts: Options):
    """
    What it does: flags a message whose content is empty or only whitespace (an assistant turn that
    carries tool calls may have no text).
    Why it matters: an empty assistant turn teaches the model to stop at once; an empty user turn
    is an answer to nothing.
    Example: `{"role": "assistant", "content": ""}`
    Use instead: fill in the turn or remove it.
    """
    return _once(
        (t.field, f"empty {t.role} message")
        for conv in _conversations(ex) for t in conv if _blank(t.content) and not t.has_tool_calls
    )


@row_rule("FTK107", "assistant-first", Severity.ERROR, "Conversation starts with the assistant", Fix.DROP_ROW, roles_only=True)
def assistant_first(ex: Example, opts: Options):
    """
    What it does: flags a conversation whose first non-system message is from the assistant.
    Why it matters: Mistral's and Gemma's templates require a user turn first and raise otherwise;
    the others train an answer to no question.
    Example: system → assistant → user → assistant.
    Use instead: start with the user turn the assistant answers.
    """
    def found():
        for conv in _conversations(ex):
            first = next((t for t in conv if t.role != "system"), None)
            if first is not None and first.role == "assistant":
                yield first.field, "first turn after the system prompt is the assistant's"
    return _once(found())
