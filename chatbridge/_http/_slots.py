"""Connections per host: a queue of our own in front of the shared pool.

Each request says how many connections its target allows to the host at once (a small
WordPress site a few, an OpenAI-compatible API many: the provider's default, or the route's
``connections_per_host``). A request past that waits here, first come first served, until
one is given back. The wait is bounded by the request's own deadline and nothing else: the
connect timeout is for making a connection, so a full pool is never mistaken for a site that
does not answer. While a request waits, :data:`~chatbridge._queueing.QUEUEING` is told, so a
time-to-first-token limit does not count the queue against the target.

Counts are kept per (origin, limit): two targets on one host with different limits are
limited apart, and a host with nothing in flight and nobody waiting is forgotten at once (a
server whose requests name their own sites sees any number of hosts).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

from .._exceptions import RequestTimeoutError
from .._queueing import QUEUEING

__all__ = ["Slots", "origin_of"]

Key = tuple[str, int]


class _Host:
    __slots__ = ("busy", "waiting")

    def __init__(self) -> None:
        #: Slots taken (a slot handed from a leaving request to a waiter stays taken).
        self.busy = 0
        self.waiting: deque[asyncio.Future[None]] = deque()


def origin_of(url: str) -> str:
    """``scheme://host:port`` of an absolute URL, by plain string work (this runs for every
    request; a malformed URL fails later, in aiohttp, with its own error)."""
    scheme, _, rest = url.partition("://")
    return scheme.lower() + "://" + rest.split("/", 1)[0].split("?", 1)[0].lower()


class Slots:
    """The connection slots of one event loop, per (origin, limit)."""

    def __init__(self) -> None:
        self._hosts: dict[Key, _Host] = {}

    def busy(self, origin: str, limit: int) -> int:
        host = self._hosts.get((origin, limit))
        return host.busy if host is not None else 0

    def take_now(self, origin: str, limit: int) -> Key | None:
        """A slot for a request to ``origin`` if one is free now (and nobody is waiting for
        one): the key to :meth:`give` it back with; else ``None``."""
        key = (origin, limit)
        host = self._hosts.get(key)
        if host is None:
            host = self._hosts[key] = _Host()
        if host.busy < limit and not host.waiting:
            host.busy += 1
            return key
        return None

    async def wait(self, origin: str, limit: int, timeout: float | None) -> Key:
        """A slot for a request to ``origin``, waiting (in arrival order) while ``limit``
        are taken, at most ``timeout`` seconds (``None``: as long as the caller waits)."""
        key = self.take_now(origin, limit)
        if key is None:
            key = (origin, limit)
            await self._wait(self._hosts[key], key, timeout)
        return key

    async def _wait(self, host: _Host, key: Key, timeout: float | None) -> None:
        waiter = asyncio.get_running_loop().create_future()
        host.waiting.append(waiter)
        told = QUEUEING.get()
        if told is not None:
            told(True)
        try:
            async with asyncio.timeout(timeout):
                await waiter
        except BaseException as error:
            if waiter.done() and not waiter.cancelled():
                self.give(key)  # handed a slot as the wait gave up: pass it on
            else:
                with contextlib.suppress(ValueError):  # (a giver may have skipped it already)
                    host.waiting.remove(waiter)
                self._forget_if_idle(key, host)
            if isinstance(error, TimeoutError):
                raise RequestTimeoutError(
                    f"Timed out waiting for a free connection to {key[0]} (all {key[1]} "
                    "this target allows are in use)",
                    url=key[0],
                ) from None
            raise
        finally:
            if told is not None:
                told(False)

    def give(self, key: Key) -> None:
        """Give a slot back: to the first request still waiting, else to the pool."""
        host = self._hosts.get(key)
        if host is None:
            return
        while host.waiting:
            waiter = host.waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes on: ``busy`` stays
                return
        host.busy -= 1
        self._forget_if_idle(key, host)

    def _forget_if_idle(self, key: Key, host: _Host) -> None:
        if host.busy <= 0 and not host.waiting:
            del self._hosts[key]
