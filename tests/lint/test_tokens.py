"""Token counts with the real tokenizers of all seven families, checked against the tokenizer's own
apply_chat_template (transformers), the way a trainer will see the rows."""

import pytest

from ftk.data.formats import Format, normalise
from ftk.lint.registry import Location, Options
from ftk.lint.rules.length import TokenLengths, percentiles
from ftk.lint.tokens import EstimateCounter, load_token_counter
from tests.conftest import FAMILIES

CONVERSATIONS = [
    [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "What is 2+2? Explain briefly."},
     {"role": "assistant", "content": "It is 4, because two plus two makes four."}],
    [{"role": "user", "content": "Write a haiku about rain.\nPlease."},
     {"role": "assistant", "content": "Soft rain on the roof\n\nwhispers to the sleeping town —\nmorning smells."},
     {"role": "user", "content": "Another, in French?"}, {"role": "assistant", "content": "Pluie d'été, café."}],
    [{"role": "user", "content": "def f(x):\n    return x * 2  # what does this do?"},
     {"role": "assistant", "content": "It doubles `x`: f(3) == 6. 🙂"}],
]


def ftk_count(counter, conv):
    ex, _ = normalise({"messages": conv}, Format.CHAT)
    layout = counter.layout(tuple(t.role for t in ex.turns))
    counts = counter.count([t.content for t in ex.turns])
    return layout.overhead + sum(n for n, kept in zip(counts, layout.kept) if kept)


@pytest.mark.parametrize("family", FAMILIES)
def test_counts_match_the_tokenizers_own_chat_template(family, tokenizers_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tokenizers_dir / family))
    counter = load_token_counter(str(tokenizers_dir / family))
    assert counter.exact
    for conv in CONVERSATIONS:
        ids = tok.apply_chat_template(conv, tokenize=True)
        ids = ids["input_ids"] if hasattr(ids, "keys") else ids
        ours = ftk_count(counter, conv)
        # Exact for six families; Phi-3's markers strip the newline after them (rstrip=True), which
        # can merge a token at a turn boundary: within one token per turn.
        slack = len(conv) if family == "phi3" else 0
        assert abs(ours - len(ids)) <= slack, (family, ours, len(ids))


def test_mistral_dropped_system_prompt_is_not_counted(tokenizers_dir):
    counter = load_token_counter(str(tokenizers_dir / "mistral"))
    layout = counter.layout(("system", "user", "assistant"))
    assert layout.kept == (False, True, True)  # the v0.3 template keeps it only before the last user turn


def test_shipped_tokenizer_by_name_and_special_tokens():
    counter = load_token_counter("smollm2")
    assert counter.special_tokens["eos_token"] == "<|im_end|>"
    assert counter.count(["Hello world"]) == [2]


def test_length_rule_flags_truncation_and_truncated_away(tokenizers_dir):
    counter = load_token_counter(str(tokenizers_dir / "llama3"))
    rule = TokenLengths(Options(max_length=64, tokenizer=counter), {"FTK301", "FTK302"})
    rows = {1: ("short question?", "short answer."), 2: ("short question?", "word " * 100),
            3: ("word " * 100, "short answer.")}
    for line, (u, a) in rows.items():
        ex, _ = normalise({"messages": [{"role": "user", "content": u}, {"role": "assistant", "content": a}]},
                          Format.CHAT)
        rule.observe(Location("d.jsonl", line), ex)
    found = {(f.loc.line, f.code) for f in rule.finish()}
    assert found == {(2, "FTK301"), (3, "FTK302")}
    stats = rule.stats()["tokens"]
    assert stats["exact"] and stats["by_role"]["total"]["count"] == 3


def test_estimate_is_labelled():
    counter = EstimateCounter()
    assert not counter.exact and "estimate" in counter.label
    assert counter.count(["abcdefgh", "abc"]) == [2, 1]


def test_percentiles_nearest_rank():
    from collections import Counter

    p = percentiles(Counter({1: 50, 10: 45, 100: 4, 1000: 1}))
    assert p == {"count": 100, "min": 1, "max": 1000, "mean": 19.0, "median": 1, "p95": 10, "p99": 100}


def test_histogram_bins_cover_max_length_and_longest_row():
    from collections import Counter

    from ftk.lint.rules.length import histogram

    h = histogram(Counter({10: 3, 100: 2, 5000: 1}), max_length=2048, bins=10)
    assert h["bin_width"] == 501 and sum(h["counts"]) == 6
    assert h["counts"][0] == 5 and h["counts"][9] == 1


def test_chunk_totals_are_each_rows_template_count(tokenizers_dir):
    """map() on a chunk (layouts looked up per distinct role sequence, sums as arrays) gives every
    row the count its own conversations give, and the findings and histograms of one row at a time:
    rows of several shapes, Mistral's template dropping a system prompt, DPO pairs, plain text."""
    from collections import Counter

    counter = load_token_counter(str(tokenizers_dir / "mistral"))
    raw = [({"messages": conv}, Format.CHAT) for conv in CONVERSATIONS]
    raw += [({"messages": [{"role": "system", "content": "Be brief. " * k}, {"role": "user", "content": "Hi " * k},
                           {"role": "assistant", "content": "Hello " * (3 * k)}]}, Format.CHAT) for k in (1, 5, 20)]
    raw += [({"prompt": "Say yes " * k, "chosen": "yes", "rejected": "no " * (9 * k)}, Format.DPO) for k in (1, 12)]
    raw += [({"text": "plain text " * k}, Format.TEXT) for k in (2, 30)]
    raw += [({"messages": [{"role": "user", "content": "word " * 60}, {"role": "assistant", "content": "ok"}]}, Format.CHAT)]
    rows = []
    for line, (obj, fmt) in enumerate(raw * 2, start=1):
        ex, issues = normalise(obj, fmt)
        assert not issues
        rows.append((Location("d.jsonl", line), ex))

    def count(ex) -> int:
        def conv_total(conv):
            layout = counter.layout(tuple(t.role for t in conv))
            return layout.overhead + sum(n for n, kept in zip(counter.count([t.content for t in conv]), layout.kept) if kept)
        return max(conv_total(conv) for conv in ex.conversations())

    options = Options(max_length=40, tokenizer=counter)
    one, chunk = TokenLengths(options, {"FTK301", "FTK302"}), TokenLengths(options, {"FTK301", "FTK302"})
    for loc, ex in rows:
        one.observe(loc, ex)
    chunk.reduce(chunk.map(rows))
    assert chunk.by_role["total"] == Counter(count(ex) for _, ex in rows)
    assert chunk.by_role == one.by_role
    found = sorted((f.loc.line, f.code, f.message) for f in chunk.finish())
    assert found == sorted((f.loc.line, f.code, f.message) for f in one.finish())
    assert {code for _, code, _ in found} == {"FTK301", "FTK302"}
