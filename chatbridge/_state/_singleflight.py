"""One value that many calls need, fetched one at a time: per event loop, and fleet-wide
through a shared store.

A protocol engine keeps a site's tokens (AI Power's page nonce, AI Engine's REST nonce) in a
:class:`SharedFetch`. Concurrent callers that need the value, or a refresh of the same
rejected value, share one fetch. Given a shared store (Redis), the value and its fetch time
are shared by every process, and a fetch is single-flight fleet-wide: the process that takes
the value's refresh lock (``SET NX`` with a lifetime) fetches and publishes it; the others
poll the shared value every few milliseconds (bounded by their call's deadline) and take it as
it appears. Polling, not pub/sub: a wait happens once per site per rotation and lasts one
fetch, and it needs no subscriber connection or task per process. A holder that dies frees
the lock when its lifetime passes; a waiter then takes it and fetches.

What the value is, how it is fetched, when it is fresh and how it is written to the store
belong to the engine; this module only coordinates.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Generic, Protocol, TypeVar

from .._constants import STATE_REFRESH_LOCK_TTL, STATE_REFRESH_POLL, STATE_TOKENS_TTL
from ._interface import StateStore

__all__ = ["SharedFetch", "Waiter"]

T = TypeVar("T")
X = TypeVar("X")


class Waiter(Protocol):
    """Awaits something within the caller's deadline (``Call.wait``)."""

    def __call__(self, awaitable: Awaitable[X], /) -> Awaitable[X]: ...


class SharedFetch(Generic[T]):
    """The value of one key, its fetch time (wall clock), and the one fetch in flight.

    ``encode(value, fetched_at)`` / ``decode(raw)`` write and read the store's copy (``decode``
    returns ``None`` for anything not right: the value is then fetched); ``is_fresh(fetched_at,
    now)`` says whether a value fetched then may still be used; ``same(a, b)`` whether two
    values are the same token (a refresh of ``stale`` must bring another one); ``trust(value)``
    whether a value read back from the store may be used here at all (another process fetched
    it under rules this one must check again).
    """

    def __init__(
        self,
        key: str,
        store: StateStore | None,
        *,
        encode: Callable[[T, float], bytes],
        decode: Callable[[bytes | None], tuple[T, float] | None],
        is_fresh: Callable[[float, float], bool],
        same: Callable[[T, T], bool],
        trust: Callable[[T], bool] | None = None,
        lock_ttl: float = STATE_REFRESH_LOCK_TTL,
        ttl: float = STATE_TOKENS_TTL,
    ) -> None:
        self.key = key
        self.fleet = store if store is not None and store.shared else None
        self.lock_ttl = lock_ttl
        self.value: T | None = None
        self.fetched_at = 0.0
        #: Whether ``value`` came from the shared store (another process fetched it).
        self.adopted = False
        #: A value a call failed with after it was adopted: never adopted again.
        self._distrusted: T | None = None
        self._encode, self._decode = encode, decode
        self._is_fresh, self._same = is_fresh, same
        self._trust = trust
        self._ttl = ttl
        self._inflight: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Future[T]] = (
            weakref.WeakKeyDictionary()
        )

    def fresh(self, now: float) -> bool:
        return self.value is not None and self._is_fresh(self.fetched_at, now)

    def keep(self, value: T, fetched_at: float | None = None) -> T:
        """Make ``value`` this process's (fetched now, unless ``fetched_at`` says when)."""
        self.value, self.adopted = value, False
        self.fetched_at = time.time() if fetched_at is None else fetched_at
        if value == self._distrusted:  # fetched here, the same: it was good after all
            self._distrusted = None
        return value

    def distrust(self, value: T) -> None:
        """A call failed with ``value``: if another process gave it, drop it (and never adopt
        it again); the next call fetches it itself."""
        if self.adopted and value == self.value:
            self._distrusted, self.value, self.fetched_at = value, None, 0.0
            self.adopted = False

    async def publish(self, value: T) -> T:
        """:meth:`keep` ``value`` and write it to the fleet's store (a token the site handed
        over in a reply, which every process may use at once)."""
        self.keep(value)
        if self.fleet is not None:
            await self.fleet.set(self.key, self._encode(value, self.fetched_at), self._ttl)
        return value

    async def get(self, wait: Waiter, fetch: Callable[[T | None], Awaitable[T]]) -> T:
        """The value while fresh; otherwise one shared (re)fetch."""
        value = self.value
        if value is not None and self._is_fresh(self.fetched_at, time.time()):
            return value
        if self.fleet is not None:
            adopted = await self._adopt(None)
            if adopted is not None:
                return adopted
        return await self._shared(wait, fetch, None)

    async def refresh(self, wait: Waiter, fetch: Callable[[T | None], Awaitable[T]], stale: T) -> T:
        """A new value after ``stale`` was rejected; a refresh some other caller already did
        (or is doing) for the same value is reused."""
        pending = self._pending()
        if pending is not None:
            result = await wait(asyncio.shield(pending))
            if not self._same(result, stale):
                return result
        elif self.value is not None and not self._same(self.value, stale):
            return self.value
        if self.fleet is not None:
            adopted = await self._adopt(stale)
            if adopted is not None:
                return adopted
        return await self._shared(wait, fetch, stale)

    async def _adopt(self, stale: T | None) -> T | None:
        """The fleet's value, if fresh (and not ``stale``): now this process's."""
        assert self.fleet is not None
        found = self._decode(await self.fleet.get(self.key))
        if found is None:
            return None
        value, fetched_at = found
        if not self._is_fresh(fetched_at, time.time()):
            return None
        if stale is not None and self._same(value, stale):
            return None
        if value == self._distrusted or (self._trust is not None and not self._trust(value)):
            return None  # fetched by this process instead
        if self.value is None or fetched_at >= self.fetched_at:
            self.value, self.fetched_at, self.adopted = value, fetched_at, True
        return value

    def _pending(self) -> asyncio.Future[T] | None:
        pending = self._inflight.get(asyncio.get_running_loop())
        return pending if pending is not None and not pending.done() else None

    async def _shared(
        self, wait: Waiter, fetch: Callable[[T | None], Awaitable[T]], stale: T | None
    ) -> T:
        pending = self._pending()
        if pending is None:
            loop = asyncio.get_running_loop()
            pending = loop.create_task(self._fetch(wait, fetch, stale))
            self._inflight[loop] = pending
            # Drop the entry when done: a future keeps its loop alive, and the dictionary
            # would otherwise keep both for ever.
            pending.add_done_callback(lambda _: self._inflight.pop(loop, None))
        return await wait(asyncio.shield(pending))

    async def _fetch(
        self, wait: Waiter, fetch: Callable[[T | None], Awaitable[T]], stale: T | None
    ) -> T:
        if self.fleet is None:
            return self.keep(await fetch(stale))
        store, lock = self.fleet, f"{self.key}:lock"
        while True:
            token = await store.acquire(lock, self.lock_ttl)
            if token is not None:
                break
            # Another process is fetching: take its value when it appears; take the lock
            # when it is free again (the holder finished without a value, or died).
            while True:
                adopted = await self._adopt(stale)
                if adopted is not None:
                    return adopted
                if (await store.ttls(lock))[0] is None:
                    break
                await wait(asyncio.sleep(STATE_REFRESH_POLL))
        try:
            adopted = await self._adopt(stale)  # published while the lock changed hands
            if adopted is not None:
                return adopted
            value = self.keep(await fetch(stale))
            await store.set(self.key, self._encode(value, self.fetched_at), self._ttl)
            return value
        finally:
            await asyncio.shield(store.release(lock, token))
