"""Tool calls through the client: typed back, streamed as OpenAI streams them, never given to
a target that cannot call them, never continued when cut, and emulated where a target asks."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from chatbridge import (
    AsyncClient,
    ChatCompletionChunk,
    Client,
    ConfigError,
    InvalidRequestError,
    Policy,
    ToolsNotSupportedError,
    TruncatedStreamError,
)
from chatbridge._client._health import HealthBook
from chatbridge.site import LocalSite
from chatbridge.upstream import Behaviour, LocalUpstream

from ..conftest import in_thread

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
ASKED = [{"role": "user", "content": "Paris"}]


def openai(url: str, **extra: Any) -> dict[str, Any]:
    return {"provider": "OpenAICompatible", "base_url": url, "model": "m", **extra}


def client_for(*targets: dict[str, Any]) -> AsyncClient:
    policy = Policy()
    return AsyncClient(routes={"r": list(targets)}, policy=policy, health=HealthBook(policy))


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[LocalUpstream, str]]:
    server = LocalUpstream()
    async with server as url:
        yield server, url


async def chunks_of(stream: Any) -> list[ChatCompletionChunk]:
    async with stream:
        return [chunk async for chunk in stream]


async def test_a_whole_answer_holds_typed_tool_calls(upstream: tuple[LocalUpstream, str]) -> None:
    _, url = upstream
    answer = await client_for(openai(url)).chat.completions.create(
        model="r", messages=ASKED, tools=[WEATHER], tool_choice="auto"
    )
    choice = answer.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    [call] = choice.message.tool_calls or []
    assert call.type == "function" and call.id.startswith("call_")
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    dumped = json.loads(answer.model_dump_json())["choices"][0]["message"]
    assert dumped["tool_calls"][0]["function"]["name"] == "get_weather"


async def test_a_stream_hands_over_each_piece_as_openai_sends_it(
    upstream: tuple[LocalUpstream, str],
) -> None:
    _, url = upstream
    chunks = await chunks_of(
        client_for(openai(url)).chat.completions.create(
            model="r", messages=ASKED, tools=[WEATHER], stream=True
        )
    )
    deltas = [c.choices[0].delta for c in chunks]
    first = deltas[0]
    assert first.role == "assistant" and first.content is None
    assert first.tool_calls is not None and first.tool_calls[0].id is not None
    assert first.tool_calls[0].function is not None
    assert first.tool_calls[0].function.name == "get_weather"
    assert chunks[0].chatbridge is not None  # who started answering, on the first chunk
    pieces = [d.tool_calls[0] for d in deltas[1:-1] if d.tool_calls]
    assert len(pieces) == len(deltas) - 2 and all(p.id is None for p in pieces)
    assert "".join(p.function.arguments or "" for p in pieces if p.function) == '{"city": "Paris"}'
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    raw = json.loads(chunks[1].model_dump_json())["choices"][0]["delta"]
    assert raw == {"tool_calls": [{"index": 0, "function": {"arguments": '{"city":'}}]}


async def test_the_round_trip_goes_through_and_the_answer_is_text(
    upstream: tuple[LocalUpstream, str],
) -> None:
    server, url = upstream
    client = client_for(openai(url))
    first = await client.chat.completions.create(model="r", messages=ASKED, tools=[WEATHER])
    call = (first.choices[0].message.tool_calls or [])[0]
    messages = [
        *ASKED,
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": "Sunny"},
    ]
    answer = await client.chat.completions.create(model="r", messages=messages, tools=[WEATHER])
    assert answer.choices[0].finish_reason == "stop" and answer.choices[0].message.content
    assert server.stats.recent[-1].roles == ["user", "assistant", "tool"]


async def test_a_target_that_cannot_call_tools_is_skipped_with_the_reason(
    upstream: tuple[LocalUpstream, str],
) -> None:
    _, url = upstream
    async with LocalSite() as site:
        client = client_for({"provider": "AIPower", "site_url": site}, openai(url))
        answer = await client.chat.completions.create(model="r", messages=ASKED, tools=[WEATHER])
        assert answer.choices[0].message.tool_calls
        info = answer.chatbridge
        assert info is not None
        assert [(a.provider, a.outcome, a.message) for a in info.attempts] == [
            ("AIPower", "skipped", "cannot call tools"),
            ("OpenAICompatible", "answered", None),
        ]
        # Without tools the same route answers from the site, as before.
        plain = await client.chat.completions.create(model="r", messages=ASKED)
        assert plain.chatbridge is not None and plain.chatbridge.provider == "AIPower"


async def test_fail_over_moves_only_between_targets_that_can_call_tools(
    upstream: tuple[LocalUpstream, str],
) -> None:
    _, url = upstream
    async with LocalSite() as site:
        client = client_for(
            openai("http://127.0.0.1:9/v1", name="dead"),
            {"provider": "AIPower", "site_url": site, "name": "site"},
            openai(url, name="alive"),
        )
        answer = await client.chat.completions.create(model="r", messages=ASKED, tools=[WEATHER])
        assert answer.chatbridge is not None
        outcomes = [(a.target, a.outcome) for a in answer.chatbridge.attempts]
        assert ("site", "skipped") in outcomes and ("alive", "answered") in outcomes
        assert ("dead", "failed") in outcomes
        assert "site" not in [t for t, o in outcomes if o != "skipped"]


async def test_no_target_that_can_call_tools_is_a_typed_400_naming_the_route() -> None:
    async with LocalSite() as site:
        client = client_for({"provider": "AIPower", "site_url": site})
        for messages, options in (
            (ASKED, {"tools": [WEATHER]}),
            ([*ASKED, {"role": "tool", "tool_call_id": "c", "content": "x"}], {}),
        ):
            with pytest.raises(ToolsNotSupportedError) as refused:
                await client.chat.completions.create(model="r", messages=messages, **options)
            assert isinstance(refused.value, InvalidRequestError)
            assert refused.value.param == "tools" and "'r'" in refused.value.message
            assert [a.outcome for a in refused.value.attempts] == ["skipped"]
        with pytest.raises(ToolsNotSupportedError):  # a stream too, before any chunk
            await chunks_of(
                client.chat.completions.create(
                    model="r", messages=ASKED, tools=[WEATHER], stream=True
                )
            )


async def test_malformed_tools_are_the_callers_error(upstream: tuple[LocalUpstream, str]) -> None:
    _, url = upstream
    client = client_for(openai(url))
    for tools in ("x", [{"type": "function"}], [{"type": "function", "function": {"name": 3}}]):
        with pytest.raises(InvalidRequestError) as bad:
            await client.chat.completions.create(model="r", messages=ASKED, tools=tools)
        assert (bad.value.param or "").startswith("tools"), tools


async def test_a_stream_cut_inside_a_call_is_never_continued(
    upstream: tuple[LocalUpstream, str],
) -> None:
    """A piece of a call was handed over: no target can continue a call's arguments, so the
    stream ends with TruncatedStreamError, and the continuation target is not asked."""
    server, url = upstream
    async with LocalUpstream() as spare_url:
        client = client_for(
            openai(url, name="cut"), openai(spare_url, name="spare", continues_prefill=True)
        )
        server.set_plan(Behaviour("cut_after", tokens=2))
        got: list[ChatCompletionChunk] = []
        stream = client.chat.completions.create(
            model="r", messages=ASKED, tools=[WEATHER], stream=True
        )
        with pytest.raises(TruncatedStreamError) as cut:
            async with stream:
                async for chunk in stream:
                    got.append(chunk)
        assert got and got[0].choices[0].delta.tool_calls
        assert all(c.choices[0].finish_reason is None for c in got)
        outcomes = [(a.target, a.outcome, a.message) for a in cut.value.attempts]
        assert ("spare", "skipped", "cannot continue a partial tool call") in outcomes
        # Not streamed, the same cut fails over invisibly.
        server.set_plan(Behaviour("cut_after", tokens=2))
        whole = await client.chat.completions.create(model="r", messages=ASKED, tools=[WEATHER])
        assert whole.chatbridge is not None and whole.chatbridge.target == "spare"
        assert whole.choices[0].message.tool_calls


def test_the_sync_client_returns_tool_calls(upstream_url: str) -> None:
    with Client(routes={"r": [openai(upstream_url)]}) as client:
        answer = client.chat.completions.create(model="r", messages=ASKED, tools=[WEATHER])
        assert (answer.choices[0].message.tool_calls or [])[0].function.name == "get_weather"
        pieces = [
            c.choices[0].delta.tool_calls
            for c in client.chat.completions.create(
                model="r", messages=ASKED, tools=[WEATHER], stream=True
            )
        ]
        assert pieces[0] and pieces[-1] is None


def test_a_tool_mode_is_checked_when_routes_are_read() -> None:
    site = {"provider": "AIPower", "site_url": "https://site.example"}
    with pytest.raises(ConfigError, match="cannot send tools upstream"):
        AsyncClient(routes={"r": [{**site, "tools": "native"}]})
    with pytest.raises(ConfigError, match="native, emulate, none"):
        AsyncClient(routes={"r": [{**site, "tools": "sometimes"}]})
    client = AsyncClient(
        routes={"r": [{**site, "tools": "emulate"}, openai("http://h/v1", tools="none")]}
    )
    modes = [t.tool_mode for t in client.routes["r"].targets]
    assert modes == ["emulate", "none"]
    assert AsyncClient(routes={"r": [site]}).routes["r"].targets[0].tool_mode == "none"



@pytest.fixture
def upstream_url() -> Iterator[str]:
    """The fake upstream in a thread of its own (the synchronous client runs its own loop)."""
    with in_thread(LocalUpstream()) as url:
        yield url


async def test_a_tool_of_another_kind_goes_on_as_given_and_is_never_emulated(
    upstream: tuple[LocalUpstream, str],
) -> None:
    server, url = upstream
    custom = {"type": "custom", "custom": {"name": "apply_patch"}}
    await client_for(openai(url)).chat.completions.create(
        model="r", messages=ASKED, tools=[custom, WEATHER]
    )
    assert server.stats.recent[-1].options["tools"] == [custom, WEATHER]
    async with LocalSite() as site:
        emulating = client_for({"provider": "AIPower", "site_url": site, "tools": "emulate"})
        with pytest.raises(InvalidRequestError, match="custom cannot be emulated"):
            await emulating.chat.completions.create(model="r", messages=ASKED, tools=[custom])
