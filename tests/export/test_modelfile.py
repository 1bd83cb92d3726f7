"""The Modelfile for every family: its Go TEMPLATE, rendered the way Ollama renders it, gives the text
of the family's real chat template (after ftk's adjustments), and its stops hold the end-of-turn token."""

import functools

import pytest
from tests.conftest import TOKENIZERS as FIXTURES

from ftk.export.gotemplate import GoTemplateError, render
from ftk.export.modelfile import OLLAMA, modelfile, ollama_render
from ftk.train.chat import prepare
from ftk.train.families import FAMILIES

CONVERSATIONS = [
    [{"role": "user", "content": "Hi"}],
    [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "What is 2+2?"}],
    [{"role": "user", "content": "One"}, {"role": "assistant", "content": "Two"}, {"role": "user", "content": "Three?"}],
    [{"role": "system", "content": "You are a pirate.\nSpeak like one."}, {"role": "user", "content": "Hello there"},
     {"role": "assistant", "content": "Arr, ahoy!"}, {"role": "user", "content": "Where is the gold?\n\nTell me."}],
    [{"role": "user", "content": "  spaces  and\ttabs  "}, {"role": "assistant", "content": "ok: 日本語 👍"},
     {"role": "user", "content": "code:\n```py\nprint(1)\n```"}],
]


@functools.cache
def _tokenizer(family):
    from transformers import AutoTokenizer

    path = FIXTURES / family
    assert path.is_dir(), f"tokenizer fixtures missing: expected {path} (../shared beside the repo)"
    return AutoTokenizer.from_pretrained(str(path))


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_template_renders_the_training_prompt(family):
    tok = _tokenizer(family)
    fmt = OLLAMA[family]
    adds_bos = tok.bos_token_id is not None and tok("x")["input_ids"][:1] == [tok.bos_token_id]
    for conv in CONVERSATIONS:
        want = tok.apply_chat_template(prepare(conv, FAMILIES[family]), tokenize=False, add_generation_prompt=True)
        if adds_bos:  # the runtime adds BOS when tokenising, as for the training ids: not in the template
            assert want.startswith(tok.bos_token)
            want = want[len(tok.bos_token):]
        if fmt.trims_content:  # Go templates cannot trim: a client sends trimmed text (see test below)
            conv = [{**m, "content": m["content"].strip()} for m in conv]
        assert ollama_render(fmt.template, conv, fmt.default_system) == want, (family, conv)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_only_trimming_families_differ_on_padded_messages(family):
    tok = _tokenizer(family)
    fmt = OLLAMA[family]
    conv = CONVERSATIONS[-1]  # its first message has leading and trailing whitespace
    want = tok.apply_chat_template(prepare(conv, FAMILIES[family]), tokenize=False, add_generation_prompt=True)
    got = ollama_render(fmt.template, conv, fmt.default_system)
    assert want.endswith(got) is not fmt.trims_content


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_stops_hold_the_end_of_turn_and_eos(family):
    tok = _tokenizer(family)
    text = modelfile(family, "m.gguf", 2048)
    stops = [line.split(" ", 2)[2].strip('"') for line in text.splitlines() if line.startswith("PARAMETER stop")]
    assert FAMILIES[family].end_of_turn in stops
    assert tok.eos_token in stops or tok.eos_token == FAMILIES[family].end_of_turn
    for s in stops:  # every stop is one real token of the vocabulary
        assert tok.convert_ids_to_tokens(tok.convert_tokens_to_ids(s)) == s
    assert "FROM ./m.gguf" in text and "PARAMETER num_ctx 2048" in text


def test_modelfile_quotes_and_system():
    text = modelfile("smollm2", "x.gguf", 4096)
    assert 'SYSTEM "You are a helpful AI assistant named SmolLM, trained by Hugging Face"' in text
    assert text.count('"""') == 2  # the template is one triple-quoted block


def test_ollama_merges_consecutive_roles_and_keeps_system_in_messages():
    out = ollama_render("{{ .System }}|{{ range .Messages }}{{ .Role }}={{ .Content }};{{ end }}",
                        [{"role": "system", "content": "S"}, {"role": "user", "content": "a"}, {"role": "user", "content": "b"}])
    assert out == "S|system=S;user=a\n\nb;"


def test_go_template_subset():
    data = {"System": "", "Messages": [{"Role": "user", "Content": "x"}, {"Role": "assistant", "Content": "y"}]}
    assert render("{{- range $i, $m := .Messages }}{{ $i }}:{{ $m.Role }} {{ end -}}  ", data) == "0:user 1:assistant "
    assert render("a  {{- if .System }}S{{ else if eq .Messages .Messages }}same{{ else }}n{{ end }}", data) == "asame"
    assert render("{{ if not .System }}none{{ end }}", data) == "none"
    assert render('{{ $x := "a" }}{{ range .Messages }}{{ $x = .Role }}{{ end }}{{ $x }}', data) == "assistant"
    assert render("{{ if and .Messages .System }}both{{ else }}one{{ end }}", data) == "one"


@pytest.mark.parametrize("bad", ["{{ if .System }}never closed", "{{ end }}", "{{ .Missing }}", "{{ printf \"%s\" .System }}",
                                 "{{ $undeclared = 1 }}",
                                 "{{ if eq (len .Messages) 2 }}{{ end }}"])
def test_go_template_outside_the_subset_fails_loudly(bad):
    with pytest.raises(GoTemplateError):
        render(bad, {"System": "", "Messages": []})
