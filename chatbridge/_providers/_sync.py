"""Running async providers from synchronous code, without touching the caller's event loop.

gpt4free patches the caller's running loop with nest_asyncio. We never do: all synchronous
calls run on one private event loop in a daemon thread. That works the same whether or not
the calling thread has a running loop, keeps one connection pool alive across synchronous
calls, and cannot deadlock, because the only thread that could wait on itself (the private
loop's own) is refused with a clear error.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar

from .._http._pool import close_pool

__all__ = ["aclose", "iterate_sync", "run_sync"]

T = TypeVar("T")


class _PrivateLoop:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="chatbridge-sync", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
                atexit.register(self.stop)
            return self._loop

    def submit(self, coro: Coroutine[Any, Any, T]) -> T:
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError(
                "A synchronous chatbridge call was made from inside chatbridge's own event "
                "loop; use the async API (create_async / create_async_generator) there."
            )
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop())
        try:
            return future.result()
        except BaseException:
            future.cancel()  # Ctrl-C in the caller cancels the work on the private loop
            raise

    def stop(self) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None or loop.is_closed():
            return
        try:
            asyncio.run_coroutine_threadsafe(close_pool(), loop).result(timeout=5)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
            if not thread.is_alive():
                loop.close()


_private = _PrivateLoop()


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on the private loop and return its result."""
    return _private.submit(coro)


async def _next(iterator: AsyncIterator[T]) -> tuple[bool, T | None]:
    try:
        return True, await iterator.__anext__()
    except StopAsyncIteration:
        return False, None


async def aclose(iterator: AsyncIterator[Any]) -> None:
    """Close an async iterator if it can be closed (async generators can)."""
    close = getattr(iterator, "aclose", None)
    if close is not None:
        await close()


def iterate_sync(iterator: AsyncIterator[T]) -> Iterator[T]:
    """Drive an async iterator from synchronous code, one item per round trip.

    Stopping early (``break``, an exception, garbage collection) closes the async iterator on
    the private loop, so its connection is released.
    """
    try:
        while True:
            has_item, item = run_sync(_next(iterator))
            if not has_item:
                return
            yield item  # type: ignore[misc]
    finally:
        run_sync(aclose(iterator))
