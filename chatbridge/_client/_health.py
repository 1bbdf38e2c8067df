"""Per-target health: a circuit breaker and a rate-limit cool-down, with no I/O.

One :class:`TargetHealth` per site or endpoint (``Target.key``), shared by every route and call
that uses the book. The breaker is a small state machine, stepped by the router and by tests
with an injected clock:

    closed ──K consecutive failures──▶ open ──cooldown passed──▶ half-open
      ▲                                 ▲                          │ one probe at a time
      └──────────── probe succeeds ─────┼──────────────────────────┤
                                        └──── probe fails (cooldown doubles, capped) ┘

A rate limit also sets ``not_before``: Retry-After when the target gave one, else a jittered
backoff that doubles with each rate limit in a row. A cooling target is skipped, not asked.

Given a shared state store (``state=``, Redis), the book keeps the breaker in the store
instead (``_fleet``): failures seen by any process count together, an open breaker is open
everywhere, and one probe runs fleet-wide. Without one (or with the memory store) it is this
process's alone, as above. The router goes through the book's async methods either way.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from ._policy import Policy

if TYPE_CHECKING:
    from .._state import StateStore

__all__ = ["MAX_COOLDOWN", "BreakerState", "Gate", "HealthBook", "TargetHealth", "Ticket"]

Clock = Callable[[], float]
#: The longest cool-down a Retry-After may impose (an absurd or infinite value is capped).
MAX_COOLDOWN = 3600.0


class BreakerState(Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class Gate(Enum):
    """What a target may do for one call right now."""

    PASS = "pass"
    PROBE = "probe"  # the one half-open probe: report its outcome
    OPEN = "open"  # breaker open: skip
    BUSY = "probing"  # half-open with its probe in flight: skip
    COOLING = "cooling"  # rate limited: skip until not_before


@dataclass
class TargetHealth:
    policy: Policy
    clock: Clock
    rand: Callable[[], float]
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0  # consecutive
    trips: int = 0  # consecutive openings, for the growing cooldown
    open_until: float = 0.0
    probing: bool = False
    not_before: float = 0.0
    rate_limits: int = 0  # consecutive
    counts: dict[str, int] = field(default_factory=lambda: {"attempts": 0, "failures": 0})

    def gate(self) -> Gate:
        now = self.clock()
        if now < self.not_before:
            return Gate.COOLING
        if self.state is BreakerState.CLOSED:
            return Gate.PASS
        if self.state is BreakerState.OPEN:
            if now < self.open_until:
                return Gate.OPEN
            self.state = BreakerState.HALF_OPEN
            self.probing = False
        if self.probing:
            return Gate.BUSY
        self.probing = True
        return Gate.PROBE

    def available(self) -> bool:
        """Whether a call could ask this target now (a look: takes no probe, moves nothing)."""
        now = self.clock()
        if now < self.not_before:
            return False
        if self.state is BreakerState.CLOSED:
            return True
        if self.state is BreakerState.OPEN and now < self.open_until:
            return False
        return not self.probing

    def available_at(self) -> float:
        """When this target may next be asked (now, if it may be asked now)."""
        when = self.not_before
        if self.state is BreakerState.OPEN:
            when = max(when, self.open_until)
        return when

    def success(self) -> None:
        self.counts["attempts"] += 1
        self.state = BreakerState.CLOSED
        self.failures = self.trips = self.rate_limits = 0
        self.probing = False

    def failure(
        self, retry_after: float | None = None, rate_limited: bool = False, probe: bool = False
    ) -> None:
        """A failed attempt. A rate limit only cools the target down (it answered: it is not
        ill); other failures count toward the breaker. Failures of calls already in flight
        when the breaker opened do not trip it again: only a failed probe grows the cooldown."""
        self.counts["attempts"] += 1
        self.counts["failures"] += 1
        now = self.clock()
        if rate_limited:
            self.rate_limits += 1
            if retry_after is not None:
                wait = min(max(retry_after, 0.0), MAX_COOLDOWN)
            else:
                ceiling = min(
                    self.policy.rate_limit_cooldown_max,
                    self.policy.rate_limit_cooldown * 2 ** (self.rate_limits - 1),
                )
                wait = self.rand() * ceiling
            self.not_before = max(self.not_before, now + wait)
        elif probe and self.state is BreakerState.HALF_OPEN:
            self._trip(now)
        elif self.state is BreakerState.CLOSED:
            self.failures += 1
            if self.failures >= self.policy.failure_threshold:
                self._trip(now)
        if probe:
            self.probing = False

    def release(self) -> None:
        """The probe ended with neither verdict (the caller cancelled): let another try."""
        self.probing = False

    def _trip(self, now: float) -> None:
        self.trips += 1
        cooldown = min(self.policy.cooldown_max, self.policy.cooldown * 2 ** (self.trips - 1))
        self.state = BreakerState.OPEN
        self.open_until = now + cooldown
        self.failures = 0

    def snapshot(self) -> dict[str, Any]:
        now = self.clock()
        state = self.state
        if state is BreakerState.OPEN and now >= self.open_until:
            state = BreakerState.HALF_OPEN
        return {
            "state": state.value,
            "consecutive_failures": self.failures,
            "trips": self.trips,
            "open_for": round(max(0.0, self.open_until - now), 3)
            if state is BreakerState.OPEN
            else 0.0,
            "cooling_for": round(max(0.0, self.not_before - now), 3),
            "attempts": self.counts["attempts"],
            "failures": self.counts["failures"],
        }


@dataclass
class Ticket:
    """One call's admission to a target: what the gate said, and what to report with."""

    key: str
    health: TargetHealth
    gate: Gate
    available_at: float = 0.0
    probe_token: str | None = None
    #: Something is recorded against the target (a success must clear it).
    dirty: bool = True
    #: The process's failure count for the target when admitted (fleet books).
    epoch: int = 0


