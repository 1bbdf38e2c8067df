"""The in-memory store: one process's state, the embedded default (no I/O).

Time is injected (``clock``) so tests step it. Entries past their lifetime are gone on read;
past ``max_keys`` the least recently written entry is dropped, so memory stays bounded.
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence

from .._constants import STATE_MEMORY_MAX_KEYS
from ._interface import MAX_VALUE_BYTES, Counts, Mark, Tally, asked, refused

__all__ = ["MemoryStore"]

Clock = Callable[[], float]


class _Fields(dict[str, int]):
    """A counter of named fields (``tally``)."""


class _Average(float):
    """A moving average (``average``)."""


#: A value, a counter, a window's event times, slots (id -> until), named counters, or a
#: moving average.
_Value = bytes | int | deque[float] | dict[str, float] | _Fields | _Average


class MemoryStore:
    """A :class:`~chatbridge._state.StateStore` held in this process."""

    shared = False

    def __init__(self, clock: Clock = time.monotonic, max_keys: int = STATE_MEMORY_MAX_KEYS):
        self._clock = clock
        self._max = max_keys
        #: key -> (value, expires at).
        self._data: OrderedDict[str, tuple[_Value, float]] = OrderedDict()
        self._slot_ids = itertools.count(1)

    def _live(self, key: str) -> _Value | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry[1] <= self._clock():
            del self._data[key]
            return None
        return entry[0]

    def _put(self, key: str, value: _Value, ttl: float) -> None:
        self._data[key] = (value, self._clock() + max(ttl, 0.001))
        self._data.move_to_end(key)
        while len(self._data) > self._max:
            self._data.popitem(last=False)

    async def get(self, key: str) -> bytes | None:
        value = self._live(key)
        return value if isinstance(value, bytes) else None

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        if len(value) <= MAX_VALUE_BYTES:
            self._put(key, value, ttl)

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._data.pop(key, None)

    async def take(self, key: str) -> bytes | None:
        value = await self.get(key)
        if value:
            del self._data[key]
        return value

    async def put_unique(self, key: str, owner: str, value: bytes, ttl: float) -> bool:
        current = await self.get(key)
        mine = owner.encode() + b"|"
        if current is None or current.startswith(mine):
            await self.set(key, mine + value, ttl)
            return True
        self._put(key, b"", ttl)
        return False

    async def incr(self, key: str, ttl: float) -> int:
        value = self._live(key)
        count = (value if isinstance(value, int) else 0) + 1
        self._put(key, count, ttl)
        return count

    async def ttls(self, *keys: str) -> list[float | None]:
        now = self._clock()
        return [None if self._live(key) is None else self._data[key][1] - now for key in keys]

    async def acquire(self, key: str, ttl: float) -> str | None:
        if self._live(key) is not None:
            return None
        token = secrets.token_hex(8)
        self._put(key, token.encode(), ttl)
        return token

    async def release(self, key: str, token: str) -> None:
        if self._live(key) == token.encode():
            del self._data[key]

    async def hit(self, key: str, limit: int, window: float) -> float | None:
        now = self._clock()
        value = self._live(key)
        hits = value if isinstance(value, deque) else deque()
        while hits and hits[0] <= now - window:
            hits.popleft()
        if len(hits) >= limit:
            self._put(key, hits, window)
            return max(hits[0] + window - now, 0.001)
        hits.append(now)
        self._put(key, hits, window)
        return None

    async def open_slot(self, key: str, most: int, ttl: float) -> str | None:
        now = self._clock()
        value = self._live(key)
        slots = value if isinstance(value, dict) and not isinstance(value, _Fields) else {}
        for slot in [slot for slot, until in slots.items() if until <= now]:
            del slots[slot]
        if most > 0 and len(slots) >= most:
            return None
        slot = f"{next(self._slot_ids):x}"  # unique in this store: no need to be random
        slots[slot] = now + ttl
        self._put(key, slots, max(slots.values()) - now)
        return slot

    async def close_slot(self, key: str, slot: str) -> None:
        value = self._live(key)
        if isinstance(value, dict) and not isinstance(value, _Fields):
            value.pop(slot, None)
            if not value:
                del self._data[key]

    async def slot_counts(self, *keys: str) -> list[int]:
        now = self._clock()
        counts = []
        for key in keys:
            value = self._live(key)
            if not isinstance(value, dict) or isinstance(value, _Fields):
                counts.append(0)
            elif min(value.values(), default=now + 1) > now:  # none expired: all count
                counts.append(len(value))
            else:
                counts.append(sum(1 for until in value.values() if until > now))
        return counts

    async def open_least(
        self, keys: Sequence[str], mosts: Sequence[int], ttl: float
    ) -> tuple[int | None, str | None, list[int]]:
        counts = await self.slot_counts(*keys)
        best = None
        for index, (count, most) in enumerate(zip(counts, mosts, strict=True)):
            if (most == 0 or count < most) and (best is None or count < counts[best]):
                best = index
        if best is None:
            return None, None, counts
        return best, await self.open_slot(keys[best], mosts[best], ttl), counts

    async def average(self, key: str, sample: float, weight: float, ttl: float) -> float:
        value = self._live(key)
        moved = sample if not isinstance(value, _Average) else value + weight * (sample - value)
        self._put(key, _Average(moved), ttl)
        return moved

    async def averages(self, *keys: str) -> list[float | None]:
        found = [self._live(key) for key in keys]
        return [float(value) if isinstance(value, _Average) else None for value in found]

    async def tally(
        self, counts: Counts, ttl: float, limits: Counts | None = None, mark: Mark | None = None
    ) -> Tally:
        """(``mark`` is not needed here: nothing is ever sent twice to memory.)"""
        current = {key: self._fields(key) for key in {**counts, **(limits or {})}}
        if refused(current, counts, limits):
            return Tally(False, asked(current, counts, limits))
        for key, fields in counts.items():
            for name, amount in fields.items():
                current[key][name] = current[key].get(name, 0) + amount
            self._put(key, current[key], ttl)
        return Tally(True, asked(current, counts, limits))

    async def tallies(self, *keys: str) -> list[dict[str, int]]:
        return [dict(self._fields(key)) for key in keys]

    def _fields(self, key: str) -> _Fields:
        value = self._live(key)
        return value if isinstance(value, _Fields) else _Fields()

    async def close(self) -> None:
        self._data.clear()
