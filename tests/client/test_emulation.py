"""Emulated tool calls (``tools = "emulate"``): the contract in the text the site gets, and a
reply read as calls only when it keeps the contract: never an invented call."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from chatbridge import AsyncClient, Policy
from chatbridge._client._emulation import CONTRACT, emulated_request, parse_reply
from chatbridge._client._health import HealthBook
from chatbridge.site import LocalSite, SiteConfig
from chatbridge.upstream import Behaviour, LocalUpstream

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
FUNCTIONS = {"get_weather": WEATHER["function"]}
ASKED = [{"role": "user", "content": "Weather in Paris?"}]
CALL = '{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}'


@pytest.mark.parametrize(
    "reply",
    [
        CALL,
        f"  \n{CALL}\n",
        f"```json\n{CALL}\n```",
        f"```\n{CALL}\n```",
        '{"name": "get_weather", "arguments": {"city": "Paris"}}',
        '{"tool_calls": [{"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}]}',
    ],
)
def test_a_reply_that_keeps_the_contract_is_a_call(reply: str) -> None:
    [call] = parse_reply(reply, FUNCTIONS) or []
    assert call.index == 0 and call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "Paris"}
    assert call.id is not None and call.id.startswith("call_")


@pytest.mark.parametrize(
    "reply",
    [
        "The weather in Paris is sunny.",
        f"Sure! {CALL}",  # text around it: not only the object
        f"{CALL} done",
        '{"tool_calls": [{"name": "get_time", "arguments": {}}]}',  # not declared
        '{"tool_calls": [{"name": "get_weather", "arguments": ["Paris"]}]}',  # not an object
        '{"tool_calls": [{"name": "get_weather", "arguments": "Paris"}]}',
        '{"tool_calls": []}',
        '{"tool_calls": [{"name": "get_weather", "arguments": {}, "extra": 1}]}',
        '{"tool_calls": [{"name": "get_weather", "arguments": {}}], "text": "hi"}',
        '{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Par',  # cut
        "[1, 2]",
        "",
    ],
)
def test_anything_else_is_text(reply: str) -> None:
    assert parse_reply(reply, FUNCTIONS) is None


def test_the_request_carries_the_contract_the_tools_and_the_results() -> None:
    call = {
        "id": "c7",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    }
    messages = [
        {"role": "system", "content": "Be brief."},
        *ASKED,
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c7", "content": "Sunny, 24 C"},
    ]
    options = {"tools": [WEATHER], "tool_choice": "required", "temperature": 0.5}
    rendered, rest = emulated_request(messages, options)
    assert rest == {"temperature": 0.5}  # the tool options never reach the site
    system = rendered[0]["content"]
    assert rendered[0]["role"] == "system" and system.startswith(CONTRACT)
    assert '"name": "get_weather"' in system and '"description": "The weather in a city"' in system
    assert "You must call at least one function now." in system
    assert rendered[1:3] == messages[:2]
    assert rendered[3] == {
        "role": "assistant",
        "content": '{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}',
    }
    assert rendered[4] == {
        "role": "user",
        "content": "Tool result for call c7 (get_weather):\nSunny, 24 C",
    }
    named = {"type": "function", "function": {"name": "get_weather"}}
    system = emulated_request(ASKED, {"tools": [WEATHER], "tool_choice": named})[0][0]["content"]
    assert system.endswith("You must call the function get_weather now.")


@pytest.fixture
async def chain() -> AsyncIterator[tuple[LocalUpstream, AsyncClient]]:
    """An AI Power site whose AI is the fake upstream (so a test says what the site answers),
    behind a route whose one target emulates tools."""
    upstream = LocalUpstream()
    async with upstream as url, LocalSite(SiteConfig(upstream=url)) as site:
        policy = Policy()
        target = {"provider": "AIPower", "site_url": site, "tools": "emulate"}
        yield (
            upstream,
            AsyncClient(routes={"r": [target]}, policy=policy, health=HealthBook(policy)),
        )


async def test_the_site_gets_the_contract_and_its_reply_becomes_a_call() -> None:
    async with LocalSite() as site:  # the echoing responder: its answer shows what it got
        client = AsyncClient(
            routes={"r": [{"provider": "AIPower", "site_url": site, "tools": "emulate"}]}
        )
        echoed = await client.chat.completions.create(model="r", messages=ASKED, tools=[WEATHER])
    text = echoed.choices[0].message.content or ""
    assert CONTRACT in text and '"name": "get_weather"' in text and "Weather in Paris?" in text
    assert echoed.choices[0].finish_reason == "stop"  # an echo keeps no contract: text


async def test_a_call_comes_back_typed_streamed_and_not(
    chain: tuple[LocalUpstream, AsyncClient],
) -> None:
    upstream, client = chain
    upstream.set_plan(Behaviour("reply", message=f"```json\n{CALL}\n```"))
    answer = await client.chat.completions.create(model="r", messages=ASKED, tools=[WEATHER])
    assert answer.choices[0].finish_reason == "tool_calls"
    assert answer.choices[0].message.content is None
    [call] = answer.choices[0].message.tool_calls or []
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {
        "city": "Paris"
    }
    stream = client.chat.completions.create(model="r", messages=ASKED, tools=[WEATHER], stream=True)
    async with stream:
        chunks = [chunk async for chunk in stream]
    assert chunks[0].choices[0].delta.tool_calls and chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    assert not any(c.choices[0].delta.content for c in chunks)


async def test_a_reply_that_breaks_the_contract_is_text_as_it_came(
    chain: tuple[LocalUpstream, AsyncClient],
) -> None:
    upstream, client = chain
    for reply in (
        '{"tool_calls": [{"name": "rm_rf", "arguments": {}}]}',
        "Sunny all week in Paris, with a light breeze.",
    ):
        upstream.set_plan(Behaviour("reply", message=reply))
        answer = await client.chat.completions.create(model="r", messages=ASKED, tools=[WEATHER])
        assert answer.choices[0].message.content == reply
        assert answer.choices[0].message.tool_calls is None
        assert answer.choices[0].finish_reason == "stop"


async def test_text_that_cannot_be_a_call_streams_as_it_comes(
    chain: tuple[LocalUpstream, AsyncClient],
) -> None:
    upstream, client = chain
    upstream.set_plan(Behaviour("reply", message="Sunny all week in Paris, with a light breeze."))
    stream = client.chat.completions.create(model="r", messages=ASKED, tools=[WEATHER], stream=True)
    async with stream:
        texts = [c.choices[0].delta.content async for c in stream if c.choices[0].delta.content]
    assert "".join(texts) == "Sunny all week in Paris, with a light breeze."
    assert len(texts) > 1  # not held back until the end
    upstream.set_plan(Behaviour("reply", message='{"almost": "a call"} but not'))
    stream = client.chat.completions.create(model="r", messages=ASKED, tools=[WEATHER], stream=True)
    async with stream:
        texts = [c.choices[0].delta.content async for c in stream if c.choices[0].delta.content]
    assert texts == ['{"almost": "a call"} but not']  # held (it began like one), then text


async def test_with_tool_choice_none_nothing_is_read_as_a_call(
    chain: tuple[LocalUpstream, AsyncClient],
) -> None:
    upstream, client = chain
    upstream.set_plan(Behaviour("reply", message=CALL))
    answer = await client.chat.completions.create(
        model="r", messages=ASKED, tools=[WEATHER], tool_choice="none"
    )
    assert answer.choices[0].message.content == CALL and not answer.choices[0].message.tool_calls


async def test_the_round_trip_reaches_the_site_as_text(
    chain: tuple[LocalUpstream, AsyncClient],
) -> None:
    upstream, client = chain
    upstream.set_plan(
        [Behaviour("reply", message=CALL), Behaviour("reply", message="It is sunny.")]
    )
    first = await client.chat.completions.create(model="r", messages=ASKED, tools=[WEATHER])
    call: Any = (first.choices[0].message.tool_calls or [])[0]
    messages = [
        *ASKED,
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": "Sunny"},
    ]
    answer = await client.chat.completions.create(model="r", messages=messages, tools=[WEATHER])
    assert answer.choices[0].message.content == "It is sunny."
    assert upstream.stats.recent[-1].roles[-1] == "user"  # the site sent it all as text


def test_the_contract_in_the_docs_is_the_one_sent() -> None:
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "routing.md").read_text()
    quoted = [line[2:] for line in page.splitlines() if line.startswith("> ")]
    assert " ".join(quoted).replace("`", "") == CONTRACT
