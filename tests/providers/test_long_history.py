"""Long answers and the history after them (issue 22, items 4 and 5).

A conversation that goes to a site as one message: within the budget, the newest turns are
kept and long turns lose their middle rather than being dropped whole; and whatever is left
out is said (a log warning, the provider's ``on_history`` listener, the client's
``chatbridge.history``).
And plugin 1.7, whose history cookie grows with the answer: a 1 MB answer is read, its
cookie dropped as a browser drops it, and the next turn still carries the history."""

from __future__ import annotations

import logging
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatbridge import AIPower, AsyncClient, Conversation, HistoryTrimmed, format_prompt
from chatbridge._aipower._history import split_conversation
from chatbridge._constants import (
    FLATTENED_MESSAGE_BUDGET,
    FLATTENED_TURN_MIN_CHARS,
    MAX_COOKIE_BYTES,
)
from tests.providers.conftest import SiteFactory, assistant, user

BUDGET = FLATTENED_MESSAGE_BUDGET
MARK = re.compile(r" \[…([\d,]+) characters left out…\] ")


def long_answer(size: int) -> str:
    """Numbered words, so the start, the middle and the end can be told apart."""
    words = [f"w{index}" for index in range(size // 4)]
    return " ".join(words)[:size]


def test_one_answer_over_the_budget_keeps_the_question_and_both_ends_of_the_answer() -> None:
    answer = long_answer(15_000)
    split = split_conversation([user("remember teal"), assistant(answer), user("which word?")])
    whole = split.whole
    assert len(whole) <= BUDGET
    assert whole.startswith("User: remember teal\nAssistant: " + answer[:2000])
    assert whole.endswith(answer[-2000:] + "\nUser: which word?\nAssistant:")
    (removed,) = MARK.findall(whole)
    assert answer[len(answer) // 2 : len(answer) // 2 + 50] not in whole  # the middle went
    assert split.trimmed == HistoryTrimmed(0, 1, int(removed.replace(",", "")), BUDGET)
    assert "1 turn shortened in the middle" in split.trimmed.message


def test_many_long_turns_keep_the_newest_each_shortened() -> None:
    messages = []
    for turn in range(30):
        messages += [user(f"q{turn} " + long_answer(5_000)), assistant(f"a{turn} " + "z" * 5_000)]
    messages.append(user("and now?"))
    split = split_conversation(messages)
    assert split.trimmed is not None
    assert len(split.whole) <= BUDGET
    heads = [message["content"][:8] for message in messages[:-1]]
    kept = [index for index, head in enumerate(heads) if f": {head}" in split.whole]
    assert kept == list(range(kept[0], 60)) and len(kept) > 8  # the newest, none skipped
    assert split.trimmed.dropped == kept[0]
    assert split.trimmed.shortened == len(kept)  # every kept turn was long
    assert split.whole.endswith("User: and now?\nAssistant:")


def test_short_turns_go_whole_or_not_at_all() -> None:
    messages: list[dict[str, str]] = []
    for turn in range(40):
        messages += [user(f"question {turn} " + "x" * 500), assistant(f"answer {turn} " + "y" * 50)]
    messages.append(user("last?"))
    split = split_conversation(messages)
    assert split.trimmed is not None and split.trimmed.shortened == 0
    assert not MARK.search(split.whole)
    assert split.trimmed.dropped == sum(1 for m in messages[:-1] if m["content"] not in split.whole)


def test_a_conversation_within_the_budget_is_sent_as_is() -> None:
    messages = [user("q"), assistant("a" * 5000), user("next")]
    split = split_conversation(messages)
    assert split.whole == format_prompt(messages) and split.trimmed is None


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(min_value=1, max_value=30_000), min_size=1, max_size=24),
    st.integers(min_value=1, max_value=3_000),
)
def test_the_message_fits_and_says_what_it_left_out(lengths: list[int], last: int) -> None:
    messages = [
        (user if index % 2 == 0 else assistant)(f"t{index} " + "x" * length)
        for index, length in enumerate(lengths)
    ]
    messages.append(user("now " + "y" * last))
    split = split_conversation(messages)
    whole = split.whole
    assert len(whole) <= BUDGET
    assert whole.endswith(f"User: now {'y' * last}\nAssistant:")  # the current one, whole
    kept = [index for index in range(len(lengths)) if f": t{index} " in whole]
    assert kept == list(range(len(lengths) - len(kept), len(lengths)))  # the newest
    if split.trimmed is None:
        assert whole == format_prompt(messages)
        return
    assert split.trimmed.dropped == len(lengths) - len(kept)
    assert split.trimmed.shortened == len(MARK.findall(whole))
    cut = sum(int(n.replace(",", "")) for n in MARK.findall(whole))
    dropped_text = sum(len(messages[index]["content"]) for index in range(split.trimmed.dropped))
    assert split.trimmed.removed_chars == cut + dropped_text
    for index in kept:  # a shortened turn keeps at least its minimum
        line = next(part for part in whole.split("\n") if f": t{index} " in part)
        assert len(line) >= min(len(messages[index]["content"]), FLATTENED_TURN_MIN_CHARS)


async def test_on_17_the_turn_after_a_long_answer_still_carries_the_history(
    local_site: SiteFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Genuine 1.7.14: the answer's history cookie is too long to keep, so the next turn
    goes flattened; the long answer used to drop every earlier turn, in silence."""
    site, url = await local_site(generation="1.7")
    conversation = Conversation()
    question = "remember the word teal; " + long_answer(14_000)  # echoed back: > 12,000
    messages = [user(question)]
    answer = await AIPower.create_async("", messages, site_url=url, conversation=conversation)
    assert len(answer) > BUDGET
    messages += [assistant(answer), user("which word did I ask you to remember?")]
    caplog.set_level(logging.WARNING, "chatbridge.aipower")
    heard: list[HistoryTrimmed | str] = []
    async for chunk in AIPower.create_async_generator(
        "", messages, site_url=url, conversation=conversation, on_history=heard.append
    ):
        heard.append(chunk)
    note = heard[0]  # before the text, once
    assert isinstance(note, HistoryTrimmed) and note.shortened == 2 and note.dropped == 0
    assert all(isinstance(chunk, str) for chunk in heard[1:])
    sent = site.state.requests[-1].fields["message"]
    assert sent.startswith("User: remember the word teal; ")
    assert "Assistant: [local AI Power site] Echo: remember the word teal" in sent
    assert sent.endswith("User: which word did I ask you to remember?\nAssistant:")
    assert len(sent) <= BUDGET
    assert [r.message for r in caplog.records] == [f"{url}/: {note.message}"]


async def test_the_client_answer_says_what_the_site_was_not_sent(local_site: SiteFactory) -> None:
    _, url = await local_site(generation="1.7")
    async with AsyncClient(provider="AIPower", site_url=url) as client:
        messages = [user("first; " + long_answer(14_000))]
        first = await client.chat.completions.create(model="", messages=messages)
        assert first.chatbridge is not None and first.chatbridge.history is None
        assert '"history":' not in first.model_dump_json()  # nothing left out: no field
        messages += [assistant(first.choices[0].message.content or ""), user("second")]
        whole = await client.chat.completions.create(model="", messages=messages)
        parts = [
            chunk
            async for chunk in await client.chat.completions.create(
                model="", messages=messages, stream=True
            )
        ]
    assert whole.chatbridge is not None and whole.chatbridge.history is not None
    assert whole.chatbridge.history.shortened == 2
    assert whole.chatbridge.history.message.startswith("the conversation was too long")
    assert '"history":{"dropped":0,"shortened":2,' in whole.model_dump_json()
    first_chunk, last_chunk = parts[0].chatbridge, parts[-1].chatbridge
    assert first_chunk is not None and first_chunk.history == whole.chatbridge.history
    assert last_chunk is not None and last_chunk.history == whole.chatbridge.history


async def test_a_1_mb_answer_on_17_is_read_and_the_conversation_goes_on(
    local_site: SiteFactory,
) -> None:
    """Genuine 1.7.14 answers over ~52 KB failed in every client: the Set-Cookie line that
    holds the history passed the 64 KiB header limit (the local site sends that cookie too:
    question and answer, PHP-serialised and url-encoded)."""
    site, url = await local_site(generation="1.7")
    conversation = Conversation()
    messages = [user("a long one: " + long_answer(1_000_000))]
    answer = await AIPower.create_async("", messages, site_url=url, conversation=conversation)
    assert len(answer) > 1_000_000 and answer.endswith("(user 0, assistant 0)")
    assert all(len(cookie.value) <= MAX_COOKIE_BYTES for cookie in conversation.cookie_jar)
    messages += [assistant(answer), user("and in short?")]
    notes: list[HistoryTrimmed] = []
    chunks = [
        chunk
        async for chunk in AIPower.create_async_generator(
            "", messages, site_url=url, conversation=conversation, on_history=notes.append
        )
    ]
    assert len(notes) == 1 and notes[0].dropped == 0
    assert "Echo: User: a long one: w0 w1" in "".join(chunks)
    assert site.stats.answers == 2
