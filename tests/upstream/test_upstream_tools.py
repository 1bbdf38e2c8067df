"""The fake upstream answers tool calls as OpenAI does: deterministic, streamed and not."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from chatbridge.upstream import Behaviour, LocalUpstream, expected_answer
from chatbridge.upstream._tools import FRAGMENT, planned_calls

from .conftest import sse_data

Start = Callable[..., Awaitable[tuple[LocalUpstream, str]]]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "days": {"type": "integer"},
                "unit": {"enum": ["celsius", "fahrenheit"]},
                "note": {"type": "string"},
            },
            "required": ["city", "days", "unit"],
        },
    },
}
TIME = {"type": "function", "function": {"name": "get_time"}}
ASKED = [{"role": "user", "content": "Weather in Paris?"}]
ARGUMENTS = '{"city": "Weather in Paris?", "days": 1, "unit": "celsius"}'


async def post(http: aiohttp.ClientSession, url: str, **body: Any) -> tuple[int, Any]:
    async with http.post(url + "/chat/completions", json={"model": "m", **body}) as response:
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, [json.loads(d) for d in sse_data(await response.text())[:-1]]


async def test_a_request_with_tools_is_answered_with_a_call_made_from_the_schema(
    local_upstream: Start, http: aiohttp.ClientSession
) -> None:
    _, url = await local_upstream()
    status, body = await post(http, url, messages=ASKED, tools=[WEATHER, TIME])
    assert status == 200
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    [call] = choice["message"]["tool_calls"]
    assert call["type"] == "function" and call["id"].startswith("call_")
    assert call["function"] == {"name": "get_weather", "arguments": ARGUMENTS}


async def test_the_streamed_call_comes_in_openai_pieces(
    local_upstream: Start, http: aiohttp.ClientSession
) -> None:
    _, url = await local_upstream()
    choice = {"type": "function", "function": {"name": "get_time"}}
    status, chunks = await post(
        http, url, messages=ASKED, tools=[WEATHER, TIME], tool_choice=choice, stream=True
    )
    assert status == 200
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas[0] == {"role": "assistant", "content": ""}
    start = deltas[1]["tool_calls"][0]
    assert start["index"] == 0 and start["type"] == "function"
    assert start["function"] == {"name": "get_time", "arguments": ""}
    pieces = [d["tool_calls"][0] for d in deltas[2:-1]]
    assert all(set(p) == {"index", "function"} for p in pieces)
    assert "".join(p["function"]["arguments"] for p in pieces) == "{}"  # no schema: no arguments
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


async def test_after_the_tool_result_the_answer_is_text_from_that_result(
    local_upstream: Start, http: aiohttp.ClientSession
) -> None:
    _, url = await local_upstream()
    call = {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
    messages = [
        *ASKED,
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": "Sunny, 24 C"},
    ]
    status, body = await post(http, url, messages=messages, tools=[WEATHER])
    assert status == 200
    message = body["choices"][0]["message"]
    assert "tool_calls" not in message
    assert message["content"] == "".join(
        expected_answer([{"role": "tool", "content": "Sunny, 24 C"}])
    )
    assert message["content"] != "".join(expected_answer(ASKED))


async def test_no_call_when_tool_choice_is_none_or_no_tools(
    local_upstream: Start, http: aiohttp.ClientSession
) -> None:
    _, url = await local_upstream()
    for extra in ({"tools": [WEATHER], "tool_choice": "none"}, {}):
        _, body = await post(http, url, messages=ASKED, **extra)
        assert body["choices"][0]["message"]["content"] == "".join(expected_answer(ASKED))


async def test_the_tool_call_behaviour_names_the_call_and_makes_several(
    local_upstream: Start, http: aiohttp.ClientSession
) -> None:
    upstream, url = await local_upstream()
    upstream.set_plan(
        Behaviour("tool_call", tool="get_time", arguments='{"zone": "UTC"}', tokens=2)
    )
    _, body = await post(http, url, messages=ASKED, tools=[WEATHER, TIME])
    calls = body["choices"][0]["message"]["tool_calls"]
    assert [c["function"] for c in calls] == [
        {"name": "get_time", "arguments": '{"zone": "UTC"}'}
    ] * 2
    assert len({c["id"] for c in calls}) == 2
    upstream.set_plan(Behaviour("tool_call", tokens=2))
    _, chunks = await post(http, url, messages=ASKED, tools=[WEATHER, TIME], stream=True)
    indexes = [c["choices"][0]["delta"]["tool_calls"][0]["index"] for c in chunks[1:-1]]
    assert indexes == sorted(indexes) and set(indexes) == {0, 1}


async def test_the_reply_behaviour_says_what_it_is_told(
    local_upstream: Start, http: aiohttp.ClientSession
) -> None:
    upstream, url = await local_upstream()
    upstream.set_plan(Behaviour("reply", message='{"tool_calls": []} and more'))
    _, chunks = await post(http, url, messages=ASKED, stream=True)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert text == '{"tool_calls": []} and more'
    assert len(chunks) > 3  # word by word


async def test_a_cut_inside_the_arguments_ends_without_a_finish(
    local_upstream: Start, http: aiohttp.ClientSession
) -> None:
    upstream, url = await local_upstream()
    upstream.set_plan(Behaviour("cut_after", tokens=2))
    async with http.post(
        url + "/chat/completions",
        json={"model": "m", "messages": ASKED, "tools": [WEATHER], "stream": True},
    ) as response:
        raw = b""
        try:
            async for piece in response.content.iter_any():
                raw += piece
        except aiohttp.ClientPayloadError:
            pass
    assert b'"tool_calls"' in raw and b'finish_reason":"tool_calls' not in raw
    assert b"[DONE]" not in raw


async def test_bad_tools_are_a_400_naming_tools(
    local_upstream: Start, http: aiohttp.ClientSession
) -> None:
    _, url = await local_upstream()
    for tools in ("get_weather", [{"type": "function"}], [{"type": "retrieval"}]):
        status, body = await post(http, url, messages=ASKED, tools=tools)
        assert status == 400 and body["error"]["param"] == "tools", tools


def test_planned_arguments_follow_the_schema_and_fragments_rejoin() -> None:
    [call] = planned_calls(ASKED, {"tools": [WEATHER]})
    assert json.loads(call.arguments) == {"city": "Weather in Paris?", "days": 1, "unit": "celsius"}
    assert all(len(piece) <= FRAGMENT for piece in call.fragments())
    assert "".join(call.fragments()) == call.arguments
    assert planned_calls([*ASKED, {"role": "tool", "content": "x"}], {"tools": [WEATHER]}) == []
