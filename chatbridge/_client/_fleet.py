"""The circuit breaker of a target, shared by every process over a shared state store.

The same machine as :class:`~chatbridge._client._health.TargetHealth`, written as records
whose lifetimes are the timers, so no two hosts' clocks are ever compared:

* ``fail``: consecutive failures, counted by every process (a success anywhere deletes it);
  the failure that brings it to the threshold trips the breaker;
* ``open``: present while the breaker is open; it lives for the cooldown;
* ``trips``: consecutive trips (the cooldown doubles with each, capped); while it exists and
  ``open`` does not, the breaker is half-open;
* ``probe``: the half-open probe's lease (``SET NX``): exactly one probe runs fleet-wide; a
  prober that dies frees it when the call's deadline has passed;
* ``cool`` and ``rl``: a rate limit's cool-down (lives for the wait) and the count of rate
  limits in a row.

One round trip decides a gate (the lifetimes of five records); a success costs a second only
when something was recorded against the target. A gate that found nothing recorded is
trusted for ``STATE_HEALTH_CLEAR`` seconds (0.1 s): a healthy target costs one read per
process per 0.1 s, not one per request, and a breaker opened elsewhere reaches this process
within that time (this process's own failures at once). Calls already under way when a
breaker opens are in the same position in a single process.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from typing import Any

from .._constants import MAX_RETRY_AFTER, STATE_HEALTH_CLEAR, STATE_HEALTH_TTL
from .._state import StateStore
from ._breaker import BreakerState, Gate, TargetHealth, Ticket
from ._policy import Policy

__all__ = ["FleetHealth"]


class FleetHealth:
    """The fleet's breakers, behind the health book's one interface (``Breakers``).
    ``health_of`` is the book's table of this process's mirrors by target key."""

    shared = True

    def __init__(
        self,
        store: StateStore,
        policy: Policy,
        clock: Callable[[], float],
        rand: Callable[[], float],
        health_of: Callable[[str], TargetHealth],
    ) -> None:
        self.store = store
        self.policy = policy
        self.clock = clock
        self.rand = rand
        self.health_of = health_of
        #: target key -> until when its last all-clear gate is trusted.
        self._clear: dict[str, float] = {}
        #: target key -> failures this process recorded (a ticket admitted before one of
        #: them must clear the shared count on success, though it saw nothing recorded).
        self._epoch: dict[str, int] = {}

    @staticmethod
    def _keys(key: str) -> dict[str, str]:
        digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()
        return {
            part: f"health:{digest}:{part}"
            for part in ("cool", "open", "trips", "fail", "rl", "probe")
        }

    def _split(self, key: str, cool_key: str | None) -> tuple[dict[str, str], dict[str, str]]:
        """The records of ``key``'s breaker, and of its cool-down (``cool_key``'s, when it
        has a key of its own: a model of the endpoint)."""
        keys = self._keys(key)
        return keys, keys if cool_key is None or cool_key == key else self._keys(cool_key)

    async def admit(
        self, key: str, lease: float | None = None, cool_key: str | None = None
    ) -> Ticket:
        """``lease``: the call's remaining time, how long a probe it takes may last;
        ``cool_key``: the key of the target's cool-down when it has one of its own."""
        health = self.health_of(key)
        own = cool_key if cool_key is not None and cool_key != key else None
        mirror = self.health_of(own) if own is not None else None
        epoch = self._epoch.get(key, 0)

        def ticket(gate: Gate, when: float, **more: Any) -> Ticket:
            return Ticket(key, health, gate, when, cool=mirror, cool_key=own, **more)

        if self._clear.get(own or key, 0.0) > self.clock():
            return ticket(Gate.PASS, self.clock(), dirty=False, epoch=epoch)
        keys, cools = self._split(key, cool_key)
        cool, opened, trips, fail, rl = await self.store.ttls(
            cools["cool"], keys["open"], keys["trips"], keys["fail"], cools["rl"]
        )
        now = self.clock()
        self._note_clear(own or key, now, (cool, opened, trips, fail, rl))
        dirty = any(left is not None for left in (opened, trips, fail, rl))
        (mirror or health).not_before = now + cool if cool is not None else 0.0
        if cool is not None:
            return ticket(Gate.COOLING, now + cool, dirty=dirty)
        if opened is not None:
            health.state, health.open_until = BreakerState.OPEN, now + opened
            return ticket(Gate.OPEN, now + opened, dirty=dirty)
        if trips is not None:
            health.state = BreakerState.HALF_OPEN
            token = await self._acquire(keys["probe"], max(1.0, lease or self.policy.timeout))
            if token is None:
                return ticket(Gate.BUSY, now, dirty=dirty, epoch=epoch)
            return ticket(Gate.PROBE, now, probe_token=token, dirty=True, epoch=epoch)
        health.state = BreakerState.CLOSED
        return ticket(Gate.PASS, now, dirty=dirty, epoch=epoch)

    def _note_clear(self, seen: str, now: float, lifetimes: tuple[float | None, ...]) -> None:
        """A gate that found nothing recorded is trusted for a while (see the module)."""
        if all(left is None for left in lifetimes):
            if len(self._clear) >= 4096:
                self._clear.clear()
            self._clear[seen] = now + STATE_HEALTH_CLEAR
        else:
            self._clear.pop(seen, None)

    async def _acquire(self, name: str, lease: float) -> str | None:
        """Take the probe lease; a caller cancelled meanwhile gives a lease it got back
        (else the breaker would stay half-open and busy fleet-wide until it expires)."""
        task = asyncio.ensure_future(self.store.acquire(name, lease))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            token = await task
            if token is not None:
                await self.store.release(name, token)
            raise

    async def available(self, key: str, cool_key: str | None = None) -> bool:
        """A look, for the router's time limits: could a call be let through now?"""
        if self._clear.get(cool_key or key, 0.0) > self.clock():
            return True
        keys, cools = self._split(key, cool_key)
        cool, opened, probing = await self.store.ttls(cools["cool"], keys["open"], keys["probe"])
        return cool is None and opened is None and probing is None

    async def passing(self, ticket: Ticket) -> bool:
        self._clear.pop(ticket.cool_key or ticket.key, None)
        keys, cools = self._split(ticket.key, ticket.cool_key)
        cool, opened, trips = await self.store.ttls(cools["cool"], keys["open"], keys["trips"])
        return cool is None and opened is None and trips is None

    async def success(self, ticket: Ticket) -> None:
        health = ticket.health
        health.counts["attempts"] += 1
        health.state, health.failures, health.trips = BreakerState.CLOSED, 0, 0
        if ticket.dirty or self._epoch.get(ticket.key, 0) != ticket.epoch:
            keys, cools = self._split(ticket.key, ticket.cool_key)
            await self.store.delete(
                keys["fail"], keys["trips"], keys["open"], keys["probe"], cools["rl"]
            )

    async def failure(self, ticket: Ticket, retry_after: float | None, rate_limited: bool) -> None:
        """As :meth:`TargetHealth.failure`, fleet-wide: a rate limit only cools the target
        down; a failed probe re-opens the breaker with a longer cooldown; other failures
        count while the breaker is closed, and the one that reaches the threshold trips it
        (once: a burst of failures across processes trips it once). Failures of calls that
        were already under way when it opened (anywhere) do not count."""
        rand = self.rand()  # the jitter of a rate limit that gave no Retry-After
        health, policy = ticket.health, self.policy
        health.counts["attempts"] += 1
        health.counts["failures"] += 1
        self._clear.pop(ticket.key, None)
        if ticket.cool_key is not None:
            self._clear.pop(ticket.cool_key, None)
        self._epoch[ticket.key] = self._epoch.get(ticket.key, 0) + 1
        keys, cools = self._split(ticket.key, ticket.cool_key)
        if rate_limited:
            limits = await self.store.incr(cools["rl"], STATE_HEALTH_TTL)
            if retry_after is not None:
                wait = min(max(retry_after, 0.0), MAX_RETRY_AFTER)
            else:
                ceiling = min(
                    policy.rate_limit_cooldown_max,
                    policy.rate_limit_cooldown * 2 ** (min(limits, 64) - 1),
                )
                wait = rand * ceiling
            if wait > 0:
                await self.store.set(cools["cool"], b"1", wait)
                (ticket.cool or health).not_before = self.clock() + wait
            if ticket.probe_token is not None:  # a rate limit is no verdict on health
                await self.store.release(keys["probe"], ticket.probe_token)
            return
        if ticket.gate is Gate.PROBE:
            await self._trip(ticket, keys)
            return
        opened, tripped = await self.store.ttls(keys["open"], keys["trips"])
        if opened is not None or tripped is not None:
            return  # open or half-open already: this call was under way when it opened
        failures = await self.store.incr(keys["fail"], STATE_HEALTH_TTL)
        health.failures = failures
        # At or past the threshold (not only at it): a trip that was cut short (a cancelled
        # call, a slow Redis) must not leave the count past it and the breaker never open.
        # Concurrent failures past it may each trip; that only lengthens this cooldown.
        if failures >= max(1, policy.failure_threshold):
            await self._trip(ticket, keys)

    async def _trip(self, ticket: Ticket, keys: dict[str, str]) -> None:
        policy, health = self.policy, ticket.health
        trips = await self.store.incr(keys["trips"], STATE_HEALTH_TTL)
        cooldown = min(policy.cooldown_max, policy.cooldown * 2 ** (min(trips, 64) - 1))
        await self.store.set(keys["open"], b"1", cooldown)
        await self.store.delete(keys["fail"], keys["probe"])
        health.state, health.trips = BreakerState.OPEN, trips
        health.open_until, health.failures = self.clock() + cooldown, 0

    async def release(self, ticket: Ticket) -> None:
        if ticket.probe_token is not None:
            await self.store.release(self._keys(ticket.key)["probe"], ticket.probe_token)

    async def refresh(self, key: str) -> None:
        """Bring the local mirror of ``key`` up to the fleet's state (for reports)."""
        health = self.health_of(key)
        keys = self._keys(key)
        cool, opened, trips = await self.store.ttls(keys["cool"], keys["open"], keys["trips"])
        now = self.clock()
        health.not_before = now + cool if cool is not None else 0.0
        if opened is not None:
            health.state, health.open_until = BreakerState.OPEN, now + opened
        elif trips is not None:
            health.state = BreakerState.HALF_OPEN
        else:
            health.state = BreakerState.CLOSED
