"""Every provider that changes the conversation it sends says so through one listener
(``on_history``), whatever shape its answer has: a stream (AIPower, ChatGptt, AIEngine) or one
piece (Chatgpt4o). The client puts what it heard in the answer's ``chatbridge.history``
(whole and streamed), the command line in ``--json``'s ``history``; a warning is logged.

AI Power shortens (or drops) turns to fit the one message plugin 1.7 is sent after a long
answer; AI Engine folds the oldest messages into one system message to fit the bot's
``maxMessages``: both are reported."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from chatbridge import AsyncClient, Chatgpt4o, ChatGptt, HistoryTrimmed
from chatbridge._client._models import HistoryNote
from tests.cli.conftest import run_cli
from tests.providers.conftest import SiteFactory, assistant, user
from tests.providers.test_long_history import long_answer


async def _answers(
    client: AsyncClient, messages: list[dict[str, str]], model: str = ""
) -> tuple[HistoryNote | None, HistoryNote | None, str]:
    """``chatbridge.history`` of a whole answer and of a streamed one, and the whole text."""
    completions = client.chat.completions
    whole = await completions.create(model=model, messages=messages)
    last: Any = None
    async for chunk in await completions.create(model=model, messages=messages, stream=True):
        last = chunk
    assert whole.chatbridge is not None and last is not None and last.chatbridge is not None
    return whole.chatbridge.history, last.chatbridge.history, whole.choices[0].message.content or ""


@pytest.mark.parametrize("provider", ["AIPower", "ChatGptt", "Chatgpt4o"])
async def test_an_ai_power_provider_of_either_shape_reports_a_shortened_history(
    local_site: SiteFactory, caplog: pytest.LogCaptureFixture, provider: str
) -> None:
    """Chatgpt4o answers in one piece (``create_async``): its note used to reach only the
    log, and its ``chatbridge.history`` stayed empty."""
    _, url = await local_site(generation="1.7")
    caplog.set_level(logging.WARNING, "chatbridge.aipower")
    async with AsyncClient(provider=provider, site_url=url) as client:
        messages = [user("first; " + long_answer(14_000))]
        first = await client.chat.completions.create(model="", messages=messages)
        assert first.chatbridge is not None and first.chatbridge.history is None
        messages += [assistant(first.choices[0].message.content or ""), user("second")]
        whole, streamed, _ = await _answers(client, messages)
    assert whole is not None and (whole.dropped, whole.shortened, whole.budget) == (0, 2, 12_000)
    assert streamed == whole
    assert whole.folded == 0 and whole.max_messages is None
    assert any(whole.message in record.getMessage() for record in caplog.records)


async def test_a_provider_that_answers_in_one_piece_tells_its_listener(
    local_site: SiteFactory,
) -> None:
    _, url = await local_site(generation="1.7")
    messages = [user("first; " + long_answer(14_000))]
    answer = await Chatgpt4o.create_async("", messages, site_url=url)
    messages += [assistant(answer), user("second")]
    heard: list[HistoryTrimmed] = []
    text = await Chatgpt4o.create_async("", messages, site_url=url, on_history=heard.append)
    assert "Echo: User: first;" in text
    assert len(heard) == 1 and heard[0].shortened == 2  # once, however many chunks
    chunks = [
        chunk
        async for chunk in ChatGptt.create_async_generator(
            "", messages, site_url=url, on_history=heard.append
        )
    ]
    assert all(isinstance(chunk, str) for chunk in chunks)  # the note is not a chunk
    assert len(heard) == 2 and heard[1] == heard[0]


@pytest.mark.parametrize("provider", ["AIEngine", "AnySite"])
async def test_ai_engine_folding_to_max_messages_is_reported(
    engine_site: SiteFactory, caplog: pytest.LogCaptureFixture, provider: str
) -> None:
    """Folding the oldest messages into one system message changes the conversation the site
    sees (its turns, not its text): it used to be said nowhere."""
    _, url = await engine_site(max_messages=4, discussions=False)
    caplog.set_level(logging.WARNING, "chatbridge.aiengine")
    async with AsyncClient(provider=provider, site_url=url) as client:
        messages = [user("q0")]
        short, _, answer = await _answers(client, messages)
        assert short is None  # the greeting and one message: nothing folded
        for turn in range(1, 3):
            messages += [assistant(answer), user(f"q{turn}")]
            whole, streamed, answer = await _answers(client, messages)
    assert whole is not None and streamed == whole
    # Sent before q2: the greeting, q0, a0, q1, a1. The greeting and q0 went into one system
    # message, so that the bot keeps all of it (four messages).
    assert (whole.folded, whole.max_messages) == (2, 4)
    assert (whole.dropped, whole.shortened, whole.removed_chars, whole.budget) == (0, 0, 0, None)
    assert "the oldest 2 messages folded into one system message" in whole.message
    assert [r.getMessage() for r in caplog.records if whole.message in r.getMessage()]


async def test_the_json_answer_has_it_for_a_one_piece_provider(local_site: SiteFactory) -> None:
    _, url = await local_site(generation="1.7")
    script = json.dumps("remember teal " + "and more words " * 1000) + '\n"which colour?"\n'
    result = await run_cli("chat", "--provider", "Chatgpt4o", "--url", url, "--jsonl", stdin=script)

    assert result.code == 0, result.err
    first, second = (json.loads(line) for line in result.out.splitlines())
    assert first["history"] is None
    history = second["history"]
    assert (history["dropped"], history["shortened"], history["budget"]) == (0, 2, 12_000)
    assert "shortened in the middle" in history["message"]


async def test_the_json_answer_says_when_ai_engine_folded_the_conversation(
    engine_site: SiteFactory,
) -> None:
    _, url = await engine_site(max_messages=3, discussions=False)
    script = '"one"\n"two"\n"three"\n"four"\n'
    result = await run_cli("chat", "--url", url, "--jsonl", stdin=script)

    assert result.code == 0, result.err
    replies = [json.loads(line) for line in result.out.splitlines()]
    notes = [reply["history"] for reply in replies]
    assert notes[:2] == [None, None]  # the greeting and up to two messages: the bot keeps them
    assert [note["folded"] for note in notes[2:]] == [3, 5]  # all but the newest two
    assert notes[3]["max_messages"] == 3
    assert "folded into one system message" in notes[3]["message"]
