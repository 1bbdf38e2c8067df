"""The state interface: storage primitives every store implements with the same meaning.

Keys are short relative names (``tokens:<site>``); a store puts them under :data:`KEY_PREFIX`.
Every write gives a lifetime in seconds: nothing is kept for ever. Values are bytes and are
*untrusted* when read back (another process, another version, or a person may have written
them): their users validate them and treat a bad one as absent (the protocol engine's site
tokens and conversations: ``chatbridge._aipower._shared``; the health book reads its records
only as lifetimes and counters).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "KEY_PREFIX",
    "MAX_VALUE_BYTES",
    "NAMESPACE",
    "Counts",
    "Mark",
    "StateStore",
    "StateUnavailable",
    "Tally",
    "asked",
    "exceeds",
    "key_prefix",
    "refused",
]

#: Counters by key, then by field: ``{"usage:k:2026-12-07": {"requests": 1}}``.
Counts = Mapping[str, Mapping[str, int]]


@dataclass(frozen=True, slots=True)
class Mark:
    """Who counts, so a count sent twice is counted once: ``writer`` (one per process),
    ``seq`` (this count's number, rising) and ``low`` (the writer's lowest count whose fate
    is still unknown: what is below it is never sent again, so its marks may go)."""

    writer: str
    seq: int
    low: int


@dataclass(frozen=True, slots=True)
class Tally:
    """What :meth:`StateStore.tally` did: ``applied`` (every amount added), and the values
    of the fields it was given, by key then field (after adding, when applied)."""

    applied: bool
    values: dict[str, dict[str, int]]

#: Every key of every store starts with this (the version moves when a value's shape does),
#: then the deployment's namespace (:func:`key_prefix`).
KEY_PREFIX = "chatbridge:v1:"
#: What a namespace may be made of: it is part of every key.
NAMESPACE = re.compile(r"[A-Za-z0-9._-]{1,64}")


def key_prefix(namespace: str = "") -> str:
    """``chatbridge:v1:NAMESPACE:``: two deployments on one Redis, with two namespaces, never
    read or count each other's state."""
    if not namespace:
        return KEY_PREFIX
    if not NAMESPACE.fullmatch(namespace):
        raise ValueError(f"a namespace is 1 to 64 of A-Z a-z 0-9 . _ -, not {namespace!r}")
    return f"{KEY_PREFIX}{namespace}:"


#: A value longer than this is not written, and not believed when read.
MAX_VALUE_BYTES = 256 * 1024


def exceeds(value: int, amount: int, limit: int) -> bool:
    """Would adding ``amount`` to ``value`` pass ``limit``? (For an amount of 0, a look
    before counting: has ``value`` reached it already?)"""
    return value >= limit if amount == 0 else value + amount > limit


def refused(current: Counts, counts: Counts, limits: Counts | None) -> bool:
    """Would :meth:`StateStore.tally` refuse ``counts`` over ``current`` under ``limits``?"""
    if not limits:
        return False
    for key, fields in limits.items():
        for name, limit in fields.items():
            amount = counts.get(key, {}).get(name, 0)
            if exceeds(current.get(key, {}).get(name, 0), amount, limit):
                return True
    return False


def asked(
    current: Counts, counts: Counts, limits: Counts | None = None
) -> dict[str, dict[str, int]]:
    """The values in ``current`` of the fields ``counts`` and ``limits`` name."""
    named: dict[str, dict[str, int]] = {}
    for table in (counts, limits or {}):
        for key, fields in table.items():
            values = current.get(key, {})
            named.setdefault(key, {}).update({name: values.get(name, 0) for name in fields})
    return named


class StateUnavailable(Exception):
    """The shared store could not answer (down, too slow, or a value of the wrong type).
    Internal: :class:`FallbackStore` turns it into a local answer; no caller sees it."""


class StateStore(Protocol):
    """What the token cache, the conversation book, the health book and the limits use."""

    #: True when other processes see what this store holds (Redis), False for memory.
    shared: bool

    async def get(self, key: str) -> bytes | None:
        """The value, or ``None`` when absent or expired."""

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        """Store ``value`` for ``ttl`` seconds (replacing any value)."""

    async def delete(self, *keys: str) -> None:
        """Forget these keys (absent ones are fine)."""

    async def take(self, key: str) -> bytes | None:
        """Get and delete in one step, so only one caller ever takes a value; an empty value
        (a tombstone) is returned and stays."""

    async def put_unique(self, key: str, owner: str, value: bytes, ttl: float) -> bool:
        """Store ``owner``'s ``value`` unless another owner's value is there: then leave a
        tombstone (an empty value) instead and return ``False``. A tombstone stays one."""

    async def incr(self, key: str, ttl: float) -> int:
        """Add one to a counter (absent = 0) and return it; the counter lives ``ttl`` s."""

    async def ttls(self, *keys: str) -> list[float | None]:
        """Seconds each key has left to live (``None`` when absent), in one round trip."""

    async def acquire(self, key: str, ttl: float) -> str | None:
        """A lock or lease for ``ttl`` seconds: a token to release it with, or ``None`` if
        someone holds it. It frees itself when ``ttl`` passes (a holder may die)."""

    async def release(self, key: str, token: str) -> None:
        """Free a lock, only if ``token`` still holds it (it may have expired and moved on)."""

    async def hit(self, key: str, limit: int, window: float) -> float | None:
        """Count one event in a sliding window of ``window`` seconds: ``None`` if fewer than
        ``limit`` were counted in it, else (not counted) the seconds until one leaves."""

    async def open_slot(self, key: str, most: int, ttl: float) -> str | None:
        """One more of at most ``most`` (0: no limit) concurrent things: the slot's id, or
        ``None`` (not counted) when full. A slot never closed (its process died) stops
        counting after ``ttl`` seconds, however busy the key is."""

    async def close_slot(self, key: str, slot: str) -> None:
        """That thing ended (an unknown or expired slot is fine)."""

    async def slot_counts(self, *keys: str) -> list[int]:
        """How many slots each key has open now (expired ones not counted), in one go."""

    async def open_least(
        self, keys: Sequence[str], mosts: Sequence[int], ttl: float
    ) -> tuple[int | None, str | None, list[int]]:
        """:meth:`open_slot` on the key with the fewest open slots among those below their
        most (0: no limit), the earliest in ``keys`` among ties, in one step: its index and
        the slot's id (``None, None`` when every key is full), and each key's count before."""

    async def average(self, key: str, sample: float, weight: float, ttl: float) -> float:
        """Move a moving average ``weight`` (0 to 1) of the way to ``sample`` (absent: it
        becomes ``sample``) and return it; it lives ``ttl`` s after its last sample."""

    async def averages(self, *keys: str) -> list[float | None]:
        """The moving averages of these keys (``None``: absent or expired), in one go."""

    async def tally(
        self,
        counts: Counts,
        ttl: float,
        limits: Counts | None = None,
        mark: Mark | None = None,
    ) -> Tally:
        """Add ``counts`` to counters (a key holds named fields; absent = 0), atomically,
        all or none; each key then lives ``ttl`` s. With ``limits`` (same shape), nothing is
        added when a limited field would pass its limit (or, for an amount of 0, already
        reached it). With ``mark``, a count already made under the same mark is not made
        again (it is then reported applied, with the values as they are)."""

    async def tallies(self, *keys: str) -> list[dict[str, int]]:
        """Every field of these counters (``{}``: absent), in one go."""

    async def close(self) -> None:
        """Release connections."""
