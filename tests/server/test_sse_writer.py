"""The SSE writer: events ready at once go out in one write, in order, with backpressure."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiohttp import web

from chatbridge.server._sse import LIMIT, EventWriter

from ..conftest import serve_app


async def _body_of(handler: Any) -> str:
    """The body ``handler`` streams to a real client."""
    app = web.Application()
    app.router.add_get("/", handler)
    CountingResponse.writes = 0
    async with serve_app(app) as url, aiohttp.ClientSession() as session:
        async with session.get(url + "/") as reply:
            return await reply.text()


class CountingResponse(web.StreamResponse):
    """A real response that counts its writes."""

    writes = 0

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        type(self).writes += 1
        await super().write(data)


async def test_a_burst_is_gathered_and_order_is_kept() -> None:
    """A burst's first event goes out at once (nothing came just before it); the rest,
    ready before the handler waits, go out together in one write."""
    async def handler(request: web.Request) -> web.StreamResponse:
        response = CountingResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        writer = EventWriter(response)
        for index in range(100):  # ready all at once: nothing waits between them
            await writer.put(f"data: {index}\n\n".encode())
        await asyncio.sleep(0.01)  # the handler waits: the burst goes out
        for index in range(100, 110):
            await writer.put(f"data: {index}\n\n".encode())
        await writer.close()
        return response

    body = await _body_of(handler)
    assert body == "".join(f"data: {index}\n\n" for index in range(110))
    assert CountingResponse.writes == 4  # two bursts: each its first event, then the rest


async def test_an_event_that_comes_alone_is_written_at_once() -> None:
    """Paced events (a model's chunks, milliseconds apart) are each written by ``put``
    itself: handing one to the writer task would cost a turn of the event loop per chunk,
    and nothing would gather."""
    written_on_return: list[int] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        response = CountingResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        writer = EventWriter(response)
        for index in range(5):
            await writer.put(f"data: {index}\n\n".encode())
            written_on_return.append(CountingResponse.writes)
            await asyncio.sleep(0.005)  # as a model's next chunk comes later
        await writer.close()
        return response

    body = await _body_of(handler)
    assert body == "".join(f"data: {index}\n\n" for index in range(5))
    assert written_on_return == [1, 2, 3, 4, 5]


async def test_a_slow_reader_holds_the_writer_back() -> None:
    pending: list[int] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        writer = EventWriter(response)
        block = b"x" * 65536
        for _ in range(64):  # 4 MiB to a reader that reads slowly
            await writer.put(block)
            pending.append(writer._size)
        await writer.close()
        return response

    app = web.Application()
    app.router.add_get("/", handler)
    async with serve_app(app) as url, aiohttp.ClientSession() as session:
        async with session.get(url + "/") as reply:
            received = 0
            async for data in reply.content.iter_chunked(65536):
                received += len(data)
                await asyncio.sleep(0.001)
    assert received == 64 * 65536
    assert max(pending) <= LIMIT + 65536  # never much more than the limit held in memory
