"""A real ``chatbridge serve`` process driven by the official ``openai`` SDK through the
Responses API (``client.responses``) and chat completions with tools, over the fake upstream
and the local AI Power site."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

import openai
import pytest

from chatbridge.upstream import LocalUpstream, expected_answer
from tests.server.conftest import Served, fake_and_site

Spawn = Callable[..., Served]
KEY, OTHER = "sk-test-responses-1", "sk-test-responses-2"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


def text_of(*messages: dict[str, str]) -> str:
    return "".join(expected_answer(list(messages)))


@pytest.fixture
async def served(spawn_server: Spawn, site_url: str) -> AsyncIterator[tuple[Served, LocalUpstream]]:
    upstream = LocalUpstream()
    async with upstream as base:
        config = fake_and_site(base, site_url, KEY, OTHER)
        server = await asyncio.to_thread(spawn_server, config=config)
        yield server, upstream
        assert await asyncio.to_thread(server.stop) == 0


def sdk(server: Served, key: str = KEY) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0)


async def test_create_and_stream(served: tuple[Served, LocalUpstream]) -> None:
    server, upstream = served
    client = sdk(server)
    reply = await client.responses.create(model="fake", input="Hello", instructions="Be brief")
    assert reply.status == "completed" and reply.id.startswith("resp_")
    assert reply.output_text == text_of({"role": "user", "content": "Hello"})
    assert reply.usage is not None and reply.usage.output_tokens == 60
    assert upstream.stats.recent[-1].roles == ["system", "user"]  # the instructions first
    async with client.responses.stream(model="fake", input="Stream it") as stream:
        kinds = [event.type async for event in stream]
        final = await stream.get_final_response()
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed" and "response.output_text.delta" in kinds
    assert final.output_text == text_of({"role": "user", "content": "Stream it"})
    on_site = await client.responses.create(model="site", input="Hi")
    assert "Echo: Hi" in on_site.output_text
    assert on_site.usage is None  # the site counted nothing: nothing made up
    await client.close()


async def test_a_function_tool_round_trip_with_previous_response_id(
    served: tuple[Served, LocalUpstream],
) -> None:
    server, upstream = served
    client = sdk(server)
    first = await client.responses.create(model="fake", input="Paris", tools=[WEATHER])  # type: ignore[list-item]
    [call] = first.output
    assert call.type == "function_call" and call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "Paris"}
    follow = await client.responses.create(
        model="fake",
        previous_response_id=first.id,
        tools=[WEATHER],  # type: ignore[list-item]
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "Sunny"}],
    )
    assert follow.output_text == text_of({"role": "tool", "content": "Sunny"})
    # Only the new input was sent; the target got the whole conversation.
    assert upstream.stats.recent[-1].roles == ["user", "assistant", "tool"]
    async with client.responses.stream(model="fake", input="Rome", tools=[WEATHER]) as stream:  # type: ignore[list-item]
        deltas = [
            e.delta async for e in stream if e.type == "response.function_call_arguments.delta"
        ]
        final = await stream.get_final_response()
    assert "".join(deltas) == '{"city": "Rome"}'
    assert final.output[0].type == "function_call"
    await client.close()


async def test_previous_response_id_continues_and_stored_responses_belong_to_their_key(
    served: tuple[Served, LocalUpstream],
) -> None:
    server, upstream = served
    client, other = sdk(server), sdk(server, OTHER)
    first = await client.responses.create(model="fake", input="One")
    second = await client.responses.create(model="fake", input="Two", previous_response_id=first.id)
    assert second.previous_response_id == first.id
    assert upstream.stats.recent[-1].roles == ["user", "assistant", "user"]
    assert (await client.responses.retrieve(second.id)).output_text == second.output_text
    for stranger in (
        other.responses.retrieve(second.id),
        other.responses.create(model="fake", input="x", previous_response_id=first.id),
        other.responses.delete(second.id),
        client.responses.retrieve("resp_unknown"),
    ):
        with pytest.raises(openai.NotFoundError):
            await stranger
    unstored = await client.responses.create(model="fake", input="Three", store=False)
    with pytest.raises(openai.NotFoundError):
        await client.responses.retrieve(unstored.id)
    await client.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError) as gone:
        await client.responses.create(model="fake", input="x", previous_response_id=first.id)
    assert gone.value.code == "previous_response_not_found"
    assert (await client.responses.retrieve(second.id)).id == second.id  # the others stay
    await client.close()
    await other.close()
    assert KEY not in server.stderr() and "previous_response_not_found" in server.stderr()


async def test_chat_completions_with_tools_through_the_server(
    served: tuple[Served, LocalUpstream],
) -> None:
    server, _ = served
    client = sdk(server)
    tool = {"type": "function", "function": {k: v for k, v in WEATHER.items() if k != "type"}}
    reply = await client.chat.completions.create(
        model="fake",
        messages=[{"role": "user", "content": "Oslo"}],
        tools=[tool],  # type: ignore[list-item]
    )
    assert reply.choices[0].finish_reason == "tool_calls"
    [call] = reply.choices[0].message.tool_calls or []
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {
        "city": "Oslo"
    }  # type: ignore[union-attr]
    stream = await client.chat.completions.create(
        model="fake",
        messages=[{"role": "user", "content": "Oslo"}],
        tools=[tool],
        stream=True,  # type: ignore[list-item]
    )
    chunks = [chunk async for chunk in stream]
    pieces = [
        c.choices[0].delta.tool_calls[0]
        for c in chunks
        if c.choices and c.choices[0].delta.tool_calls
    ]
    assert pieces[0].id and pieces[0].function and pieces[0].function.name == "get_weather"
    assert "".join((p.function.arguments or "") for p in pieces if p.function) == '{"city": "Oslo"}'
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    with pytest.raises(openai.BadRequestError) as refused:
        await client.chat.completions.create(
            model="site",
            messages=[{"role": "user", "content": "Oslo"}],
            tools=[tool],  # type: ignore[list-item]
        )
    assert refused.value.param == "tools"  # type: ignore[attr-defined]
    await client.close()
