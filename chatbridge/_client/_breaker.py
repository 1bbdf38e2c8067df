"""A target's circuit breaker and rate-limit cool-down as a small state machine with no
I/O (``TargetHealth``), what a gate says (``Gate``), a call's admission (``Ticket``), and
the interface a health book asks its breakers through (``Breakers``), with this process's own
behind it (``LocalBreakers``). The book that holds them (``_health``) and the fleet's shared
breakers (``_fleet``) both build on this module; it imports neither."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from ._policy import Policy

__all__ = [
    "MAX_COOLDOWN",
    "BreakerState",
    "Breakers",
    "Clock",
    "Gate",
    "LocalBreakers",
    "TargetHealth",
    "Ticket",
]

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


@dataclass(slots=True)
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

    def success(self, cool: TargetHealth | None = None) -> None:
        """An answer. ``cool``: the record that holds this target's rate-limit cool-down,
        when it is not this one (a model of an endpoint: ``Ticket.cool``)."""
        self.counts["attempts"] += 1
        self.state = BreakerState.CLOSED
        self.failures = self.trips = self.rate_limits = 0
        self.probing = False
        if cool is not None:
            cool.rate_limits = 0

    def failure(
        self,
        retry_after: float | None = None,
        rate_limited: bool = False,
        probe: bool = False,
        cool: TargetHealth | None = None,
    ) -> None:
        """A failed attempt. A rate limit only cools the target down (it answered: it is not
        ill), on ``cool`` when given (the model's record; the breaker stays the endpoint's);
        other failures count toward the breaker. Failures of calls already in flight when
        the breaker opened do not trip it again: only a failed probe grows the cooldown."""
        self.counts["attempts"] += 1
        self.counts["failures"] += 1
        now = self.clock()
        if rate_limited:
            (cool or self).cool_down(retry_after, now)
        elif probe and self.state is BreakerState.HALF_OPEN:
            self._trip(now)
        elif self.state is BreakerState.CLOSED:
            self.failures += 1
            if self.failures >= self.policy.failure_threshold:
                self._trip(now)
        if probe:
            self.probing = False

    def cool_down(self, retry_after: float | None, now: float) -> None:
        """A rate limit: not asked before Retry-After, else a jittered backoff that doubles
        with each rate limit in a row."""
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


@dataclass(slots=True)
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
    #: The record of the rate-limit cool-down when it is not ``health``'s: the cool-down is
    #: the endpoint's, key's and model's, the breaker the endpoint's and key's.
    cool: TargetHealth | None = None
    #: Its key (``Target.cool_key``), when it has one of its own.
    cool_key: str | None = None

    def available_at_after(self) -> float:
        """When the target may next be asked, by both records."""
        when = self.health.available_at()
        return when if self.cool is None else max(when, self.cool.not_before)


class Breakers(Protocol):
    """What a health book asks its breakers, whichever kind: this process's own
    (:class:`LocalBreakers`) or the fleet's in a shared store (``FleetHealth``)."""

    #: Is the breaker state shared with other processes?
    shared: bool

    async def admit(self, key: str, lease: float | None, cool_key: str | None = None) -> Ticket:
        """The gate of ``key`` for one call (``lease``: how long a probe it takes may last);
        ``cool_key``: the key of its rate-limit cool-down when it is not ``key``'s (a model
        of the endpoint ``key``)."""

    async def available(self, key: str, cool_key: str | None = None) -> bool:
        """Could a call be let through now? A look: it takes no probe."""

    async def passing(self, ticket: Ticket) -> bool:
        """Is the target open to a plain call now? A look: it takes no probe."""

    async def success(self, ticket: Ticket) -> None: ...

    async def failure(self, ticket: Ticket, retry_after: float | None, rate_limited: bool) -> None:
        """A failed attempt (a rate limit only cools the target down)."""

    async def release(self, ticket: Ticket) -> None:
        """A probe ended with neither verdict: let another try."""

    async def refresh(self, key: str) -> None:
        """Bring this process's mirror of ``key`` up to date (for reports)."""


class LocalBreakers:
    """This process's own breakers: every answer at once, with no I/O. ``health_of`` is the
    book's table of :class:`TargetHealth` by target key."""

    shared = False

    def __init__(self, health_of: Callable[[str], TargetHealth]) -> None:
        self.health_of = health_of

    async def admit(self, key: str, lease: float | None, cool_key: str | None = None) -> Ticket:
        health = self.health_of(key)
        if cool_key is None or cool_key == key:
            return Ticket(key, health, health.gate(), health.available_at())
        cool = self.health_of(cool_key)
        if cool.clock() < cool.not_before:
            when = max(cool.not_before, health.available_at())
            return Ticket(key, health, Gate.COOLING, when, cool=cool, cool_key=cool_key)
        gate = health.gate()
        return Ticket(key, health, gate, health.available_at(), cool=cool, cool_key=cool_key)

    async def available(self, key: str, cool_key: str | None = None) -> bool:
        if cool_key is not None and cool_key != key:
            cool = self.health_of(cool_key)
            if cool.clock() < cool.not_before:
                return False
        return self.health_of(key).available()

    async def passing(self, ticket: Ticket) -> bool:
        cool = ticket.cool
        if cool is not None and cool.clock() < cool.not_before:
            return False
        return ticket.health.available()

    async def success(self, ticket: Ticket) -> None:
        ticket.health.success(ticket.cool)

    async def failure(self, ticket: Ticket, retry_after: float | None, rate_limited: bool) -> None:
        probe = ticket.gate is Gate.PROBE
        ticket.health.failure(retry_after, rate_limited, probe, ticket.cool)

    async def release(self, ticket: Ticket) -> None:
        ticket.health.release()

    async def refresh(self, key: str) -> None:
        """Nothing to do: the breakers are this process's own."""
