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
from typing import Protocol

__all__ = [
    "KEY_PREFIX",
    "MAX_VALUE_BYTES",
    "NAMESPACE",
    "StateStore",
    "StateUnavailable",
    "key_prefix",
]

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

    async def close(self) -> None:
        """Release connections."""
