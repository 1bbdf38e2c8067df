"""A real ``chatbridge serve`` process driven by the official ``anthropic`` SDK through the
Messages API, over the fake upstream and the local AI Power site."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import aiohttp
import anthropic
import pytest

from chatbridge.upstream import LocalUpstream, expected_answer
from tests.server.conftest import Served, fake_and_site

Spawn = Callable[..., Served]
KEY = "sk-test-messages-1"
WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


@pytest.fixture
async def served(spawn_server: Spawn, site_url: str) -> AsyncIterator[tuple[Served, LocalUpstream]]:
    upstream = LocalUpstream()
    async with upstream as base:
        config = fake_and_site(base, site_url, KEY)
        server = await asyncio.to_thread(spawn_server, "--no-ui", config=config)
        yield server, upstream
        assert await asyncio.to_thread(server.stop) == 0


def sdk(server: Served, key: str = KEY, bearer: bool = False) -> anthropic.AsyncAnthropic:
    if bearer:
        return anthropic.AsyncAnthropic(base_url=server.url, auth_token=key, max_retries=0)
    return anthropic.AsyncAnthropic(base_url=server.url, api_key=key, max_retries=0)


async def test_create_and_stream(served: tuple[Served, LocalUpstream]) -> None:
    server, upstream = served
    client = sdk(server)
    message = await client.messages.create(
        model="fake",
        max_tokens=200,
        system=[{"type": "text", "text": "Be brief."}],
        stop_sequences=["\n\n"],
        extra_body={"temperature": 0.2, "top_p": 0.9},  # (this SDK no longer takes them)
        messages=[{"role": "user", "content": "Hello"}],
    )
    assert message.type == "message" and message.role == "assistant"
    assert message.stop_reason == "end_turn"
    assert message.content[0].type == "text"
    assert message.content[0].text == "".join(
        expected_answer([{"role": "user", "content": "Hello"}])
    )
    assert message.usage.output_tokens == 60 and message.usage.input_tokens > 0
    sent = upstream.stats.recent[-1]
    assert sent.roles == ["system", "user"]
    assert sent.options["max_tokens"] == 200 and sent.options["stop"] == ["\n\n"]
    assert sent.options["temperature"] == 0.2 and sent.options["top_p"] == 0.9
    async with (
        sdk(server, bearer=True) as bearer,
        bearer.messages.stream(
            model="fake", max_tokens=5, messages=[{"role": "user", "content": "Stream"}]
        ) as stream,
    ):
        text = "".join([piece async for piece in stream.text_stream])
        final = await stream.get_final_message()
    assert text == "".join(expected_answer([{"role": "user", "content": "Stream"}])[:5])
    assert final.stop_reason == "max_tokens" and final.usage.output_tokens == 5
    on_site = await client.messages.create(
        model="site", max_tokens=100, messages=[{"role": "user", "content": "Hi"}]
    )
    assert on_site.content[0].type == "text" and "Echo: Hi" in on_site.content[0].text
    # The site reported no counts: 0, and the chatbridge field says they are not counts.
    assert (on_site.usage.input_tokens, on_site.usage.output_tokens) == (0, 0)
    assert (on_site.model_extra or {})["chatbridge"]["usage_reported"] is False
    await client.close()


async def test_a_tool_use_and_tool_result_round_trip(served: tuple[Served, LocalUpstream]) -> None:
    server, upstream = served
    client = sdk(server)
    question = {"role": "user", "content": "Weather in Paris?"}
    first = await client.messages.create(
        model="fake",
        max_tokens=200,
        tools=[WEATHER],
        messages=[question],  # type: ignore[list-item]
    )
    assert first.stop_reason == "tool_use"
    [use] = first.content
    assert use.type == "tool_use" and use.name == "get_weather"
    assert use.input == {"city": "Weather in Paris?"}
    result = {"type": "tool_result", "tool_use_id": use.id, "content": "Sunny, 24 C"}
    answer = await client.messages.create(
        model="fake",
        max_tokens=200,
        tools=[WEATHER],  # type: ignore[list-item]
        messages=[
            question,
            {"role": "assistant", "content": first.content},
            {"role": "user", "content": [result]},
        ],  # type: ignore[list-item]
    )
    assert answer.stop_reason == "end_turn" and answer.content[0].type == "text"
    assert answer.content[0].text == "".join(
        expected_answer([{"role": "tool", "content": "Sunny, 24 C"}])
    )
    assert upstream.stats.recent[-1].roles == ["user", "assistant", "tool"]
    async with client.messages.stream(
        model="fake",
        max_tokens=200,
        tools=[WEATHER],
        messages=[question],  # type: ignore[list-item]
    ) as stream:
        final = await stream.get_final_message()
    assert final.stop_reason == "tool_use" and final.content[0].type == "tool_use"
    assert final.content[0].input == {"city": "Weather in Paris?"}
    await client.close()


async def test_what_claude_code_asks_at_start_up_and_the_errors(
    served: tuple[Served, LocalUpstream],
) -> None:
    server, _ = served
    async with aiohttp.ClientSession() as session, session.head(server.url + "/") as reached:
        assert reached.status == 200  # its reachability check, with the chat page off
    client = sdk(server)
    counted = await client.messages.count_tokens(
        model="fake", messages=[{"role": "user", "content": "Hello there, how are you?"}]
    )
    assert (
        counted.input_tokens > 0 and (counted.model_extra or {})["chatbridge"]["estimated"] is True
    )
    models = await client.models.list()
    assert [m.id for m in models.data] == ["fake", "site"] and models.data[0].type == "model"
    assert (await client.models.retrieve("fake")).id == "fake"
    with pytest.raises(anthropic.NotFoundError) as missing:
        await client.messages.create(
            model="nope", max_tokens=10, messages=[{"role": "user", "content": "x"}]
        )
    assert missing.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]
    with pytest.raises(anthropic.BadRequestError) as refused:
        await client.messages.create(
            model="site",
            max_tokens=10,
            tools=[WEATHER],
            messages=[{"role": "user", "content": "x"}],  # type: ignore[list-item]
        )
    assert "no target that can call tools" in refused.value.message
    async with sdk(server, "sk-wrong") as wrong:
        with pytest.raises(anthropic.AuthenticationError):
            await wrong.messages.create(
                model="fake", max_tokens=10, messages=[{"role": "user", "content": "x"}]
            )
    await client.close()
    assert KEY not in server.stderr() and "POST /v1/messages/count_tokens 200" in server.stderr()
