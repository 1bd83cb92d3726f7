"""FTK4xx — text hygiene: broken encodings, stray control characters, leftover template tokens,
placeholder answers and refusal boilerplate."""

import re
import unicodedata

from ftk.data.formats import Example
from ftk.lint.features import ascii_has_control
from ftk.lint.registry import Fix, Options, Severity, row_rule
from ftk.lint.triggers import Trigger

# UTF-8 bytes decoded as Windows-1252/Latin-1 and re-encoded: "é" -> "Ã©", "’" -> "â€™".
# Each pattern is a lead byte's Latin-1 face followed by a continuation byte's.
MOJIBAKE = re.compile(r"Ã[\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014"
                      r"\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
                      r"|â€[\u0080-\u00bf\u2122\u0153\u0161\u017e\u02dc\u201c\u201d\u2020\u2021\u2026\u2030\u02c6]?"
                      r"|â‚¬|â„¢"  # € and ™
                      r"|Â[\u00a0-\u00bf]")
# C0/C1 controls except tab, newline and carriage return; also the Unicode non-characters.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


def has_control(text: str) -> bool:
    return ascii_has_control(text) if text.isascii() else CONTROL.search(text) is not None
# Chat-template markers of the families ftk trains. `<s>`/`</s>` are left out: they are also HTML.
TEMPLATE_TOKENS = re.compile(
    r"<\|(?:im_start|im_end|eot_id|start_header_id|end_header_id|begin_of_text|end_of_text|endoftext"
    r"|system|user|assistant|end|eom_id|python_tag)\|>|\[/?INST\]|<(?:start|end)_of_turn>|\[/?SYSTEM_PROMPT\]"
)
# "None", "-", "null", "nil", "nan" and "undefined" are left out: each is the right answer to
# some question (what does JSON.stringify(null) return?).
PLACEHOLDERS = {"n/a", "<noinput>", "<nooutput>", "<no output>", "no output", "todo",
                "tbd", "lorem ipsum", "[insert answer here]", "insert answer here", "your answer here",
                "<answer>", "[answer]"}
# Lower-casing never shortens a string and maps no other character to ".", so a response whose
# stripped text without trailing dots is longer than this cannot be a placeholder: long answers
# (nearly all) skip the lower-cased copy.
PLACEHOLDER_MAX = max(map(len, PLACEHOLDERS))
REFUSALS = re.compile(
    r"\bas an ai(?: language)? model\b|\bas a large language model\b|\bi(?:'m| am) (?:just )?an ai\b.{0,40}\b(?:cannot|can't|don't)"
    r"|\bi(?:'m| am) sorry, but (?:i|as an ai(?: language model)?,? i)(?: cannot| can't| am not able to| won't)"
    r" (?:help|assist|provide|fulfil|fulfill|comply|create|generate|write|engage|do that)\b"
    r"|\bi cannot (?:fulfill|comply with|assist with) (?:this|that|your) request\b"
    r"|\bmy knowledge cutoff\b|\bi do not have (?:personal )?(?:opinions|feelings|emotions)\b(?! for)",
    re.IGNORECASE,
)
# Lower-case substrings one of which every refusal match contains: tested before the regex.
REFUSAL_HINTS = ("as an ai", "as a large language model", "i'm sorry", "i am sorry", "i cannot",
                 "knowledge cutoff", "i do not have", "i'm an ai", "i am an ai", "i'm just an ai", "i am just an ai")
TEMPLATE_HINTS = ("<|", "INST]", "_of_turn>", "SYSTEM_PROMPT]")
# The characters CONTROL matches, as trigger strings (tab, newline and carriage return are allowed).
CONTROL_CHARS = tuple(chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0),
                                       0xFFFE, 0xFFFF])


def _snippet(text: str, start: int, end: int, pad: int = 12) -> str:
    a, b = max(0, start - pad), min(len(text), end + pad)
    return ("…" if a else "") + text[a:b].replace("\n", "\\n") + ("…" if b < len(text) else "")


@row_rule("FTK401", "mojibake", Severity.WARNING, "Text shows UTF-8 decoded as Latin-1 (mojibake)",
          trigger=Trigger(("Ã", "â", "Â")))
def mojibake(ex: Example, opts: Options):
    """
    What it does: flags sequences such as "Ã©" (for é) and "â€™" (for ’) that appear when UTF-8 text
    was decoded as Windows-1252 or Latin-1 somewhere upstream.
    Why it matters: the model learns to write the garbage; it usually affects a whole scrape, so one
    finding points at many rows.
    Example: "CafÃ© au lait costs â‚¬3"
    Use instead: repair at the source (or with `ftfy.fix_text`) and re-export.
    """
    for t in ex.all_turns():
        m = None if t.content.isascii() else MOJIBAKE.search(t.content)
        if m:
            yield t.field, f"mojibake {m.group()!r} in {_snippet(t.content, m.start(), m.end())!r}"


@row_rule("FTK402", "replacement-character", Severity.WARNING, "Text contains U+FFFD, the replacement character",
          trigger=Trigger(("\ufffd",)))
