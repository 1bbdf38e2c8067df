"""Load and faults through a real ``chatbridge serve``: a full connection pool is a queue
inside the call's deadline, never a dead site (issue 17, item 8); a route with nothing that
can answer says so at once (item 9)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from chatbridge.upstream import LocalUpstream, UpstreamConfig, expected_answer
from tests.server.conftest import USER, Spawn

ANSWER = "".join(expected_answer(USER))


def _config(primary: str, fallback: str, policy: str, **primary_options: Any) -> str:
    extra = "".join(f", {key} = {json.dumps(value)}" for key, value in primary_options.items())
    return (
        "[routes.r]\ntargets = [\n"
        f'  {{ provider = "OpenAICompatible", base_url = "{primary}", model = "fake-model",'
        f' name = "primary"{extra} }},\n'
        f'  {{ provider = "OpenAICompatible", base_url = "{fallback}", model = "fake-model",'
        ' name = "fallback" },\n]\n'
        f"[policy]\n{policy}\n"
    )


async def _stream(session: aiohttp.ClientSession, url: str) -> tuple[str, list[dict[str, Any]]]:
    """One streamed answer: its text and the final chunk's attempts."""
    body = {"model": "r", "messages": USER, "stream": True}
    text, attempts = "", []
    async with session.post(url + "/v1/chat/completions", json=body) as response:
        assert response.status == 200, await response.text()
        async for line in response.content:
            if not line.startswith(b"data: {"):
                continue
            chunk = json.loads(line[6:])
            assert "error" not in chunk, chunk
            if chunk["choices"]:
                text += chunk["choices"][0]["delta"].get("content") or ""
            if chunk.get("chatbridge") and chunk["choices"][0].get("finish_reason"):
                attempts = chunk["chatbridge"]["attempts"]
    return text, attempts


async def _many(url: str, count: int) -> list[tuple[str, list[dict[str, Any]]]]:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        return await asyncio.gather(*(_stream(session, url) for _ in range(count)))