class HealthBook:
    """Every target's health, by ``Target.key``. The process shares one by default."""

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
        self._fleet = None
        if state is not None and state.shared:
            from ._fleet import FleetHealth

            self._fleet = FleetHealth(state, self.policy, clock)

    @property
    def shared(self) -> bool:
        """Is the breaker state shared with other processes?"""
        return self._fleet is not None

    # The router reports through these, whichever kind of book it has: this process's own
    # breakers (``TargetHealth``), or the fleet's in a shared store (``FleetHealth``, which
    # keeps the local ``TargetHealth`` as a mirror, so ``available()`` stays a cheap look).

    async def admit(self, key: str, lease: float | None = None) -> Ticket:
        """May a call ask the target ``key`` now? (A ``PROBE`` ticket must be reported.)
        ``lease``: the call's remaining time, how long a probe it takes may last."""
        health = self.get(key)
        if self._fleet is not None:
            return await self._fleet.admit(key, health, lease)
        gate = health.gate()
        return Ticket(key, health, gate, health.available_at())

    async def available(self, key: str) -> bool:
        """Could a call be let through to ``key`` now? A look: it takes no probe."""
        if self._fleet is not None:
            return await self._fleet.available(key)
        return self.get(key).available()

    async def refreshed(self, keys: list[str]) -> None:
        """Read the fleet's state of ``keys`` into the local mirror, so a snapshot taken
        next reports what the fleet knows, not only this process (no-op when not shared)."""
        if self._fleet is not None:
            for key in keys:
                await self._fleet.refresh(key, self.get(key))

    async def passing(self, ticket: Ticket) -> bool:
        """Is the target open to a plain call now (a look: no probe taken)?"""
        if self._fleet is not None:
            return await self._fleet.passing(ticket.key)
        return ticket.health.available()

    async def succeeded(self, ticket: Ticket) -> None:
        if self._fleet is not None:
            await self._fleet.success(ticket)
        else:
            ticket.health.success()

    async def failed(
        self, ticket: Ticket, retry_after: float | None = None, rate_limited: bool = False
    ) -> None:
        if self._fleet is not None:
            await self._fleet.failure(ticket, retry_after, rate_limited, self.rand())
        else:
            probe = ticket.gate is Gate.PROBE
            ticket.health.failure(retry_after=retry_after, rate_limited=rate_limited, probe=probe)

    async def released(self, ticket: Ticket) -> None:
        """The probe ended with neither verdict: let another try."""
        if self._fleet is not None:
            await self._fleet.release(ticket)
        else:
            ticket.health.release()

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
