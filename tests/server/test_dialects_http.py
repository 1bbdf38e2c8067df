"""The Responses and Messages doors at the HTTP level: event framing and order, errors before
and after the first byte in each dialect's shape, and the one pipeline's rules (fail-over,
caps, tools, limits, metrics) holding for every door."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from chatbridge import Policy
from chatbridge.upstream import Behaviour, LocalUpstream, expected_answer
from tests.conftest import serve_app as run_app
from tests.server.conftest import ServeApp

USER = [{"role": "user", "content": "Hello there"}]
ANSWER = "".join(expected_answer(USER))
TOOL = {
    "type": "function",
    "name": "lookup",
    "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
}
ANTHROPIC_TOOL = {"name": "lookup", "input_schema": TOOL["parameters"]}


def route(*urls: str, name: str = "fake") -> dict[str, Any]:
    targets = [
        {"provider": "OpenAICompatible", "base_url": u, "model": "m", "name": f"up{i}"}
        for i, u in enumerate(urls)
    ]
    return {name: targets}


def named_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    """``(event, data)`` of each SSE event, checking the framing: one ``event:`` line and one
    ``data:`` line whose ``type`` is the event's name."""
    assert text.endswith("\n\n"), text[-80:]
    events = []
    for block in text.split("\n\n")[:-1]:
        lines = block.split("\n")
        assert len(lines) == 2 and lines[0].startswith("event: "), block
        assert lines[1].startswith("data: "), block
        name, data = lines[0][len("event: ") :], json.loads(lines[1][len("data: ") :])
        assert data["type"] == name, block
        events.append((name, data))
    return events


async def call(url: str, path: str, body: Any, **headers: str) -> tuple[int, dict[str, str], str]:
    async with aiohttp.ClientSession() as session:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        async with session.post(url + path, data=data, headers=headers) as response:
            return response.status, dict(response.headers), await response.text()


def responses_body(**extra: Any) -> dict[str, Any]:
    return {"model": "fake", "input": "Hello there", "stream": True, **extra}


def messages_body(**extra: Any) -> dict[str, Any]:
    return {"model": "fake", "max_tokens": 500, "messages": USER, "stream": True, **extra}


