"""FTK0xx — parse and schema. Raised by the engine from what the reader and the normaliser saw."""

from ftk.lint.registry import Fix, Severity, declare

INVALID_JSON = declare(
    "FTK001", "invalid-json", Severity.ERROR, "Line is not valid JSON",
    """
    What it does: flags a line (or array element) that does not parse as JSON, including NaN and
    Infinity, which Python accepts but JSON does not.
    Why it matters: `datasets` stops at the first bad line, often hours into a pipeline, or a
    lenient loader skips it silently.
    Example: `{"messages": [{"role": "user", "content": "hi"}]` (missing closing brace)
    Use instead: one complete JSON object per line.
    """, Fix.DROP_ROW)

NOT_AN_OBJECT = declare(
    "FTK002", "not-an-object", Severity.ERROR, "Row is JSON but not an object",
    """
    What it does: flags a row that parses to an array, string, number or null instead of an object.
    Why it matters: every supported format is an object with named fields; anything else cannot be
    trained on.
    Example: `["What is 2+2?", "4"]`
    Use instead: `{"prompt": "What is 2+2?", "completion": "4"}`
    """, Fix.DROP_ROW)

INVALID_ENCODING = declare(
    "FTK003", "invalid-encoding", Severity.ERROR, "Line is not valid UTF-8 text",
    """
    What it does: flags a line whose bytes are not valid UTF-8 (Latin-1 or Windows-1252 exports,
    truncated multi-byte characters), and JSON escapes of half a UTF-16 pair ("\\ud800"), which
    decode to no character at all.
    Why it matters: JSON text must be UTF-8; loaders raise, or replace bytes with U+FFFD and the
    model learns the garbage.
    Example: the byte 0xE9 written for "é" by a Latin-1 export.
    Use instead: re-encode the file as UTF-8.
    """, Fix.DROP_ROW)

BYTE_ORDER_MARK = declare(
    "FTK004", "byte-order-mark", Severity.WARNING, "UTF-8 byte-order mark at the start of the file or a line",
    """
    What it does: flags a UTF-8 BOM (EF BB BF) at the start of the file, or of a line (where files
    saved with a BOM were concatenated).
    Why it matters: strict JSON parsers reject it, and some loaders make it part of the first key,
    so the first row silently loses its `messages` field.
    Example: a file saved by Notepad as "UTF-8 with BOM".
    Use instead: UTF-8 without BOM. `--fix` strips it.
    """, Fix.NORMALISE)

BLANK_LINE = declare(
    "FTK005", "blank-line", Severity.WARNING, "Blank line in a JSON Lines file",
    """
    What it does: flags empty or whitespace-only lines.
    Why it matters: JSON Lines has one value per line; some loaders fail on blank lines, others
    count them as rows, and line numbers stop matching between tools.
    Example: a trailing empty line left by concatenating files with `cat`.
    Use instead: no blank lines. `--fix` drops them.
    """, Fix.DROP_ROW)

UNKNOWN_FORMAT = declare(
    "FTK006", "unknown-format", Severity.ERROR, "Row matches no supported format",
    """
    What it does: flags an object whose keys match none of the supported formats: chat `messages`,
    sharegpt `conversations`, alpaca `instruction/input/output`, `prompt/completion`, DPO
    `prompt/chosen/rejected`, or `text`.
    Why it matters: a trainer cannot know what to learn from it; usually a renamed or misspelt key.
    Example: `{"question": "…", "answer": "…"}`
    Use instead: rename the keys to one supported format, e.g. `prompt`/`completion`.
    """, Fix.DROP_ROW)

MIXED_FORMATS = declare(
    "FTK007", "mixed-formats", Severity.ERROR, "Row is in a different format from the rest of the file",
    """
    What it does: flags rows whose format differs from the file's format (the majority of its first
    rows, or `--format`).
    Why it matters: a dataset loader builds one schema per file; mixed rows either fail to load or
    are trained with the wrong template.
    Example: an alpaca row in a file of chat `messages` rows.
    Use instead: convert every row to one format, or split the file.
    """, Fix.DROP_ROW)

MISSING_FIELD = declare(
    "FTK008", "missing-field", Severity.ERROR, "A required field is missing",
    """
    What it does: flags a row without a field its format requires: `messages`, a message's `role`
    or `content`, alpaca's `instruction`/`output`, `completion`, `chosen`, `rejected`, `text`.
    Why it matters: the row cannot be rendered; loaders fill None and training crashes or learns
    an empty answer.
    Example: `{"instruction": "Summarise this.", "input": "…"}` (no output)
    Use instead: supply the field, or drop the row.
    """, Fix.DROP_ROW)

EMPTY_FIELD = declare(
    "FTK009", "empty-field", Severity.ERROR, "A required field is empty",
    """
    What it does: flags a required text field that is empty or only whitespace, or a message list
    with no messages.
    Why it matters: an empty response teaches the model to stop at once; an empty prompt teaches it
    to answer nothing in particular.
    Example: `{"prompt": "Name a prime.", "completion": "  "}`
    Use instead: fill the field or drop the row.
    """, Fix.DROP_ROW)

WRONG_TYPE = declare(
    "FTK010", "wrong-type", Severity.ERROR, "A field has the wrong type",
    """
    What it does: flags a field whose JSON type is wrong: `messages` that is not an array, a
    message that is not an object, content that is a number, non-text content parts.
    Why it matters: chat templates call string methods on content and fail deep inside training.
    Example: `{"role": "assistant", "content": 42}`
    Use instead: `{"role": "assistant", "content": "42"}`
    """, Fix.DROP_ROW)

UNKNOWN_KEY = declare(
    "FTK011", "unknown-key", Severity.WARNING, "Row or message has a key its format does not use",
    """
    What it does: flags keys that the row's format does not define (besides id, metadata, meta,
    source and category), in the row or in a message.
    Why it matters: usually a typo (`complition`) or a field the trainer ignores (`reply`), so data
    you meant to train on is silently left out.
    Example: `{"role": "assistant", "content": "…", "contnet": "…"}`
    Use instead: the format's own key names; move extra data under `metadata`.
    """)
