"""TextTable: a chunk's turns normalised and hashed together (compiled loops) must give what the
turn-by-turn definitions give, whatever else is in the chunk."""

from __future__ import annotations

import random

import numpy as np

from ftk.data.formats import Example, Format, Turn
from ftk.lint.features import _normalise, part_mask, row_key, text_table, whole
from ftk.lint.rules.near_duplicates import NearDuplicates

ALPHABET = "aZq. \t\n\r\x0b\x0c\x1c\x1f\x00\x07\x7f\x85  é中,"
ROLES = ["system", "user", "assistant", "tool"]


def random_examples(rng: random.Random, n: int) -> list[Example]:
    out = []
    for _ in range(n):
        def turns(k):
            return [Turn(rng.choice(ROLES), "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 24))), "f")
                    for _ in range(k)]
        if rng.random() < 0.2:
            out.append(Example(Format.DPO, turns(rng.randint(1, 3)), chosen=turns(rng.randint(0, 2)),
                               rejected=turns(rng.randint(0, 2))))
        else:
            out.append(Example(Format.CHAT, turns(rng.randint(1, 5))))
    return out


def test_raw_buffer_holds_each_turn_as_written_then_a_newline():
    """`raw` (what the trigger scan and the language rule read): each turn's UTF-8 bytes at its
    span, a newline after it, nothing else; rows end after their last turn. Chunks all ASCII, and
    mixed: wide turns first, last, side by side, empty turns, a lone surrogate, an empty chunk."""
    rng = random.Random(5)
    chunks = [random_examples(rng, 300), [Example(Format.CHAT, [Turn("user", "plain", "f"), Turn("assistant", "", "f")])],
              [Example(Format.CHAT, [Turn("user", "é", "f"), Turn("user", "中\ud800", "f"), Turn("user", "", "f")]),
               Example(Format.TEXT, [Turn("text", "x\ny", "f")]), Example(Format.CHAT, [Turn("user", "ü", "f")])], []]
    for examples in chunks:
        table = text_table(examples)
        turns = [t for ex in examples for t in whole(ex)]
        want = b"".join(t.content.encode("utf-8", "surrogatepass") + b"\n" for t in turns)
        assert table.raw == want + (b"" if turns else b"\n")
        for k, t in enumerate(turns):
            assert table.raw[table.raw_starts[k]:table.raw_ends[k]] == t.content.encode("utf-8", "surrogatepass")
            assert table.raw[table.raw_ends[k]:table.raw_ends[k] + 1] == b"\n"
        assert table.ascii.tolist() == [t.content.isascii() for t in turns]
        last = np.cumsum([len(whole(ex)) for ex in examples], dtype=np.int64) - 1
        assert table.row_ends().tolist() == [int(table.raw_ends[i]) for i in last]


def test_normalised_texts_and_plain_flags_equal_normalise_turn_by_turn():
    examples = random_examples(random.Random(1), 3000)
    table = text_table(examples)
    want = [_normalise(t.content) for ex in examples for t in whole(ex)]
    assert table.texts() == [w[0] for w in want]
    assert table.plain.tolist() == [w[1] for w in want]
    assert (~table.plain).any() and table.plain.any()


def test_a_turn_hashes_the_same_in_any_chunk_and_only_equal_turns_match():
    rng = random.Random(2)
    examples = random_examples(rng, 2000)
    table = text_table(examples)
    pairs = [(t.role, text) for t, text in zip(table.turns, table.texts())]
    alone = [int(text_table([Example(Format.CHAT, [Turn(t.role, t.content, "")])]).digests[0]) for t in table.turns[:300]]
    assert alone == table.digests[:300].tolist()
    by_digest: dict[int, set] = {}
    for d, p in zip(table.digests.tolist(), pairs):
        by_digest.setdefault(d, set()).add(p)
    assert all(len(v) == 1 for v in by_digest.values())  # no two different (role, text) share one
    assert len(by_digest) == len(set(pairs))  # and equal ones share it
    # Texts that normalise alike hash alike; the role salts the hash.
    a = text_table([Example(Format.CHAT, [Turn("user", "Hello\t World", ""), Turn("user", "hello world ", ""),
                                         Turn("assistant", "hello world", "")])]).digests.tolist()
    assert a[0] == a[1] != a[2]


def test_row_keys_match_equal_rows_only():
    rng = random.Random(3)
    examples = random_examples(rng, 1500)
    # Copies with other whitespace and case are the same row.
    copies = [Example(ex.format, [Turn(t.role, f"  {t.content.upper()} ", "") for t in ex.turns],
                      chosen=None if ex.chosen is None else [Turn(t.role, t.content, "") for t in ex.chosen],
                      rejected=None if ex.rejected is None else [Turn(t.role, t.content, "") for t in ex.rejected])
              for ex in examples[:200] if all(t.content.isascii() for t in whole(ex))]
    keys = text_table(examples + copies).row_keys().tolist()
    identity = [(ex.format is Format.DPO, len(ex.turns), ex.chosen is None or len(ex.chosen), ex.rejected is None or len(ex.rejected),
                 tuple((t.role, _normalise(t.content)[0]) for t in whole(ex))) for ex in examples + copies]
    by_key: dict[int, set] = {}
    for k, ident in zip(keys, identity):
        by_key.setdefault(k, set()).add(ident[1:])
    assert all(len(v) == 1 for v in by_key.values())
    assert len(by_key) == len({i[1:] for i in identity}) < len(keys)  # the copies matched
    # A row's key is the same in a chunk of one (row_key) as in its chunk.
    assert [row_key(Example(ex.format, ex.turns, ex.chosen, ex.rejected)) for ex in examples[:100]] == keys[:100]
    # The part sizes count: a turn moved from the prompt to the chosen responses is another row.
    dpo = [Example(Format.DPO, [Turn("user", "q", ""), Turn("assistant", "a", "")], [Turn("assistant", "b", "")], []),
           Example(Format.DPO, [Turn("user", "q", "")], [Turn("assistant", "a", ""), Turn("assistant", "b", "")], [])]
    assert len(set(text_table(dpo).row_keys().tolist())) == 2


def test_prompt_response_and_asked_keys_follow_the_definitions():
    """part_keys must split rows as Example.prompt_and_response and NearDuplicates.asked do."""
    rng = random.Random(4)
    examples = random_examples(rng, 3000)
    table = text_table(examples)
    ok, prompt_keys, response_keys, asked_keys, asked = table.part_keys()
    want_ok, prompts, responses, askeds = [], {}, {}, {}
    for i, ex in enumerate(examples):
        prompt, response = ex.prompt_and_response()
        has = bool(prompt) and response is not None and any(t.role == "user" for t in prompt)
        want_ok.append(has)
        assert (NearDuplicates.asked(ex) is not None) == has
        if has:
            norm = lambda turns: tuple((t.role, _normalise(t.content)[0]) for t in turns)  # noqa: E731
            prompts.setdefault(int(prompt_keys[i]), set()).add(norm(prompt))
            responses.setdefault(int(response_keys[i]), set()).add(norm([response]))
            askeds.setdefault(int(asked_keys[i]), set()).add(norm(NearDuplicates.asked(ex)))
    assert ok.tolist() == want_ok and sum(want_ok) > 500
    for keys in (prompts, responses, askeds):
        assert all(len(v) == 1 for v in keys.values())
    assert len(askeds) < len(prompts)  # rows that differ in their system prompt only share an asked key
    in_part, has_part = part_mask(examples, [NearDuplicates.asked(ex) for ex in examples])
    assert np.array_equal(asked, in_part) and np.array_equal(ok, has_part)


def test_the_tables_buffer_shingles_as_the_texts_do():
    """flat_shingles hashes the table's buffer (texts not ASCII reduced to their words in place):
    the same words and shingles as text_shingles on the normalised texts."""
    from ftk.lint.near_dup import buffer_shingles, text_shingles

    rng = random.Random(5)
    examples = random_examples(rng, 500)
    words = "Olá naïve café tea the cat sat on a mat 42 x_1".split()
    examples += [Example(Format.CHAT, [Turn(rng.choice(ROLES), " ".join(rng.choice(words) for _ in range(rng.randint(0, 20))), "")])
                 for _ in range(500)]
    table = text_table(examples)
    got = buffer_shingles(*table.shingle_texts(), table.salts)
    want = text_shingles(table.texts(), table.salts)
    for g, w in zip(got, want):
        assert np.array_equal(g, w)
    assert (~table.ascii).sum() > 100 and got[2].size > 1000


def test_same_key_groups_equal_the_plain_definition():
    """Exact-duplicate and same-prompt groups: every key found more than once, its positions in input
    order, the groups ordered by their first position."""
    from ftk.lint.rules.duplicates import same_key_groups

    rng = np.random.default_rng(4)
    for n, spread in ((0, 1), (1, 1), (2, 1), (500, 10_000), (5000, 800), (3000, 3)):
        keys = rng.integers(0, spread, size=n).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        want: dict[int, list[int]] = {}
        for i, k in enumerate(keys.tolist()):
            want.setdefault(k, []).append(i)
        want_groups = sorted((g for g in want.values() if len(g) > 1), key=lambda g: g[0])
        assert [g.tolist() for g in same_key_groups(keys)] == want_groups


def test_shapes_give_each_example_its_role_sequence():
    """TextTable.shapes: per example the index of its roles (all turns, in order) among distinct
    sequences, by integer keys or, when a sequence is too long to be one, by rows of a grid."""
    rng = random.Random(9)
    short = random_examples(rng, 500)
    many_roles = [Example(Format.CHAT, [Turn(f"role{k}", "x", "f") for k in range(rng.randint(1, 30))]) for _ in range(50)]
    for examples in (short, many_roles + short, [Example(Format.CHAT, [Turn("user", "x", "f")])]):
        shape_of, sequences, position = text_table(examples).shapes()
        assert len(set(sequences)) == len(sequences)
        assert [sequences[s] for s in shape_of.tolist()] == [tuple(t.role for t in whole(ex)) for ex in examples]
        assert position.tolist() == [k for ex in examples for k in range(len(whole(ex)))]


def test_rows_table_is_shared_by_a_chunks_callers_and_rebuilt_for_a_changed_list():
    """rows_table: the same list gives the same table (the row checks and every rule's map share
    it); a list refilled in place (an end replaced, a row added) gets a table of its rows."""
    from ftk.lint.features import forget_rows, rows_table

    def row(text):
        return None, Example(Format.CHAT, [Turn("user", text, "f")])

    rows = [row("a"), row("b"), row("c")]
    first = rows_table(rows)
    assert rows_table(rows) is first and first.raw == b"a\nb\nc\n"
    rows[-1] = row("z")
    assert rows_table(rows).raw == b"a\nb\nz\n"
    rows.append(row("y"))
    assert rows_table(rows).raw == b"a\nb\nz\ny\n"
    rows.insert(0, row("x"))
    assert rows_table(rows).raw == b"x\na\nb\nz\ny\n"
    forget_rows()