async def test_a_responses_stream_is_openais_event_sequence(serve_app: ServeApp) -> None:
    async with LocalUpstream() as up, serve_app(route(up)) as url:
        status, headers, text = await call(url, "/v1/responses", responses_body())
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
    events = named_events(text)
    names = [name for name, _ in events]
    assert names[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert set(names[4:-4]) == {"response.output_text.delta"}
    assert names[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [data["sequence_number"] for _, data in events] == list(range(len(events)))
    assert "".join(d["delta"] for n, d in events if n == "response.output_text.delta") == ANSWER
    final = events[-1][1]["response"]
    assert final["status"] == "completed" and final["output"][0]["content"][0]["text"] == ANSWER
    assert final["usage"]["output_tokens"] == len(expected_answer(USER))
    assert final["chatbridge"]["route"] == "fake" and final["chatbridge"]["target"] == "up0"


async def test_a_responses_tool_call_streams_its_argument_deltas(serve_app: ServeApp) -> None:
    async with LocalUpstream() as up, serve_app(route(up)) as url:
        _, _, text = await call(url, "/v1/responses", responses_body(tools=[TOOL]))
    events = named_events(text)
    names = [name for name, _ in events]
    assert names[:3] == ["response.created", "response.in_progress", "response.output_item.added"]
    assert events[2][1]["item"]["type"] == "function_call"
    assert events[2][1]["item"]["name"] == "lookup"
    deltas = [d["delta"] for n, d in events if n == "response.function_call_arguments.delta"]
    assert "".join(deltas) == '{"q": "Hello there"}' and len(deltas) > 1
    assert names[-3:] == [
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    item = events[-1][1]["response"]["output"][0]
    assert item["arguments"] == '{"q": "Hello there"}' and item["status"] == "completed"


def repeating_ids_upstream() -> web.Application:
    """An OpenAI-compatible upstream that streams two parallel calls and, as some servers
    do, repeats each call's id (and name) on every piece of it."""

    def piece(index: int, fragment: str) -> bytes:
        call = {"index": index, "id": f"call_{index}", "type": "function",
                "function": {"name": "lookup", "arguments": fragment}}  # fmt: skip
        chunk = {"choices": [{"index": 0, "delta": {"tool_calls": [call]}}]}
        return b"data: " + json.dumps(chunk).encode() + b"\n\n"

    async def chat(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for index, word in ((0, "one"), (1, "two")):
            for fragment in ('{"q": ', f'"{word}"', "}"):
                await response.write(piece(index, fragment))
        finish = {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}
        await response.write(b"data: " + json.dumps(finish).encode() + b"\n\ndata: [DONE]\n\n")
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    return app


async def test_pieces_belong_to_calls_by_index_even_when_the_id_repeats(
    serve_app: ServeApp,
) -> None:
    async with run_app(repeating_ids_upstream()) as up, serve_app(route(up + "/v1")) as url:
        _, _, responses = await call(url, "/v1/responses", responses_body(tools=[TOOL]))
        _, _, messages = await call(url, "/v1/messages", messages_body(tools=[ANTHROPIC_TOOL]))
    output = named_events(responses)[-1][1]["response"]["output"]
    assert [(item["call_id"], json.loads(item["arguments"])) for item in output] == [
        ("call_0", {"q": "one"}),
        ("call_1", {"q": "two"}),
    ]
    events = named_events(messages)
    blocks = [d["content_block"] for n, d in events if n == "content_block_start"]
    assert [b["id"] for b in blocks] == ["call_0", "call_1"]
    parts: dict[int, str] = {}
    for name, data in events:
        if name == "content_block_delta":
            parts[data["index"]] = parts.get(data["index"], "") + data["delta"]["partial_json"]
    assert {i: json.loads(t) for i, t in parts.items()} == {0: {"q": "one"}, 1: {"q": "two"}}
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"


async def test_a_messages_stream_is_anthropics_event_sequence(serve_app: ServeApp) -> None:
    async with LocalUpstream() as up, serve_app(route(up)) as url:
        status, _, text = await call(
            url, "/v1/messages", messages_body(), **{"anthropic-version": "2023-06-01"}
        )
        _, _, tools = await call(url, "/v1/messages", messages_body(tools=[ANTHROPIC_TOOL]))
    assert status == 200
    events = named_events(text)
    names = [name for name, _ in events]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert set(names[3:-3]) == {"content_block_delta"}
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    text_deltas = [d["delta"]["text"] for n, d in events if n == "content_block_delta"]
    assert "".join(text_deltas) == ANSWER
    assert events[-2][1]["delta"]["stop_reason"] == "end_turn"
    assert events[-2][1]["usage"]["output_tokens"] == len(expected_answer(USER))
    events = named_events(tools)
    start = events[1][1]["content_block"]
    assert start["type"] == "tool_use" and start["name"] == "lookup" and start["input"] == {}
    json_deltas = [d["delta"] for n, d in events if n == "content_block_delta"]
    assert {d["type"] for d in json_deltas} == {"input_json_delta"}
    assert json.loads("".join(d["partial_json"] for d in json_deltas)) == {"q": "Hello there"}
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"


@pytest.mark.parametrize("door", ["responses", "messages"])
async def test_before_the_first_text_the_route_fails_over_invisibly(
    serve_app: ServeApp, door: str
) -> None:
    bad, good = LocalUpstream(), LocalUpstream()
    bad.set_plan(Behaviour("status", status=500))
    policy = Policy(retry_backoff=0.01)
    async with (
        bad as bad_url,
        good as good_url,
        serve_app(route(bad_url, good_url), policy=policy) as url,
    ):
        body = responses_body() if door == "responses" else messages_body()
        status, _, text = await call(url, f"/v1/{door}", body)
    assert status == 200
    events = named_events(text)
    assert "error" not in [n for n, _ in events] and "response.failed" not in [n for n, _ in events]
    last = events[-1][1]
    info = last["response"]["chatbridge"] if door == "responses" else last_delta(events)
    assert info["target"] == "up1"
    assert [a["outcome"] for a in info["attempts"]] == ["failed", "failed", "answered"]


def last_delta(events: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    return next(d for n, d in reversed(events) if n == "message_delta")["chatbridge"]


@pytest.mark.parametrize(
    "fault", [Behaviour("cut_after", tokens=5), Behaviour("error_after", tokens=5)]
)
async def test_a_failure_after_the_first_event_ends_responses_with_response_failed(
    serve_app: ServeApp, fault: Behaviour
) -> None:
    upstream = LocalUpstream()
    upstream.set_plan(fault)
    async with upstream as up, serve_app(route(up)) as url:
        status, _, text = await call(url, "/v1/responses", responses_body())
        async with aiohttp.ClientSession() as session, session.get(url + "/metrics") as got:
            metrics = await got.text()
    assert status == 200
    events = named_events(text)
    names = [name for name, _ in events]
    assert names[-1] == "response.failed" and names.count("response.failed") == 1
    assert "response.completed" not in names
    failed = events[-1][1]["response"]
    assert failed["status"] == "failed" and failed["error"]["code"] and failed["error"]["message"]
    sent = "".join(d["delta"] for n, d in events if n == "response.output_text.delta")
    assert sent == "".join(expected_answer(USER)[:5])
    assert "chatbridge_stream_errors_total{code=" in metrics and 'endpoint="responses"' in metrics


async def test_a_failure_after_message_start_is_one_error_event(serve_app: ServeApp) -> None:
    upstream = LocalUpstream()
    upstream.set_plan(Behaviour("cut_after", tokens=3))
    async with upstream as up, serve_app(route(up)) as url:
        status, _, text = await call(url, "/v1/messages", messages_body())
    assert status == 200
    events = named_events(text)
    names = [name for name, _ in events]
    assert names[0] == "message_start" and names[-1] == "error" and names.count("error") == 1
    assert "message_stop" not in names and "message_delta" not in names
    error = events[-1][1]
    assert set(error) == {"type", "error"} and error["error"]["type"] == "api_error"
    assert error["error"]["message"]


async def test_errors_before_the_first_byte_are_in_each_dialects_shape(serve_app: ServeApp) -> None:
    async with (
        LocalUpstream() as up,
        serve_app(route(up), api_keys=("k1",), max_body_bytes=4096) as url,
    ):
        key = {"x-api-key": "k1"}
        cases = [
            ("/v1/messages", b"{not json", key, 400, "invalid_request_error"),
            ("/v1/messages", messages_body(model="nope"), key, 404, "not_found_error"),
            ("/v1/messages", messages_body(), {"x-api-key": "wrong"}, 401, "authentication_error"),
            ("/v1/messages", messages_body(max_tokens=None), key, 400, "invalid_request_error"),
            ("/v1/messages", b"x" * 5000, key, 413, "request_too_large"),
        ]
        for path, body, headers, status, kind in cases:
            got, _, text = await call(url, path, body, **headers)
            error = json.loads(text)
            assert got == status and error["type"] == "error", (path, text)
            assert error["error"]["type"] == kind and error["error"]["message"], text
        bearer = {"Authorization": "Bearer k1"}
        got, _, text = await call(url, "/v1/responses", responses_body(model="nope"), **bearer)
        assert got == 404 and json.loads(text)["error"]["code"] == "model_not_found"
        got, _, text = await call(url, "/v1/responses", {"model": "fake"}, **bearer)
        assert got == 400 and json.loads(text)["error"]["param"] == "input"
        got, _, text = await call(url, "/v1/responses", responses_body(), Authorization="Bearer x")
        assert got == 401 and json.loads(text)["error"]["code"] == "invalid_api_key"


async def test_the_caps_and_limits_hold_at_every_door(serve_app: ServeApp) -> None:
    async with (
        LocalUpstream() as up,
        serve_app(route(up), max_messages=2, max_message_chars=50, requests_per_minute=1) as url,
    ):
        long = "x" * 60
        many = [{"role": "user", "content": "a"}] * 3
        cases = [
            ("/v1/responses", responses_body(input=long), "message_too_long"),
            ("/v1/responses", responses_body(input=many), "too_many_messages"),
            ("/v1/messages", messages_body(messages=[{"role": "user", "content": long}]), None),
            ("/v1/messages", messages_body(messages=many), None),
        ]
        for path, body, code in cases:
            status, _, text = await call(url, path, body)
            assert status == 400, text
            if code:
                assert json.loads(text)["error"]["code"] == code
        status, headers, text = await call(url, "/v1/messages", messages_body())
        assert status == 200
        status, headers, text = await call(url, "/v1/messages", messages_body())
        assert (
            status == 429
            and headers["Retry-After"]
            and json.loads(text)["error"]["type"] == "rate_limit_error"
        )


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/responses", "/v1/messages"])
async def test_a_request_with_tools_is_refused_by_a_route_that_cannot_call_them(
    serve_app: ServeApp, site_url: str, path: str
) -> None:
    routes = {"site": [{"provider": "AIPower", "site_url": site_url}]}
    chat = {"type": "function", "function": {"name": "lookup", "parameters": TOOL["parameters"]}}
    bodies = {
        "/v1/chat/completions": {"model": "site", "messages": USER, "tools": [chat]},
        "/v1/responses": responses_body(model="site", tools=[TOOL]),
        "/v1/messages": messages_body(model="site", tools=[ANTHROPIC_TOOL]),
    }
    async with serve_app(routes) as url:
        status, _, text = await call(url, path, bodies[path])
    assert status == 400, text
    error = json.loads(text)
    if path == "/v1/messages":
        assert (
            error["error"]["type"] == "invalid_request_error"
            and "'site'" in error["error"]["message"]
        )
    else:
        assert (
            error["error"]["param"] == "tools" and error["error"]["code"] == "tools_not_supported"
        )
        assert "'site'" in error["error"]["message"]
        assert error["error"]["chatbridge"]["attempts"][0]["message"] == "cannot call tools"


async def test_a_request_with_tools_skips_a_site_and_records_why_at_every_door(
    serve_app: ServeApp, site_url: str
) -> None:
    """A route whose first target is a site and whose second can call tools: the site is
    skipped, the attempt says why, and the second answers with its call."""
    chat = {"type": "function", "function": {"name": "lookup", "parameters": TOOL["parameters"]}}
    bodies = {
        "/v1/chat/completions": {"model": "mixed", "messages": USER, "tools": [chat]},
        "/v1/responses": responses_body(model="mixed", stream=False, tools=[TOOL]),
        "/v1/messages": messages_body(model="mixed", stream=False, tools=[ANTHROPIC_TOOL]),
    }
    async with LocalUpstream() as up:
        site = {"provider": "AIPower", "site_url": site_url, "name": "the-site"}
        routes = {"mixed": [site, route(up)["fake"][0]]}
        async with serve_app(routes) as url:
            replies = {path: await call(url, path, body) for path, body in bodies.items()}
    for path, (status, _, text) in replies.items():
        assert status == 200, (path, text)
        tries = json.loads(text)["chatbridge"]["attempts"]
        attempts = [(a["target"], a["outcome"], a["message"]) for a in tries]
        assert attempts == [("the-site", "skipped", "cannot call tools"), ("up0", "answered", None)]
    chat_reply = json.loads(replies["/v1/chat/completions"][2])
    assert chat_reply["choices"][0]["finish_reason"] == "tool_calls"
    assert json.loads(replies["/v1/responses"][2])["output"][0]["type"] == "function_call"
    assert json.loads(replies["/v1/messages"][2])["stop_reason"] == "tool_use"


async def test_metrics_and_models_name_the_doors_and_the_tool_takers(
    serve_app: ServeApp, site_url: str
) -> None:
    routes = {
        **route("http://127.0.0.1:9/v1"),
        "site": [{"provider": "AIPower", "site_url": site_url}],
    }
    async with LocalUpstream() as up, serve_app({**routes, **route(up, name="live")}) as url:
        for path, body in (
            ("/v1/chat/completions", {"model": "live", "messages": USER}),
            ("/v1/responses", responses_body(model="live", stream=False)),
            ("/v1/messages", messages_body(model="live", stream=False)),
        ):
            assert (await call(url, path, body))[0] == 200
        async with aiohttp.ClientSession() as session:
            async with session.get(url + "/metrics") as got:
                metrics = await got.text()
            async with session.get(url + "/v1/models") as got:
                models = {m["id"]: m["chatbridge"] for m in (await got.json())["data"]}
            async with session.head(url + "/") as got:
                assert got.status == 200
    for endpoint in ("chat_completions", "responses", "messages"):
        assert (
            f'chatbridge_requests_total{{endpoint="{endpoint}",route="live",status="200"}} 1.0'
            in metrics
        )
    assert models["site"]["tools"] is False and models["site"]["targets"][0]["tools"] == "none"
    assert models["live"]["tools"] is True and models["live"]["targets"][0]["tools"] == "native"


async def test_unknown_fields_are_accepted_and_ignored(serve_app: ServeApp) -> None:
    async with LocalUpstream() as up, serve_app(route(up)) as url:
        body = responses_body(
            stream=False, reasoning={"summary": "auto"}, include=["x"], prompt_cache_key="k",
            tools=[TOOL, {"type": "web_search"}], text={"format": {"type": "text"}},
        )  # fmt: skip
        status, _, text = await call(url, "/v1/responses", body)
        assert status == 200, text
        assert json.loads(text)["chatbridge"]["ignored_tools"] == ["web_search"]
        server_tool = {"type": "web_search_20250305", "name": "web_search"}
        body = messages_body(
            stream=False, thinking={"type": "adaptive"}, metadata={"user_id": "u"},
            context_management={}, tools=[ANTHROPIC_TOOL, server_tool],
        )  # fmt: skip
        status, _, text = await call(url, "/v1/messages?beta=true", body, **{"anthropic-beta": "x"})
        assert status == 200, text
        assert json.loads(text)["chatbridge"]["ignored_tools"] == ["web_search_20250305"]
