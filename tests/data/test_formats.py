import pytest

from ftk.data.formats import Format, SchemaProblem, detect_format, normalise


@pytest.mark.parametrize("row, fmt", [
    ({"messages": []}, Format.CHAT),
    ({"conversations": []}, Format.SHAREGPT),
    ({"instruction": "a", "input": "", "output": "b"}, Format.ALPACA),
    ({"prompt": "a", "completion": "b"}, Format.COMPLETION),
    ({"prompt": "a", "chosen": "b", "rejected": "c"}, Format.DPO),
    ({"text": "a"}, Format.TEXT),
    ({"question": "a", "answer": "b"}, None),
])
def test_detect_format(row, fmt):
    assert detect_format(row) is fmt


def test_alpaca_joins_input_after_instruction_and_keeps_fields():
    ex, issues = normalise({"instruction": "Translate.", "input": "Bonjour", "output": "Hello"}, Format.ALPACA)
    assert not issues
    assert [(t.role, t.content, t.field) for t in ex.turns] == [
        ("user", "Translate.\n\nBonjour", "instruction"), ("assistant", "Hello", "output")]


def test_sharegpt_roles_are_mapped_and_fields_named():
    ex, _ = normalise({"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "yo"}]},
                      Format.SHAREGPT)
    assert [(t.role, t.field) for t in ex.turns] == [("user", "conversations[0].value"),
                                                      ("assistant", "conversations[1].value")]


def test_dpo_string_and_conversational_forms():
    ex, _ = normalise({"prompt": "q", "chosen": "good", "rejected": "bad"}, Format.DPO)
    assert [t.content for t in ex.conversations()[0]] == ["q", "good"]
    assert [t.content for t in ex.conversations()[1]] == ["q", "bad"]
    ex2, issues = normalise({"prompt": [{"role": "user", "content": "q"}],
                             "chosen": [{"role": "assistant", "content": "good"}],
                             "rejected": [{"role": "assistant", "content": "bad"}]}, Format.DPO)
    assert not issues and ex2.prompt_and_response()[1].content == "good"


def test_issues_name_the_exact_field():
    _, issues = normalise({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": 4},
                                        {"content": "y"}, "oops"], "extra": 1}, Format.CHAT)
    got = {(i.problem, i.field) for i in issues}
    assert got == {(SchemaProblem.UNKNOWN_KEY, "extra"), (SchemaProblem.WRONG_TYPE, "messages[1].content"),
                   (SchemaProblem.MISSING, "messages[2].role"), (SchemaProblem.WRONG_TYPE, "messages[3]")}


def test_text_parts_and_tool_calls_are_accepted():
    ex, issues = normalise({"messages": [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "1"}]},
        {"role": "tool", "content": "42"}, {"role": "assistant", "content": "It is 42."}]}, Format.CHAT)
    assert not issues
    assert ex.turns[0].content == "ab" and ex.turns[1].has_tool_calls and ex.turns[1].content == ""


def test_image_parts_are_rejected():
    ex, issues = normalise({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]},
                                         {"role": "assistant", "content": "x"}]}, Format.CHAT)
    assert ex is None and issues[0].problem is SchemaProblem.WRONG_TYPE and issues[0].field == "messages[0].content[0]"


@pytest.mark.parametrize("fmt, key, role_key, content_key", [
    (Format.CHAT, "messages", "role", "content"), (Format.SHAREGPT, "conversations", "from", "value")])
def test_plain_messages_read_as_the_general_path_reads_them(fmt, key, role_key, content_key):
    """Messages of exactly {role, content} take a short path; a known extra key ("weight") sends
    the same message down the general one: the turns must be the same."""
    roles = ["system", "user", "assistant"] if fmt is Format.CHAT else ["system", "human", "GPT"]
    msgs = [{role_key: r, content_key: f"text {i}"} for i, r in enumerate(roles)]
    plain = normalise({key: msgs}, fmt)
    weighted = normalise({key: [m | {"weight": 1} for m in msgs]}, fmt)
    assert plain[1] == weighted[1] == []
    assert [(t.role, t.content, t.field, t.has_tool_calls) for t in plain[0].turns] == \
        [(t.role, t.content, t.field, t.has_tool_calls) for t in weighted[0].turns]
    assert [t.role for t in plain[0].turns] == ["system", "user", "assistant"]
    assert plain[0].turns[1].field == f"{key}[1].{content_key}"


def test_plain_chat_rows_take_the_short_path_to_the_same_example(monkeypatch):
    """normalise's short path for plain chat rows gives what the step-by-step path gives, and
    declines every row that has something to report or another shape."""
    from ftk.data import formats

    msg = {"role": "user", "content": "hi"}
    rows = [{"messages": [msg, {"role": "assistant", "content": "yo"}]}, {"messages": [msg] * 12, "id": 3},
            {"messages": []}, {"messages": "x"}, {"messages": [msg], "extra": 1}, {"messages": [msg, "x"]},
            {"messages": [{"role": "user", "content": ["a"]}]}, {"messages": [{"role": 1, "content": "a"}]},
            {"messages": [{"role": "user", "content": "a", "name": "n"}]}, {"messages": [{"role": "user"}]},
            {"messages": [{"role": "Human", "content": None, "tool_calls": [1]}]}, {"conversations": [msg]}]
    short = [formats.normalise(row, Format.CHAT) for row in rows]
    taken = [formats._plain_chat(row) is not None for row in rows]
    monkeypatch.setattr(formats, "_plain_chat", lambda obj: None)
    assert short == [formats.normalise(row, Format.CHAT) for row in rows]
    assert taken == [True, True] + [False] * 10
