"""History splitting and encoding, checked against the site's copy of the plugin's parser."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatbridge._aipower._history import encode_history, split_conversation
from chatbridge.site._history import parse_history_18, parse_history_22
from chatbridge.site._php import add_slashes

HARD_TEXTS = [
    'He said "hi" and left',
    "a backslash \\ here and \\\\ there",
    "line one\nline two\ttabbed",
    "café ü \u00e9 — emoji 🙂",
    "100%25 sure, 50%",
    "<b>bold</b> & <script>x</script>",
    "AI: this text mentions AI: twice",
]


def test_split_keeps_turns_and_current_message() -> None:
    split = split_conversation(
        [
            {"role": "user", "content": "q1"},
            {"role": "assistant", "content": "a1"},
            {"role": "user", "content": "q2"},
        ]
    )
    assert split.turns == (("user", "q1"), ("assistant", "a1"))
    assert split.message == "q2"
    assert not split.flattened


def test_system_prompt_travels_in_the_message_not_dropped() -> None:
    split = split_conversation(
        [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    )
    assert split.turns == ()
    assert split.message == "System: be brief\nUser: hi\nAssistant:"


def test_trailing_assistant_or_odd_roles_flatten_everything() -> None:
    split = split_conversation(
        [{"role": "user", "content": "q"}, {"role": "assistant", "content": "partial"}]
    )
    assert split.flattened and split.turns == ()
    assert split.message == "User: q\nAssistant: partial\nAssistant:"
    odd = split_conversation(
        [{"role": "tool", "content": "result"}, {"role": "user", "content": "q"}]
    )
    assert odd.flattened and "Tool: result" in odd.message


@pytest.mark.parametrize(
    "messages",
    [[], [{"role": "assistant", "content": "x"}], [{"role": "user", "content": "  "}]],
)
def test_unusable_conversations_are_value_errors(messages: list[dict[str, str]]) -> None:
    with pytest.raises(ValueError):
        split_conversation(messages)


def test_encoded_history_has_no_backslash_and_survives_both_parsers() -> None:
    turns = []
    for index, text in enumerate(HARD_TEXTS):
        turns.append(("user" if index % 2 == 0 else "assistant", text))
    encoded = encode_history(turns)
    assert "\\" not in encoded
    for parsed in (parse_history_22(encoded), parse_history_18(add_slashes(encoded))):
        assert [role for role, _ in parsed] == [role for role, _ in turns]
        assert "hi" in parsed[0][1] and "twice" in parsed[6][1]


def test_naive_json_history_is_dropped_by_the_plugin() -> None:
    import json

    naive = json.dumps([{"id": 1, "text": 'Human: He said "hi"'}])
    assert parse_history_22(naive) == []  # what gpt4free-style encoding would suffer
    assert len(parse_history_22(encode_history([("user", 'He said "hi"')]))) == 1


def test_empty_history_is_an_empty_array_never_none() -> None:
    assert encode_history([]) == "[]"


@given(
    st.lists(
        st.tuples(st.sampled_from(["user", "assistant"]), st.text(min_size=1, max_size=40)),
        max_size=6,
    )
)
def test_any_text_keeps_its_turn_count(turns: list[tuple[str, str]]) -> None:
    encoded = encode_history(turns)
    assert "\\" not in encoded
    parsed = parse_history_22(encoded)
    # An assistant turn that is blank once cleaned is dropped by the plugin itself.
    blank = '[{"id":1,"text":"AI: "}]'
    expected = [
        role for role, text in turns if role == "user" or encode_history([(role, text)]) != blank
    ]
    assert [role for role, _ in parsed] == expected


async def test_chatgpt4o_sends_system_and_history_despite_its_seed_flags() -> None:
    # What docs/providers/Chatgpt4o.md says it sends, against the flags the seed declared.
    from chatbridge import Chatgpt4o
    from chatbridge.site import LocalSite, SiteConfig

    assert not Chatgpt4o.supports_system_message and not Chatgpt4o.supports_message_history
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "one"},
        {"role": "user", "content": "second"},
    ]
    site = LocalSite(SiteConfig(generation="2.2"))
    seed_url = Chatgpt4o.url
    async with site as url:
        Chatgpt4o.url = url
        try:
            await Chatgpt4o.create_async("gpt-4o-mini", messages)
        finally:
            Chatgpt4o.url = seed_url
    [chat] = [r for r in site.requests if r.action == "wpaicg_chat_shortcode_message"]
    assert chat.fields["message"] == "System: Be brief.\nUser: second\nAssistant:"
    assert chat.fields["wpaicg_chat_history"] == (
        '[{"id":1,"text":"Human: first"},{"id":2,"text":"AI: one"}]'
    )
