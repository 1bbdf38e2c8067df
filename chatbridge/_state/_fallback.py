"""Keep serving when the shared store is away: every call goes to the shared store unless it
failed recently; a failure answers that call (and the next ones, for a back-off of 1 s
doubling to 5 s) from this process's memory. One warning when the shared store goes away, one
line when it is back; never one per request. No request fails because Redis did.

While away, state is per process (as without Redis); what was written to memory then is not
copied back: shared entries are short-lived, and the next refresh or failure rewrites them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from .._constants import STATE_REDIS_CONNECT_TIMEOUT, STATE_RETRY_AFTER, STATE_RETRY_AFTER_MAX
from ._interface import StateStore, StateUnavailable
from ._memory import MemoryStore

__all__ = ["FallbackStore"]

_log = logging.getLogger("chatbridge.state")


class Reachable(StateStore, Protocol):
    """A shared store that can be reached ahead of its first call (:meth:`FallbackStore.check`)."""

    async def connect(self, timeout: float) -> None:
        """Open what the calls need, within ``timeout``; :class:`StateUnavailable` if not."""


class FallbackStore:
    """``primary`` (Redis) while it answers, ``local`` (memory) while it does not."""

    shared = True

    def __init__(
        self,
        primary: Reachable,
        local: StateStore | None = None,
        *,
        name: str = "the shared store",
        clock: Callable[[], float] = time.monotonic,
        retry_after: float = STATE_RETRY_AFTER,
        retry_after_max: float = STATE_RETRY_AFTER_MAX,
    ) -> None:
        self.primary = primary
        self.local = local or MemoryStore()
        self.name = name
        self._clock = clock
        self._first, self._most = retry_after, retry_after_max
        self._backoff = retry_after
        self._retry_at = 0.0
        #: True while the primary is away (calls go to ``local``).
        self.degraded = False
        #: Times the primary went away, and came back (for tests and /metrics).
        self.outages = 0
        self.recoveries = 0

    async def _call(self, name: str, *args: Any) -> Any:
        started = self._clock()
        if self.degraded and started < self._retry_at:
            return await getattr(self.local, name)(*args)
        try:
            result = await getattr(self.primary, name)(*args)
        except StateUnavailable as error:
            self._away(error, started)
            return await getattr(self.local, name)(*args)
        self._answered()
        return result

    def _away(self, error: StateUnavailable, started: float) -> None:
        """The primary failed a call begun at ``started``: memory answers from now on."""
        if self.degraded and started < self._retry_at:
            # Began before the outage was known (concurrent calls all fail together):
            # neither a second warning nor a longer back-off.
            return
        if not self.degraded:
            self.degraded = True
            self.outages += 1
            self._backoff = self._first
            _log.warning(
                "%s is unavailable (%s): serving from this process's memory (state is "
                "per process) and trying it again every %g-%g s",
                self.name,
                error,
                self._first,
                self._most,
            )
        else:
            self._backoff = min(self._backoff * 2, self._most)
        self._retry_at = self._clock() + self._backoff

    def _answered(self) -> None:
        if self.degraded:
            self.degraded = False
            self.recoveries += 1
            _log.warning("%s is back: state is shared again", self.name)

    async def check(self, timeout: float = STATE_REDIS_CONNECT_TIMEOUT) -> bool:
        """Reach the primary now (at start), allowing it ``timeout`` seconds rather than one
        call's limit (a first reach costs many calls' time; a busy machine's slow start is
        not an outage): ``True`` if it answered."""
        started = self._clock()
        try:
            await self.primary.connect(timeout)
        except StateUnavailable as error:
            self._away(error, started)
        else:
            self._answered()
        return not self.degraded

    async def get(self, key: str) -> bytes | None:
        result: bytes | None = await self._call("get", key)
        return result

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        await self._call("set", key, value, ttl)

    async def delete(self, *keys: str) -> None:
        await self._call("delete", *keys)

    async def take(self, key: str) -> bytes | None:
        result: bytes | None = await self._call("take", key)
        return result

    async def put_unique(self, key: str, owner: str, value: bytes, ttl: float) -> bool:
        return bool(await self._call("put_unique", key, owner, value, ttl))

    async def incr(self, key: str, ttl: float) -> int:
        return int(await self._call("incr", key, ttl))

    async def ttls(self, *keys: str) -> list[float | None]:
        result: list[float | None] = await self._call("ttls", *keys)
        return result

    async def acquire(self, key: str, ttl: float) -> str | None:
        result: str | None = await self._call("acquire", key, ttl)
        return result

    async def release(self, key: str, token: str) -> None:
        await self._call("release", key, token)

    async def hit(self, key: str, limit: int, window: float) -> float | None:
        result: float | None = await self._call("hit", key, limit, window)
        return result

    async def open_slot(self, key: str, most: int, ttl: float) -> str | None:
        result: str | None = await self._call("open_slot", key, most, ttl)
        return result

    async def close_slot(self, key: str, slot: str) -> None:
        await self._call("close_slot", key, slot)

    async def close(self) -> None:
        await self.primary.close()
        await self.local.close()
