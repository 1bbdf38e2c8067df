"""OpenAICompatible and tools: sent as given, the model's calls read back as OpenAI sends them."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from chatbridge import (
    FinishReason,
    OpenAICompatible,
    ResponseError,
    ToolCallDelta,
    TruncatedStreamError,
    Usage,
)
from chatbridge._providers._openai_wire import StreamParser, parse_completion, request_body
from chatbridge.upstream import Behaviour, LocalUpstream

Start = Callable[..., Awaitable[tuple[LocalUpstream, str]]]
TOOL = {
    "type": "function",
    "function": {
        "name": "lookup",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
    },
}
ASKED = [{"role": "user", "content": "find moss"}]
ROUND_TRIP = [
    *ASKED,
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "c9", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}
        ],
    },
    {"role": "tool", "tool_call_id": "c9", "content": "moss is green"},
]


async def collect(url: str, messages: Any = ASKED, **options: Any) -> list[Any]:
    stream = OpenAICompatible.create_async_generator("m", messages, base_url=url, **options)
    return [chunk async for chunk in stream]


def test_the_request_carries_tools_and_the_round_trip_as_given() -> None:
    body = json.loads(
        request_body(
            "m",
            ROUND_TRIP,
            True,
            {"tools": [TOOL], "tool_choice": "auto", "parallel_tool_calls": False},
        )
    )
    assert body["tools"] == [TOOL] and body["tool_choice"] == "auto"
    assert body["parallel_tool_calls"] is False
    assert body["messages"] == ROUND_TRIP


async def test_a_streamed_call_comes_back_piece_by_piece(local_upstream: Start) -> None:
    upstream, url = await local_upstream()
    chunks = await collect(url, tools=[TOOL])
    pieces = [c for c in chunks if isinstance(c, ToolCallDelta)]
    assert pieces[0].index == 0 and pieces[0].name == "lookup" and pieces[0].arguments == ""
    assert pieces[0].id is not None and pieces[0].id.startswith("call_")
    assert all(p.id is None and p.name is None and p.index == 0 for p in pieces[1:])
    assert "".join(p.arguments for p in pieces) == '{"q": "find moss"}'
    assert len(pieces) > 2  # the arguments came in fragments, each handed on as it came
    assert FinishReason("tool_calls") in chunks
    assert not [c for c in chunks if isinstance(c, str)]
    assert upstream.stats.recent[-1].options["tools"] == [TOOL]


async def test_a_whole_answer_holds_each_call_in_one_piece(local_upstream: Start) -> None:
    upstream, url = await local_upstream()
    upstream.set_plan(Behaviour("tool_call", tokens=2))
    chunks = await collect(url, tools=[TOOL], stream=False)
    pieces = [c for c in chunks if isinstance(c, ToolCallDelta)]
    assert [(p.index, p.name, p.arguments) for p in pieces] == [
        (0, "lookup", '{"q": "find moss"}'),
        (1, "lookup", '{"q": "find moss"}'),
    ]
    assert chunks[-2:] == [FinishReason("tool_calls"), Usage(3, 8, 11)]  # (its pieces, counted)


async def test_after_the_round_trip_the_answer_is_text(local_upstream: Start) -> None:
    _, url = await local_upstream()
    chunks = await collect(url, ROUND_TRIP, tools=[TOOL])
    assert not [c for c in chunks if isinstance(c, ToolCallDelta)]
    assert "".join(c for c in chunks if isinstance(c, str))
    assert FinishReason("stop") in chunks


async def test_a_cut_inside_a_call_is_a_truncated_stream(local_upstream: Start) -> None:
    upstream, url = await local_upstream()
    upstream.set_plan(Behaviour("cut_after", tokens=2))
    stream = OpenAICompatible.create_async_generator("m", ASKED, base_url=url, tools=[TOOL])
    got = []
    with pytest.raises((TruncatedStreamError, ResponseError)):
        async for chunk in stream:
            got.append(chunk)
    assert got and all(isinstance(c, ToolCallDelta) for c in got)
    assert FinishReason("tool_calls") not in got


def test_malformed_tool_calls_are_a_response_error() -> None:
    parser = StreamParser()
    for bad in (
        {"tool_calls": {"index": 0}},
        {"tool_calls": [{"index": "0", "function": {"arguments": "x"}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": 5}}]},
    ):
        event = json.dumps({"choices": [{"index": 0, "delta": bad}]})
        with pytest.raises(ResponseError):
            parser.feed(event)
    whole = {"choices": [{"message": {"tool_calls": [{"type": "function", "function": {}}]}}]}
    with pytest.raises(ResponseError):
        parse_completion(whole)


def test_a_server_that_sends_arguments_as_an_object_is_read_as_json_text() -> None:
    call = {"id": "c1", "function": {"name": "lookup", "arguments": {"q": "x"}}}
    payload = {"choices": [{"message": {"tool_calls": [call]}, "finish_reason": "tool_calls"}]}
    _, reason, _, calls = parse_completion(payload)
    assert reason == "tool_calls"
    assert calls == [ToolCallDelta(0, "c1", "lookup", '{"q": "x"}')]
