"""Per-key limits behind one small state interface: requests per minute (a sliding window)
and concurrent streams. The server talks only to :class:`LimitStore`; the in-memory store is
the one here; :class:`SharedLimits` counts through a shared state store (Redis, atomically,
in Lua) so a key's limits hold across every process, without the server knowing which store.

Time is injected (``clock``) so tests step it instead of sleeping.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from .._constants import STATE_STREAMS_TTL
from .._state import StateStore

__all__ = ["LimitStore", "MemoryLimits", "SharedLimits", "limits_for"]

Clock = Callable[[], float]
#: The window of "requests per minute" (seconds).
WINDOW = 60.0


class LimitStore(Protocol):
    async def take_request(self, key: str, per_minute: int) -> float | None:
        """Count one request for ``key``; ``None`` if allowed, else seconds until allowed
        (the request is then not counted)."""

    async def open_stream(self, key: str, most: int) -> bool:
        """Count one more open stream for ``key``; ``False`` (not counted) if at ``most``."""

    async def close_stream(self, key: str) -> None:
        """One stream of ``key`` ended."""


class MemoryLimits:
    """One process's limits, in memory. ``per_minute`` / ``most`` of 0 mean no limit."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._streams: dict[str, int] = {}

    async def take_request(self, key: str, per_minute: int) -> float | None:
        if per_minute <= 0:
            return None
        now = self._clock()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - WINDOW:
            hits.popleft()
        if len(hits) >= per_minute:
            return max(hits[0] + WINDOW - now, 0.001)
        hits.append(now)
        return None

    async def open_stream(self, key: str, most: int) -> bool:
        count = self._streams.get(key, 0)
        if most > 0 and count >= most:
            return False
        self._streams[key] = count + 1
        return True

    async def close_stream(self, key: str) -> None:
        count = self._streams.get(key, 0) - 1
        if count > 0:
            self._streams[key] = count
        else:
            self._streams.pop(key, None)


class SharedLimits:
    """Limits counted in a state store, shared by every process that uses it. Each open
    stream holds a slot that the process closes; a process that dies with streams open
    leaves them counted until ``STATE_STREAMS_TTL`` passes (then they stop counting)."""

    def __init__(self, store: StateStore) -> None:
        self._store = store
        self._slots: dict[str, list[str]] = {}

    async def take_request(self, key: str, per_minute: int) -> float | None:
        if per_minute <= 0:
            return None
        return await self._store.hit(f"rpm:{key}", per_minute, WINDOW)

    async def open_stream(self, key: str, most: int) -> bool:
        slot = await self._store.open_slot(f"streams:{key}", most, STATE_STREAMS_TTL)
        if slot is None:
            return False
        self._slots.setdefault(key, []).append(slot)
        return True

    async def close_stream(self, key: str) -> None:
        slots = self._slots.get(key)
        if not slots:
            return
        slot = slots.pop()
        if not slots:
            del self._slots[key]
        await self._store.close_slot(f"streams:{key}", slot)


def limits_for(store: StateStore) -> LimitStore:
    """Shared limits over a shared store; this process's own otherwise."""
    return SharedLimits(store) if store.shared else MemoryLimits()
