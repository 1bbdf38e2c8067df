"""The pipeline's lifecycle rules at the new doors: a client that leaves cancels the upstream
call, and SIGTERM ends a stream in flight with one in-band error in the door's own shape."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import aiohttp
import pytest

from chatbridge.upstream import Behaviour, LocalUpstream
from tests.server.conftest import ServeApp, Served, stalling_server
from tests.server.test_dialects_http import messages_body, named_events, responses_body, route

Spawn = Callable[..., Served]
BODIES = {"/v1/responses": responses_body, "/v1/messages": messages_body}


async def until(condition: Callable[[], bool], seconds: float) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "not within the time allowed"
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("path", sorted(BODIES))
@pytest.mark.parametrize("stream", [False, True])
async def test_a_client_that_leaves_cancels_the_upstream_call(
    serve_app: ServeApp, path: str, stream: bool
) -> None:
    upstream = LocalUpstream()
    upstream.set_plan(Behaviour("stall_after", tokens=3, seconds=30))
    async with upstream as base, serve_app(route(base)) as url:
        async with aiohttp.ClientSession() as session:

            async def ask() -> None:
                body = BODIES[path](stream=stream)
                async with session.post(url + path, json=body) as response:
                    await response.read()

            call = asyncio.create_task(ask())
            await until(lambda: upstream.stats.active > 0, 5)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            await until(lambda: upstream.stats.disconnected == 1, 2.0)
        assert upstream.stats.active == 0


@pytest.mark.parametrize("path", sorted(BODIES))
async def test_shutdown_ends_a_stream_with_one_error_in_the_doors_shape(
    spawn_server: Spawn, path: str
) -> None:
    async with stalling_server(spawn_server, "fake") as (served, upstream):
        text = b""
        stopped = False
        async with aiohttp.ClientSession() as session:
            async with session.post(served.url + path, json=BODIES[path]()) as response:
                assert response.status == 200
                async for piece in response.content.iter_any():
                    text += piece
                    if text.count(b'"delta"') >= 3 and not stopped:
                        served.process.terminate()  # the upstream is stalled: shut down
                        stopped = True
        assert await asyncio.to_thread(served.process.wait, 10) == 0
        assert upstream.stats.disconnected == 1 and upstream.stats.active == 0
    events = named_events(text.decode())
    name, last = events[-1]
    if path == "/v1/messages":
        assert name == "error" and last["error"]["type"] == "overloaded_error"
        assert last["error"]["message"] == "the server is shutting down"
    else:
        assert name == "response.failed"
        assert last["response"]["error"]["code"] == "server_shutdown"
    assert [n for n, _ in events].count(name) == 1
    assert not {"message_stop", "response.completed"} & {n for n, _ in events}
    assert json.dumps(last)  # whole JSON, not a cut event
