"""Shared state, below the protocol engine and the client: what several server processes must
agree on, behind one small interface (:class:`StateStore`) with two stores.

It owns the storage primitives only (values with a lifetime, take-once entries, locks and
leases, counters, a sliding request window, slots that expire, moving averages, and counters
of named fields counted all or none under limits, which survive an outage of Redis: owed,
then added back once, ``_owed``) and the process's current store.
What the values mean belongs to their users: the engine's token cache and conversation book,
the client's health book and the server's limits. ``MemoryStore`` is the embedded default;
``RedisStore`` (``redis.asyncio``, imported only when a Redis URL is given) shares state across
processes and hosts, and ``FallbackStore`` keeps serving from memory while Redis is away.
Every key lives under ``chatbridge:v1:NAMESPACE:`` (one per deployment) and expires.
"""

from ._fallback import FallbackStore
from ._interface import KEY_PREFIX, Counts, Mark, StateStore, StateUnavailable, Tally
from ._memory import MemoryStore
from ._open import connect_store, current_store, install_store, open_store

__all__ = [
    "KEY_PREFIX",
    "Counts",
    "FallbackStore",
    "Mark",
    "MemoryStore",
    "StateStore",
    "StateUnavailable",
    "Tally",
    "connect_store",
    "current_store",
    "install_store",
    "open_store",
]
