"""The label mask with the real tokenizers of all seven families: the ids equal the tokenizer's own
apply_chat_template, and the labels cover exactly each assistant answer plus its end-of-turn token."""

import pytest

from ftk.train.chat import IGNORE, TemplateError, encode, prepare
from ftk.train.families import FAMILIES
from tests.conftest import FAMILIES as FAMILY_NAMES

CONVERSATION = [
    {"role": "system", "content": "You are terse and precise."},
    {"role": "user", "content": "Hi there, who are you?"},
    {"role": "assistant", "content": "  I'm a helpful assistant. How can I help?  "},
    {"role": "user", "content": "What is 2+2? Answer with a digit."},
    {"role": "assistant", "content": "4"},
]


@pytest.fixture(scope="module", params=FAMILY_NAMES)
def family(request):
    from transformers import AutoTokenizer

    from tests.conftest import TOKENIZERS

    return request.param, AutoTokenizer.from_pretrained(str(TOKENIZERS / request.param)), FAMILIES[request.param]


def runs(labels):
    """Contiguous runs of trained positions."""
    out, cur = [], []
    for i, x in enumerate(labels):
        if x != IGNORE:
            cur.append(i)
        elif cur:
            out.append(cur)
            cur = []
    return out + ([cur] if cur else [])


def squash(s: str) -> str:
    return "".join(s.split())


def test_ids_equal_the_tokenizers_own_template(family):
    name, tok, fmt = family
    enc = encode(tok, CONVERSATION, fmt)
    ids = tok.apply_chat_template(prepare(CONVERSATION, fmt), tokenize=True)
    ids = ids["input_ids"] if hasattr(ids, "keys") else ids
    assert enc.input_ids == list(ids)


def test_labels_are_exactly_the_answers_and_their_end_of_turn(family):
    name, tok, fmt = family
    enc = encode(tok, CONVERSATION, fmt)
    eot = tok.convert_tokens_to_ids(fmt.end_of_turn)
    answers = [m["content"] for m in CONVERSATION if m["role"] == "assistant"]
    found = runs(enc.labels)
    assert len(found) == len(answers)
    for run, answer in zip(found, answers):
        text = tok.decode([enc.input_ids[i] for i in run])
        assert squash(text) == squash(answer + fmt.end_of_turn), (name, text)
        assert enc.labels[run[-1]] == eot, "the end-of-turn token is trained: the model learns to stop"
    assert all(lab in (IGNORE, i) for lab, i in zip(enc.labels, enc.input_ids))
    prompt_text = tok.decode([i for i, lab in zip(enc.input_ids, enc.labels) if lab == IGNORE])
    assert "terse and precise" in prompt_text and "who are you" in prompt_text


def test_one_bos_and_a_pad_that_is_not_eos(family):
    name, tok, fmt = family
    enc = encode(tok, CONVERSATION, fmt)
    if tok.bos_token_id is not None and name != "smollm2":  # SmolLM2's "bos" is <|im_start|>, once per turn
        assert enc.input_ids.count(tok.bos_token_id) <= 1
    assert enc.input_ids[:2] != [tok.bos_token_id] * 2
    pad = tok.convert_tokens_to_ids(fmt.pad_token)
    assert pad is not None and pad != tok.unk_token_id or fmt.pad_token == tok.unk_token
    assert tok.convert_ids_to_tokens(pad) == fmt.pad_token
    assert pad not in (tok.eos_token_id, tok.convert_tokens_to_ids(fmt.end_of_turn))


def test_system_prompt_is_kept_on_purpose(family):
    """Gemma 3 has no system role (its template prepends it to the first user turn); Mistral v0.3's
    template would drop it, so ftk merges it. Either way it is in the prompt and never trained."""
    name, tok, fmt = family
    enc = encode(tok, CONVERSATION, fmt)
    assert "You are terse and precise." in enc.rendered
    trained = tok.decode([i for i, lab in zip(enc.input_ids, enc.labels) if lab != IGNORE])
    assert "terse" not in trained


def test_truncation_is_counted(family):
    name, tok, fmt = family
    full = encode(tok, CONVERSATION, fmt)
    cut = encode(tok, CONVERSATION, fmt, max_length=10)
    assert len(cut.input_ids) == 10 and cut.truncated == len(full.input_ids) - 10


def test_template_refusals_are_template_errors(tokenizers_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tokenizers_dir / "gemma3"))
    with pytest.raises(TemplateError, match="refused"):
        encode(tok, [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], FAMILIES["gemma3"])


def test_prepare_data_reads_only_max_rows(tokenizers_dir, tmp_path):
    """Export's verification reads a bounded prefix of the training file (VERIFY_ROWS), not all of it."""
    import json

    from ftk.train.dataset import prepare_data
    from ftk.train.families import FAMILIES
    from ftk.train.models import hf_tokenizer

    rows = [{"messages": [{"role": "user", "content": f"Question {i}?"}, {"role": "assistant", "content": f"Answer {i}."}]}
            for i in range(10)]
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken\n", encoding="utf-8")
    tok = hf_tokenizer(str(tokenizers_dir / "smollm2"))
    fmt = FAMILIES["smollm2"]
    some = prepare_data(str(path), tok, fmt, 256, eval_split=0.0, max_rows=4)
    assert [r.line for r in some.all_rows()] == [1, 2, 3, 4] and not some.skipped
    everything = prepare_data(str(path), tok, fmt, 256, eval_split=0.0)
    assert len(everything.all_rows()) == 10 and [s.line for s in everything.skipped] == [11]
