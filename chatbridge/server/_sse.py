"""Writing an SSE body in as few socket sends as the stream allows.

A stream's chunks often arrive several per network read, and then come out of the client one
after another without the handler ever waiting. Written one ``write`` each, every event costs
a socket send. :class:`EventWriter` hands them to a writer task instead, which sends whatever
has gathered as one write as soon as the handler waits: nothing waits longer than it would
have (the writer runs the moment the handler pauses), and a burst costs one send. An event
that comes alone (none in the last ``ALONE`` seconds, nothing pending), as a model's paced
chunks do, is written at once instead: handing it to the writer would cost a turn of the
event loop and nothing would gather. A slow reader holds the handler back once ``LIMIT``
bytes are pending (backpressure).
"""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

__all__ = ["EventWriter"]

#: Pending bytes past which the handler waits for the writer (a slow reader).
LIMIT = 256 * 1024
#: An event this long after the one before (seconds) comes alone: it is written at once.
ALONE = 0.001


class EventWriter:
    def __init__(self, response: web.StreamResponse) -> None:
        self._response = response
        self._parts: list[bytes] = []
        self._size = 0
        self._ready = asyncio.Event()
        self._closing = False
        self._waiters: list[asyncio.Future[None]] = []
        self._task = asyncio.create_task(self._run())
        self._clock = asyncio.get_running_loop().time
        self._last = -ALONE
        #: A write (the writer's, or one of ``put``'s own) is under way.
        self._writing = False

    async def put(self, data: bytes) -> None:
        """Queue one event; waits only while too much is pending. Raises what the writer
        met (a reader that left)."""
        if self._task.done():
            self._task.result()
            raise ConnectionResetError("the SSE writer has stopped")
        now = self._clock()
        alone, self._last = now - self._last >= ALONE, now
        if alone and not self._parts and not self._writing:
            self._writing = True
            try:
                await self._response.write(data)
            finally:
                self._writing = False
                if self._parts:  # (a ping came meanwhile: the writer sends it)
                    self._ready.set()
            return
        self._parts.append(data)
        self._size += len(data)
        self._ready.set()
        if self._size > LIMIT:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter

    def ping(self) -> None:
        """Queue an SSE comment line (readers skip it): a write that shows whether the reader
        is still there, when its connection half-closed (``_connections``)."""
        if not self._closing and not self._task.done():
            self._parts.append(b": ping\n\n")
            self._size += 8
            self._ready.set()

    async def close(self) -> None:
        """Send what is pending and stop the writer (raises what it met)."""
        self._closing = True
        self._ready.set()
        await self._task

    async def abort(self) -> None:
        """Stop at once, sending nothing more (the reader left)."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task

    async def _run(self) -> None:
        try:
            while True:
                await self._ready.wait()
                self._ready.clear()
                if self._parts and not self._writing:
                    data = b"".join(self._parts)
                    self._parts.clear()
                    self._size = 0
                    self._writing = True
                    try:
                        await self._response.write(data)
                    finally:
                        self._writing = False
                    self._wake(None)
                if self._closing and not self._parts:
                    return
        except BaseException as exc:
            self._wake(exc)
            raise

    def _wake(self, error: BaseException | None) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if waiter.done():
                continue
            if error is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(ConnectionResetError(f"the SSE writer stopped: {error!r}"))
