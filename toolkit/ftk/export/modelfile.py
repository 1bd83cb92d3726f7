"""Ollama Modelfiles: a Go TEMPLATE per family that renders the prompt the model was trained on,
the stop tokens, a default SYSTEM where the training template has one, and num_ctx.

The templates are written per family, after Ollama's own library templates, and proved against the
real tokenizers' chat templates in tests/export/test_modelfile.py (rendered with ftk.export.gotemplate,
the way Ollama renders them: `ollama_render` below copies what Ollama's server does to the messages).
"""

from __future__ import annotations

from dataclasses import dataclass

from ftk.export import gotemplate

# ChatML (SmolLM2, Qwen 2.5, Qwen 3): every role, system included, is one <|im_start|> block.
CHATML = """{{- range .Messages }}<|im_start|>{{ .Role }}
{{ .Content }}<|im_end|>
{{ end }}<|im_start|>assistant
"""

LLAMA3 = """{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>

{{ .Content }}<|eot_id|>
{{- end }}<|start_header_id|>assistant<|end_header_id|>

"""

# Mistral: ftk trains with the system prompt merged into the first user turn (train/families.py).
MISTRAL = """{{- $first := true }}
{{- range .Messages }}
{{- if eq .Role "user" }}[INST] {{ if and $first $.System }}{{ $.System }}

{{ end }}{{ .Content }}[/INST]{{ $first = false }}
{{- else if eq .Role "assistant" }} {{ .Content }}</s>
{{- end }}
{{- end }}"""

# Gemma 3 has no system role: its template prepends the system prompt to the first user turn.
GEMMA3 = """{{- $first := true }}
{{- range .Messages }}
{{- if eq .Role "user" }}<start_of_turn>user
{{ if and $first $.System }}{{ $.System }}

{{ end }}{{ .Content }}<end_of_turn>
{{ $first = false }}
{{- else if eq .Role "assistant" }}<start_of_turn>model
{{ .Content }}<end_of_turn>
{{ end }}
{{- end }}<start_of_turn>model
"""

PHI3 = """{{- range .Messages }}<|{{ .Role }}|>
{{ .Content }}<|end|>
{{ end }}<|assistant|>
"""


@dataclass(frozen=True)
class OllamaFormat:
    template: str
    stops: tuple[str, ...]  # every token that ends generation: the end-of-turn marker and EOS
    default_system: str = ""  # what the training template writes when a conversation has no system prompt
    # The HF template strips each message (Jinja `| trim`); Go templates have no trim function, so
    # Ollama passes leading/trailing whitespace through. Identical for messages without it.
    trims_content: bool = False


OLLAMA: dict[str, OllamaFormat] = {
    "smollm2": OllamaFormat(CHATML, ("<|im_end|>",), "You are a helpful AI assistant named SmolLM, trained by Hugging Face"),
    "qwen2.5": OllamaFormat(CHATML, ("<|im_end|>", "<|endoftext|>"),
                            "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."),
    "qwen3": OllamaFormat(CHATML, ("<|im_end|>", "<|endoftext|>")),
    "llama3": OllamaFormat(LLAMA3, ("<|eot_id|>", "<|end_of_text|>"), trims_content=True),
    "mistral": OllamaFormat(MISTRAL, ("</s>",)),
    "gemma3": OllamaFormat(GEMMA3, ("<end_of_turn>", "<eos>"), trims_content=True),
    "phi3": OllamaFormat(PHI3, ("<|end|>", "<|endoftext|>")),
}


def ollama_render(template: str, messages: list[dict], default_system: str = "") -> str:
    """The prompt Ollama's /api/chat builds: the Modelfile's SYSTEM goes first when the request has no
    system message; consecutive messages of one role are merged with a blank line; `.System` joins
    every system message (Ollama's server/routes.go and template/template.go `collate`)."""
    msgs = [dict(m) for m in messages]
    if default_system and not any(m["role"] == "system" for m in msgs):
        msgs.insert(0, {"role": "system", "content": default_system})
    collated: list[dict] = []
    for m in msgs:
        if collated and collated[-1]["Role"] == m["role"]:
            collated[-1]["Content"] += "\n\n" + m["content"]
        else:
            collated.append({"Role": m["role"], "Content": m["content"]})
    system = "\n\n".join(m["content"] for m in msgs if m["role"] == "system")
    return gotemplate.render(template, {"System": system, "Messages": collated})


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def modelfile(family: str, gguf_name: str, num_ctx: int, extra_stops: tuple[str, ...] = ()) -> str:
    """The Modelfile text for a GGUF beside it (FROM ./name.gguf)."""
    fmt = OLLAMA[family]
    stops = list(dict.fromkeys((*fmt.stops, *extra_stops)))
    lines = [f"# Written by ftk export for the {family} chat format the model was trained on."]
    if fmt.trims_content:
        lines.append("# The training template trims each message; this one cannot (Go templates have no trim): send trimmed text.")
    lines += [f"FROM ./{gguf_name}", f'TEMPLATE """{fmt.template}"""']
    if fmt.default_system:
        lines.append(f"SYSTEM {_quote(fmt.default_system)}")
    lines += [f"PARAMETER stop {_quote(s)}" for s in stops]
    lines += [f"PARAMETER num_ctx {num_ctx}", "PARAMETER temperature 0.7", ""]
    return "\n".join(lines)
