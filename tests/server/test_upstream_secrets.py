"""A real ``chatbridge serve`` over the fake OpenAI-compatible upstream whose API key is a
short, common piece of text: masking the key out of an upstream error must not change what
the error means (``context_length_exceeded`` still fails over), and the key never shows."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiohttp

from chatbridge.upstream import Behaviour, LocalUpstream, UpstreamConfig
from tests.server.conftest import USER, Served, post


def _target(url: str, name: str, key: str | None = None) -> str:
    secret = f'api_key = "{key}", ' if key else ""
    return (
        f'{{ provider = "OpenAICompatible", base_url = "{url}", model = "fake-model", '
        f'{secret}name = "{name}" }}'
    )


def _route(name: str, *targets: str) -> str:
    return f"[routes.{name}]\ntargets = [{', '.join(targets)}]\n"


async def test_a_short_key_does_not_stop_context_length_fail_over(
    spawn_server: Callable[..., Served],
) -> None:
    short = LocalUpstream(UpstreamConfig(api_key="x"))
    short.set_plan(Behaviour("context_length"))
    other = LocalUpstream()
    async with short as short_url, other as other_url:
        short_target = _target(short_url, "short-context", key="x")
        config = _route("long", short_target, _target(other_url, "long-context"))
        served = await asyncio.to_thread(spawn_server, config=config)
        async with aiohttp.ClientSession() as session:
            for stream in (False, True):
                body = {"model": "long", "messages": USER, "stream": stream}
                status, _, reply = await post(session, served.url, body)
                assert status == 200, reply  # the old code stopped with a 400 here
                if not stream:
                    assert reply["chatbridge"]["target"] == "long-context"
                    outcomes = [a["outcome"] for a in reply["chatbridge"]["attempts"]]
                    assert outcomes == ["failed", "answered"], reply["chatbridge"]
        assert short.stats.requests == 2 and other.stats.requests == 2
        # Only the short-context target left: the caller's 400 keeps the upstream's code,
        # and the message is shown with the key masked.
        short.set_plan(Behaviour("context_length", message="maximum context exceeded (x)"))
        single = await asyncio.to_thread(spawn_server, config=_route("one", short_target))
        async with aiohttp.ClientSession() as session:
            status, _, reply = await post(session, single.url, {"model": "one", "messages": USER})
        assert status == 400, reply
        error = reply["error"]
        assert error["code"] == "context_length_exceeded", error
        assert "(***)" in error["message"] and "(x)" not in error["message"], error
        assert single.stop() == 0 and served.stop() == 0
