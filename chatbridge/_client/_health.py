"""Per-target health: a circuit breaker and a rate-limit cool-down, with no I/O.

One :class:`TargetHealth` per site or endpoint (``Target.key``), shared by every route and call
that uses the book, and one more per model of an endpoint for its rate-limit cool-down
(``Target.cool_key``): rate limits are usually per model, a dead host is the endpoint's. The
breaker is a small state machine, stepped by the router and by tests with an injected clock:

    closed ──K consecutive failures──▶ open ──cooldown passed──▶ half-open
      ▲                                 ▲                          │ one probe at a time
      └──────────── probe succeeds ─────┼──────────────────────────┤
                                        └──── probe fails (cooldown doubles, capped) ┘

A rate limit sets ``not_before`` (of the model's record): Retry-After when the target gave
one, else a jittered backoff that doubles with each rate limit in a row. A cooling target is
skipped, not asked.

Given a shared state store (``state=``, Redis), the book keeps the breaker in the store
instead (``_fleet``): failures seen by any process count together, an open breaker is open
everywhere, and one probe runs fleet-wide. Without one (or with the memory store) it is this
process's alone, as above (``LocalBreakers``). The router goes through the book's async
methods either way: one interface, two kinds of breakers behind it.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._breaker import (
    MAX_COOLDOWN,
    Breakers,
    BreakerState,
    Clock,
    Gate,
    LocalBreakers,
    TargetHealth,
    Ticket,
)
from ._policy import Policy

if TYPE_CHECKING:
    from .._state import StateStore

__all__ = [
    "MAX_COOLDOWN",
    "BreakerState",
    "Breakers",
    "Gate",
    "HealthBook",
    "TargetHealth",
    "Ticket",
]


class HealthBook:
    """Every target's health, by ``Target.key``. The process shares one by default.

    Its breakers are this process's own (:class:`LocalBreakers`, answering at once) or the
    fleet's in a shared store (``FleetHealth``, which keeps the local ``TargetHealth`` as a
    mirror, so a look stays cheap and ``snapshot`` has something to show); either way they are
    asked through one interface, :attr:`breakers` (the router's way), or through the book's
    async methods that pass each question on."""

    def __init__(
        self,
        policy: Policy | None = None,
        *,
        clock: Clock = time.monotonic,
        rand: Callable[[], float] = random.random,
        max_targets: int = 4096,
        state: StateStore | None = None,
    ) -> None:
        self.policy = policy or Policy()
        self.clock = clock
        self.rand = rand
        self._targets: dict[str, TargetHealth] = {}
        self._max = max_targets
        # The synchronous client's private loop and the caller's loops may share a book.
        self._lock = threading.Lock()
        #: Where the counters of balancing live: the shared store when there is one, else
        #: this book's own memory (on its clock).
        self.store: StateStore = state if state is not None else _memory_store(clock)
        #: Every target's breaker, this process's own or the fleet's, behind one interface.
        self.breakers: Breakers = LocalBreakers(self.get)
        if state is not None and state.shared:
            from ._fleet import FleetHealth

            self.breakers = FleetHealth(state, self.policy, clock, rand, self.get)

    @property
    def shared(self) -> bool:
        """Is the breaker state shared with other processes?"""
        return self.breakers.shared

    async def admit(
        self, key: str, lease: float | None = None, cool_key: str | None = None
    ) -> Ticket:
        """May a call ask the target ``key`` now? (A ``PROBE`` ticket must be reported.)
        ``lease``: the call's remaining time, how long a probe it takes may last;
        ``cool_key``: its rate-limit cool-down's key (``Target.cool_key``), if not ``key``."""
        return await self.breakers.admit(key, lease, cool_key)

    async def available(self, key: str, cool_key: str | None = None) -> bool:
        """Could a call be let through to ``key`` now? A look: it takes no probe."""
        return await self.breakers.available(key, cool_key)

    async def refreshed(self, keys: list[str]) -> None:
        """Read the fleet's state of ``keys`` into the local mirror, so a snapshot taken
        next reports what the fleet knows, not only this process (no-op when not shared)."""
        for key in keys:
            await self.breakers.refresh(key)

    async def passing(self, ticket: Ticket) -> bool:
        """Is the target open to a plain call now (a look: no probe taken)?"""
        return await self.breakers.passing(ticket)

    async def succeeded(self, ticket: Ticket) -> None:
        await self.breakers.success(ticket)

    async def failed(
        self, ticket: Ticket, retry_after: float | None = None, rate_limited: bool = False
    ) -> None:
        await self.breakers.failure(ticket, retry_after, rate_limited)

    async def released(self, ticket: Ticket) -> None:
        """The probe ended with neither verdict: let another try."""
        await self.breakers.release(ticket)

    def get(self, key: str) -> TargetHealth:
        health = self._targets.get(key)
        if health is not None:
            return health
        with self._lock:
            health = self._targets.get(key)
            if health is not None:
                return health
            if len(self._targets) >= self._max:  # forget the oldest healthy entry
                for old, entry in self._targets.items():
                    if entry.state is BreakerState.CLOSED and not entry.probing:
                        del self._targets[old]
                        break
            health = self._targets[key] = TargetHealth(self.policy, self.clock, self.rand)
            return health

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            targets = list(self._targets.items())
        return {key: health.snapshot() for key, health in targets}


def _memory_store(clock: Clock) -> StateStore:
    from .._state import MemoryStore

    return MemoryStore(clock=clock)