def replacement_character(ex: Example, opts: Options):
    """
    What it does: flags U+FFFD (�), which a decoder writes where it met bytes it could not decode.
    Why it matters: the original character is gone; the model learns to emit �.
    Example: "na�ve"
    Use instead: re-export the source with the right encoding.
    """
    for t in ex.all_turns():
        i = t.content.find("\ufffd")
        if i >= 0:
            yield t.field, f"U+FFFD at character {i + 1}: {_snippet(t.content, i, i + 1)!r}"


@row_rule("FTK403", "control-character", Severity.WARNING, "Text contains control characters", Fix.NORMALISE,
          trigger=Trigger(CONTROL_CHARS))
def control_character(ex: Example, opts: Options):
    """
    What it does: flags ASCII/C1 control characters other than tab, newline and carriage return
    (NUL, backspace, escape, DEL …) and the non-characters U+FFFE/U+FFFF.
    Why it matters: they are invisible, come from broken scrapes or terminal logs, and waste or
    confuse tokens. Some tokenizers map them to <unk>.
    Example: "Hello\\x00 world"
    Use instead: remove them; `--fix` does.
    """
    for t in ex.all_turns():
        m = CONTROL.search(t.content) if has_control(t.content) else None
        if m:
            yield t.field, f"control character U+{ord(m.group()):04X} at character {m.start() + 1}"


@row_rule("FTK404", "template-token", Severity.ERROR, "Chat-template token inside message text", Fix.DROP_ROW,
          trigger=Trigger(TEMPLATE_HINTS))
def template_token(ex: Example, opts: Options):
    """
    What it does: flags chat-template markers left inside content: `<|im_start|>`, `<|eot_id|>`,
    `[INST]`, `<start_of_turn>`, `<|endoftext|>` and the like.
    Why it matters: the tokenizer turns them into real special tokens, so the row teaches the model
    to open or close turns mid-answer — a classic cause of models that never stop or that talk to
    themselves.
    Example: `{"role": "assistant", "content": "Sure!<|im_end|>\\n<|im_start|>user"}`
    Use instead: store turns as separate messages and let the template add the markers.
    """
    for t in ex.all_turns():
        m = TEMPLATE_TOKENS.search(t.content) if any(h in t.content for h in TEMPLATE_HINTS) else None
        if m:
            yield t.field, f"template token {m.group()!r} inside {t.role} text"


@row_rule("FTK405", "placeholder-response", Severity.WARNING, "Response is a placeholder, not an answer")
def placeholder_response(ex: Example, opts: Options):
    """
    What it does: flags an assistant response that is only a placeholder: "N/A", "<noinput>",
    "<nooutput>", "TODO", "null", "Lorem ipsum", "[insert answer here]" …
    Why it matters: these are artefacts of data generation; the model learns to answer with them.
    Example: `{"instruction": "Describe the image.", "input": "", "output": "<nooutput>"}`
    Use instead: write the answer or drop the row.
    """
    for t in ex.all_turns():
        if t.role != "assistant":
            continue
        text = t.content.strip()
        if len(text.rstrip(".")) <= PLACEHOLDER_MAX and text.lower().rstrip(".") in PLACEHOLDERS:
            yield t.field, f"placeholder response {text!r}"


# Non-ASCII rows always run: curly apostrophes, and IGNORECASE's Unicode case folding.
@row_rule("FTK406", "refusal-boilerplate", Severity.WARNING, "Response contains AI refusal boilerplate",
          trigger=Trigger(REFUSAL_HINTS, view="lower", non_ascii=True))
def refusal_boilerplate(ex: Example, opts: Options):
    """
    What it does: flags assistant text with stock phrases of distilled data: "As an AI language
    model", "I'm sorry, but I cannot", "I cannot fulfill this request", "my knowledge cutoff".
    Why it matters: a few hundred such rows make a fine-tuned model refuse or hedge on ordinary
    requests — the GPT-distillation smell.
    Example: "As an AI language model, I don't have opinions, but…"
    Use instead: rewrite or drop these rows, unless refusals are what you train.
    """
    for t in ex.all_turns():
        if t.role == "assistant":
            text = t.content.replace("\u2019", "'")  # curly apostrophes: "I’m sorry"
            lower = text.lower()
            m = REFUSALS.search(text) if any(h in lower for h in REFUSAL_HINTS) else None
            if m:
                yield t.field, f"refusal boilerplate {m.group()!r}"


@row_rule("FTK407", "unnormalised-unicode", Severity.INFO, "Text is not in Unicode NFC form", Fix.NORMALISE,
          trigger=Trigger(non_ascii=True))
def unnormalised_unicode(ex: Example, opts: Options):
    """
    What it does: flags text that changes under Unicode NFC normalisation (e.g. "e" + combining
    acute instead of "é").
    Why it matters: the two spellings tokenise differently, so the same word is learnt twice and
    duplicates hide from exact matching.
    Example: "cafe\\u0301"
    Use instead: NFC-normalise text; `--fix` does.
    """
    for t in ex.all_turns():
        if not t.content.isascii() and not unicodedata.is_normalized("NFC", t.content):
            yield t.field, "text is not NFC-normalised"


def normalise_text(s: str) -> str:
    """The safe rewrite `--fix` applies to every text field: NFC, without control characters."""
    if s.isascii():
        return CONTROL.sub("", s)
    return CONTROL.sub("", unicodedata.normalize("NFC", s))
