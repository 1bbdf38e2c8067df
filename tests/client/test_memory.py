"""What a long-running client keeps: nothing per call once the call is over (the soak in
``bench/bench_soak.py`` measures a server's memory over 100,000 requests; these are its
findings, counted exactly)."""

from __future__ import annotations

import gc
import json
import tracemalloc

import pytest
from aiohttp import web

from chatbridge import AsyncClient
from chatbridge._client._health import HealthBook
from chatbridge._http._session import StreamSession
from chatbridge.upstream import LocalUpstream

from ..conftest import serve_app
from .wall import QUESTION


def _live(kind: type) -> int:
    gc.collect()
    return sum(1 for thing in gc.get_objects() if isinstance(thing, kind))


async def test_calls_leave_no_session_behind() -> None:
    """Each call's timeout is what is left of its deadline, a new number every time; it once
    chose the provider's shared session, so every call kept one more session (with its
    aiohttp session and headers) for as long as the loop ran: about 1.7 kB per request."""
    async with LocalUpstream() as url:
        client = AsyncClient(
            routes={"r": [{"provider": "OpenAICompatible", "base_url": url, "model": "m"}]},
            health=HealthBook(),
        )
        for _ in range(5):
            await client.chat.completions.create(model="r", messages=QUESTION)
        before = _live(StreamSession)
        for _ in range(60):
            await client.chat.completions.create(model="r", messages=QUESTION)
            stream = client.chat.completions.create(model="r", messages=QUESTION, stream=True)
            async with stream:
                async for _chunk in stream:
                    pass
        after = _live(StreamSession)
    assert before >= 1 and after == before


PIECE = "tokens! "  # 8 characters, as a model's streamed pieces are a few characters each
PIECES = 60_000


async def _many_pieces(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    event = "data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": PIECE}}]})
    batch = (event + "\n\n") * 100
    for _ in range(PIECES // 100):
        await response.write(batch.encode())
    done = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    await response.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())
    return response


@pytest.mark.parametrize("continues", [False, True])
async def test_an_open_stream_keeps_its_text_compactly_and_only_for_a_continuation(
    continues: bool,
) -> None:
    """What an open stream holds grows with the text handed over by about the text itself
    for the provider's ``partial`` (and once more when the route can continue a partial
    answer): the router used to keep every piece's own string object for any route, some
    fifty bytes over a piece of a few characters, about ten times the text."""
    app = web.Application()
    app.router.add_post("/v1/chat/completions", _many_pieces)
    async with serve_app(app) as url:
        target = {"provider": "OpenAICompatible", "base_url": url + "/v1", "model": "m"}
        targets = [target, {**target, "continues_prefill": True}] if continues else [target]
        client = AsyncClient(routes={"r": targets}, health=HealthBook())
        held: dict[int, int] = {}
        handed = 0
        tracemalloc.start()
        try:
            stream = client.chat.completions.create(model="r", messages=QUESTION, stream=True)
            async with stream:
                async for chunk in stream:
                    handed += len(chunk.choices[0].delta.content or "") if chunk.choices else 0
                    if handed in (PIECES * 8 // 4, PIECES * 8 * 3 // 4):
                        held[handed] = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
    (early, first), (late, second) = sorted(held.items())
    growth = (second - first) / (late - early)  # bytes held per character handed over
    assert handed == PIECES * 8
    assert growth < (3.0 if continues else 2.0), growth
