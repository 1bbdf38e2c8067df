"""Keep serving when the shared store is away: every call goes to the shared store unless it
failed recently; a failure answers that call (and the next ones, for a back-off of 1 s
doubling to 5 s) from this process's memory. One warning when the shared store goes away, one
line when it is back; never one per request. No request fails because Redis did.

While away, state is per process (as without Redis); what was written to memory then is not
copied back: shared entries are short-lived, and the next refresh or failure rewrites them.
Counts (``tally``: quotas and the usage ledger) are the exception: what is counted while Redis
is away is owed to it and added back when it returns, each once (``_owed``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from .._constants import STATE_REDIS_CONNECT_TIMEOUT, STATE_RETRY_AFTER, STATE_RETRY_AFTER_MAX
from ._interface import Counts, Mark, StateStore, StateUnavailable, Tally
from ._memory import MemoryStore
from ._owed import Owed

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
        #: Counts owed to the primary, and the task sending them back.
        self.owed = Owed()
        self._settling: asyncio.Task[None] | None = None

    def _away(self, started: float) -> bool:
        """Is the primary known to be away (and not yet due another try)?"""
        return self.degraded and started < self._retry_at

    def _lost(self, error: StateUnavailable, started: float) -> None:
        """The primary failed a call that began at ``started``."""
        if self._away(started):
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
        """The primary answered: shared again, and what is owed to it goes back."""
        if self.degraded:
            self.degraded = False
            self.recoveries += 1
            _log.warning("%s is back: state is shared again", self.name)
        if self.owed and (self._settling is None or self._settling.done()):
            self._settling = asyncio.ensure_future(self._settle())

    async def _call(self, name: str, *args: Any) -> Any:
        started = self._clock()
        if self._away(started):
            return await getattr(self.local, name)(*args)
        try:
            result = await getattr(self.primary, name)(*args)
        except StateUnavailable as error:
            self._lost(error, started)
            return await getattr(self.local, name)(*args)
        self._answered()
        return result

    async def _settle(self) -> None:
        """Send back what is owed, oldest first, each under its own mark; stop at the first
        failure (the next answer of the primary starts again)."""
        while (entry := self.owed.next()) is not None:
            started = self._clock()
            try:
                await self.primary.tally(entry.counts, entry.ttl, None, self.owed.sent_mark(entry))
            except StateUnavailable as error:
                self._lost(error, started)
                return
            self.owed.delivered(entry)

    async def settle(self) -> bool:
        """Send back what is owed now (if the primary answers); ``True`` when nothing is
        owed any more."""
        if self._settling is not None and not self._settling.done():
            await asyncio.shield(self._settling)
        if self.owed and not self._away(self._clock()):
            await self._settle()
        return not self.owed

    async def check(self, timeout: float = STATE_REDIS_CONNECT_TIMEOUT) -> bool:
        """Reach the primary now (at start), allowing it ``timeout`` seconds rather than one
        call's limit (a first reach costs many calls' time; a busy machine's slow start is
        not an outage): ``True`` if it answered."""
        started = self._clock()
        try:
            await self.primary.connect(timeout)
        except StateUnavailable as error:
            self._lost(error, started)
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

    async def slot_counts(self, *keys: str) -> list[int]:
        result: list[int] = await self._call("slot_counts", *keys)
        return result

    async def open_least(
        self, keys: Sequence[str], mosts: Sequence[int], ttl: float
    ) -> tuple[int | None, str | None, list[int]]:
        result: tuple[int | None, str | None, list[int]] = await self._call(
            "open_least", keys, mosts, ttl
        )
        return result

    async def average(self, key: str, sample: float, weight: float, ttl: float) -> float:
        return float(await self._call("average", key, sample, weight, ttl))

    async def averages(self, *keys: str) -> list[float | None]:
        result: list[float | None] = await self._call("averages", *keys)
        return result

    async def tally(
        self, counts: Counts, ttl: float, limits: Counts | None = None, mark: Mark | None = None
    ) -> Tally:
        """Counted in the primary under a mark of this store's; while it is away, owed to
        it (``mark`` is this store's to give: one given is not used)."""
        started = self._clock()
        if self._away(started):
            return self.owed.keep(counts, ttl, limits)
        sent = self.owed.mark()
        try:
            result = await self.primary.tally(counts, ttl, limits, sent)
        except StateUnavailable as error:
            self._lost(error, started)
            return self.owed.unknown(sent, counts, ttl, limits)
        self.owed.seen(result.values)
        self._answered()
        return result

    async def tallies(self, *keys: str) -> list[dict[str, int]]:
        """From the primary, plus what is still owed to it; while it is away, as this
        process last saw them plus what it owes."""
        if self.owed:
            await self.settle()  # so what is read counts what was owed, once
        started = self._clock()
        if not self._away(started):
            try:
                found = await self.primary.tallies(*keys)
            except StateUnavailable as error:
                self._lost(error, started)
            else:
                self.owed.seen(dict(zip(keys, found, strict=True)), whole=True)
                self._answered()
                if not self.owed:
                    return found
        return self.owed.view(keys)

    async def close(self) -> None:
        if self.owed and not self._away(self._clock()):
            await self._settle()  # a last try: what is still owed then is lost
        if self._settling is not None:
            await asyncio.gather(self._settling, return_exceptions=True)
        await self.primary.close()
        await self.local.close()
