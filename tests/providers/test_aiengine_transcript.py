"""What an AI Engine chat request carries (the transcript, the new message) and the bot's
limits honoured before sending: pure."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from chatbridge import InvalidRequestError
from chatbridge._aiengine._body import submit_body
from chatbridge._aiengine._page import ChatConfig
from chatbridge._aiengine._thread import Thread
from chatbridge._aiengine._transcript import prepare, split_messages
from chatbridge._state._book import continued_key, transcript_key

from .conftest import assistant, user

CONFIG = ChatConfig(
    generation="g3",
    version="3.5.2+",
    rest_url="https://site.example/wp-json",
    page_url="https://site.example/",
    start_sentence="Hi! How can I help you?",
    text_input_max_length=20,
    max_messages=15,
)


def test_the_transcript_goes_in_messages_and_the_question_in_new_message() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        user("first"),
        assistant("answer"),
        user("second"),
    ]
    prepared = prepare(split_messages(messages), CONFIG)
    assert prepared.new_message == "second"
    assert prepared.messages == [
        {"role": "assistant", "content": "Hi! How can I help you?"},  # as the browser sends
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "answer"},
    ]
    assert prepared.folded == 0


def test_other_roles_are_kept_in_words() -> None:
    messages = [
        {"role": "developer", "content": "Rules."},
        {"role": "tool", "content": "42"},
        {"role": "user", "content": [{"type": "text", "text": "part one"}, "part two"]},
    ]
    prepared = prepare(split_messages(messages), replace(CONFIG, start_sentence=""))
    assert prepared.messages == [
        {"role": "system", "content": "Rules."},
        {"role": "user", "content": "Tool: 42"},
    ]
    assert prepared.new_message == "part one part two"


@pytest.mark.parametrize(
    ("messages", "match"),
    [
        ([], "non-empty list"),
        ([assistant("only me")], "at least one user message"),
        ([user("  \n ")], "no text"),
        ([user("hi"), assistant("a partial ans")], "cannot continue a partial answer"),
        (["not a mapping"], "must be a mapping"),
        ([user("\ud800")], "cannot be encoded"),
    ],
)
def test_the_caller_s_mistakes_are_refused_before_anything_is_sent(
    messages: list, match: str
) -> None:
    with pytest.raises(InvalidRequestError, match=match):
        split_messages(messages)


def test_a_trailing_system_message_is_kept_in_the_transcript() -> None:
    split = split_messages([user("hi"), {"role": "system", "content": "Answer in French."}])
    assert split.new_message == "hi"
    assert split.earlier == [{"role": "system", "content": "Answer in French."}]


def test_a_message_over_the_bot_s_length_cap_is_the_caller_s_error() -> None:
    assert prepare(split_messages([user("  " + "x" * 20 + "\n")]), CONFIG).new_message
    with pytest.raises(InvalidRequestError, match=r"21 characters long.*at most 20") as info:
        prepare(split_messages([user("x" * 21)]), CONFIG)
    assert info.value.code == "message_too_long"
    assert prepare(split_messages([user("x" * 500)]), replace(CONFIG, text_input_max_length=None))


def test_a_transcript_longer_than_max_messages_is_folded_never_dropped() -> None:
    config = replace(CONFIG, max_messages=4, text_input_max_length=None)
    messages = [{"role": "system", "content": "Be brief."}]
    for turn in range(5):
        messages += [user(f"question {turn}"), assistant(f"answer {turn}")]
    messages.append(user("last question"))
    prepared = prepare(split_messages(messages), config)
    # At most max_messages messages: every engine of the plugin keeps them all.
    assert len(prepared.messages) == 4
    context, *tail = prepared.messages
    assert tail == [assistant("answer 3"), user("question 4"), assistant("answer 4")]
    assert context["role"] == "system" and context["content"].startswith("Be brief.")
    for turn in range(3):  # every older turn is in the folded context, in order
        assert f"User: question {turn}\nAssistant: answer {turn}" in context["content"]
    assert context["content"].endswith("User: question 3")
    assert "Assistant: Hi! How can I help you?" in context["content"]
    assert prepared.folded == 1 + 1 + 7  # the greeting, the system prompt, seven messages


TRICKY = ['say "hi"\\n', "é ñ 中文 🙂", "\x00\x1f\x7f\u2028 tab\there", "</script>", ""]


@pytest.mark.parametrize("text", TRICKY)
@pytest.mark.parametrize(
    ("bot", "custom", "context", "session"),
    [
        ("default", None, None, None),
        (12, "support-bot", 3.5, "N/A"),
        (1.0, 7, "ctx", None),
        ('b"ot', None, -2, "s-1"),
    ],
)
def test_the_body_is_the_bytes_json_dumps_writes(
    text: str, bot: object, custom: object, context: object, session: str | None
) -> None:
    config = replace(
        CONFIG, bot_id=bot, custom_id=custom, context_id=context, session=session,
        text_input_max_length=None,
    )  # fmt: skip
    for generation in ("g2", "g3"):
        config = replace(config, generation=generation)
        thread = Thread(session="mwai-" + generation)
        messages = [user(text or "?"), assistant(text), user("again " + text)]
        prepared = prepare(split_messages(messages), config)
        for stream in (True, False):
            expected = {
                "botId": bot,
                "customId": custom,
                "session": session if generation == "g2" else thread.session,
                "chatId": thread.chat_id,
                "contextId": context,
                "messages": prepared.messages,
                "newMessage": prepared.new_message,
                "newFileId": None,
                "newFileIds": None,
                "stream": stream,
            }
            body = submit_body(config, thread, prepared, stream)
            assert body == json.dumps(expected, ensure_ascii=False).encode()


def test_the_split_carries_the_conversation_book_s_digests() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        user("first"),
        assistant(""),
        {"role": "tool", "content": [{"type": "text", "text": "42"}]},
        user("second"),
        {"role": "system", "content": "Answer in French."},
    ]
    split = split_messages(messages)
    assert split.earlier_key == continued_key(messages)
    split.digest.add("assistant", "réponse")
    assert split.digest.key() == transcript_key([*messages, assistant("réponse")])
    first = split_messages([user("hi")])
    assert first.earlier_key is None