async def _breaker(url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        async with session.get(url + "/health/ready") as response:
            body: dict[str, Any] = await response.json()
    return body["routes"]["r"]["primary"]


async def test_more_streams_than_the_old_pool_held_are_all_answered(spawn_server: Spawn) -> None:
    """40 streams at once to one OpenAI-compatible host, each longer than the time-to-first-
    token limit: an API takes many connections, so none waits. (With a pool of 32 per host,
    the 33rd waited for a slot until the limit said "too slow": 8 failed over and counted
    against a target that never saw them.)"""
    primary = LocalUpstream(UpstreamConfig(token_delay=0.05))
    fallback = LocalUpstream()
    async with primary as a, fallback as b:
        config = _config(a, b, "first_token_timeout = 1.5")
        served = await asyncio.to_thread(spawn_server, "--no-ui", config=config)
        answers = await _many(served.url, 40)
        breaker = await _breaker(served.url)
    assert [text for text, _ in answers] == [ANSWER] * 40
    assert fallback.stats.requests == 0 and primary.stats.most_active == 40
    assert all([a["outcome"] for a in attempts] == ["answered"] for _, attempts in answers)
    assert breaker["state"] == "closed" and breaker.get("failures", 0) == 0, breaker
    assert served.stop() == 0


async def test_a_full_pool_is_a_queue_not_a_dead_site(spawn_server: Spawn) -> None:
    """A target that allows two connections: the other four streams queue for them. The
    queue is inside each call's own deadline: no "too slow" fail-over, no breaker step."""
    primary = LocalUpstream(UpstreamConfig(token_delay=0.02))
    fallback = LocalUpstream()
    async with primary as a, fallback as b:
        config = _config(a, b, "first_token_timeout = 0.3", connections_per_host=2)
        served = await asyncio.to_thread(spawn_server, "--no-ui", config=config)
        answers = await _many(served.url, 6)
        breaker = await _breaker(served.url)
    assert [text for text, _ in answers] == [ANSWER] * 6
    assert primary.stats.requests == 6 and primary.stats.most_active == 2
    assert fallback.stats.requests == 0
    assert all([a["outcome"] for a in attempts] == ["answered"] for _, attempts in answers)
    assert breaker["state"] == "closed" and breaker.get("failures", 0) == 0, breaker
    assert served.stop() == 0


async def test_a_route_whose_every_target_rests_is_a_503_at_once(spawn_server: Spawn) -> None:
    """Both targets' breakers open for 20 s: the next request, plain or streamed, is a 503
    with Retry-After at once (it used to wait for a breaker to reopen, then probe it, and
    come back a 502 20 s later)."""
    config = (
        "[routes.r]\ntargets = [\n"
        '  { provider = "OpenAICompatible", base_url = "http://127.0.0.1:9/v1", model = "m",'
        ' name = "gone" },\n'
        '  { provider = "OpenAICompatible", base_url = "http://127.0.0.1:9/v2", model = "m",'
        ' name = "also-gone" },\n]\n'
        "[policy]\nfailure_threshold = 1\ncooldown = 20\ncooldown_max = 20\n"
    )
    served = await asyncio.to_thread(spawn_server, "--no-ui", config=config)
    async with aiohttp.ClientSession() as session:
        first = {"model": "r", "messages": USER}
        async with session.post(served.url + "/v1/chat/completions", json=first) as response:
            assert response.status == 502, await response.text()
        for stream in (False, True):
            body = {"model": "r", "messages": USER, "stream": stream}
            async with session.post(served.url + "/v1/chat/completions", json=body) as response:
                reply = await response.json()
                assert response.status == 503, reply
                wait = int(response.headers["Retry-After"])
        error = reply["error"]
        assert error["code"] == "upstream_unavailable" and 15 <= wait <= 20
        assert "can answer now, every one is resting" in error["message"]
        assert "gone: circuit breaker open" in error["message"]
        assert "also-gone: circuit breaker open" in error["message"]
        outcomes = [(a["target"], a["outcome"]) for a in error["chatbridge"]["attempts"]]
        assert outcomes == [("gone", "skipped"), ("also-gone", "skipped")]
    assert served.stop() == 0


async def test_every_door_says_a_resting_route_at_once_in_its_own_shape(
    spawn_server: Spawn,
) -> None:
    """The Responses and Messages doors give the same immediate 503 and Retry-After as chat
    when every target of the route rests, each in its own dialect's error shape, plain and
    streamed."""
    config = (
        "[routes.r]\ntargets = [\n"
        '  { provider = "OpenAICompatible", base_url = "http://127.0.0.1:9/v1", model = "m",'
        ' name = "gone" },\n]\n'
        "[policy]\nfailure_threshold = 1\ncooldown = 20\ncooldown_max = 20\n"
    )
    served = await asyncio.to_thread(spawn_server, "--no-ui", config=config)
    doors = {
        "/v1/responses": {"model": "r", "input": "Hello"},
        "/v1/messages": {"model": "r", "max_tokens": 100, "messages": USER},
    }
    async with aiohttp.ClientSession() as session:
        async with session.post(served.url + "/v1/responses", json=doors["/v1/responses"]) as r:
            assert r.status == 502, await r.text()  # the breaker opens
        for path, body in doors.items():
            for stream in (False, True):
                async with session.post(
                    served.url + path, json={**body, "stream": stream}
                ) as response:
                    reply = await response.json()
                    assert response.status == 503, reply
                    assert 15 <= int(response.headers["Retry-After"]) <= 20
                    assert response.content_type == "application/json"
                if path == "/v1/messages":  # Anthropic's shape and type
                    assert reply["type"] == "error", reply
                    assert reply["error"]["type"] == "overloaded_error"
                else:
                    assert reply["error"]["code"] == "upstream_unavailable", reply
                assert "gone: circuit breaker open" in reply["error"]["message"]
    assert served.stop() == 0
