"""Balancing: the order in which a call asks the targets of its route that breakers and
cool-downs leave it (``Route.strategy``), and what each target carries for that: its calls in
flight (with its cap, ``max_concurrent``) and its time to first token.

The breakers act first: a target they would not let through now goes to the end of the
order, in the route's order (the router records why it is skipped). The strategy orders the
rest:

- ``ordered``: the route's order (the default; nothing is counted for it in the store);
- ``round_robin``: a position counter rotates the ready targets, one step per call;
- ``weighted``: the same counter walks a smooth weighted schedule of the ready targets
  (each target ``weight`` times in a period, spread out); the rest follow, heaviest first;
- ``least_busy``: fewest calls in flight first, ties at random;
- ``latency``: lowest moving average of time to first token first (those within 25 % and
  2 ms of the fastest share the calls at random). An average lives
  ``BALANCE_LATENCY_MEMORY`` seconds after its last sample, so a target that was left alone
  (too slow, or failing) is forgotten and then tried first by one call (a lease), which is
  how a recovered target comes back.

Every counter lives behind the state interface: in this process's memory, or in Redis when
the health book has a shared store, so several processes balance as one. Time and chance
come from the health book (its ``clock`` and ``rand``). The shares, calls in flight and
latencies shown in reports are this process's (:meth:`Balancer.loads`), or the fleet's where
the store holds them (:meth:`Balancer.fleet_loads`: with a shared store, the answers of a
route balanced by a strategy are counted there too, a process's answers of each second in
one write, off the calls' path).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .._constants import (
    BALANCE_COUNTER_TTL,
    BALANCE_EXPLORE_LEASE,
    BALANCE_LATENCY_MEMORY,
    BALANCE_LATENCY_WEIGHT,
    BALANCE_SHARE_FLUSH,
)
from .._state import StateStore, StateUnavailable
from ._config import Route, Target

if TYPE_CHECKING:
    from ._attempt import TargetAttempt
    from ._call_state import CallState
    from ._health import HealthBook

__all__ = ["Balancer", "Load", "planned_shares", "schedule"]

#: A target whose latency estimate is within this factor of the fastest's (plus the slack,
#: seconds) is as good as the fastest: they share the calls at random.
LATENCY_NEAR = 1.25
LATENCY_SLACK = 0.002


@dataclass(slots=True)
class Load:
    """What this process saw of one target: answers, calls in flight, and the moving
    average of its time to first token (seconds)."""

    answered: int = 0
    in_flight: int = 0
    latency: float | None = None


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


@lru_cache(maxsize=256)
def schedule(weights: tuple[int, ...]) -> tuple[int, ...]:
    """One period of a smooth weighted round robin: index ``i`` appears ``weights[i]`` times,
    spread out (each step, every index gains its weight; the richest goes and pays the
    total)."""
    total = sum(weights)
    gained = [0] * len(weights)
    order = []
    for _ in range(total):
        for index, weight in enumerate(weights):
            gained[index] += weight
        best = max(range(len(weights)), key=gained.__getitem__)
        gained[best] -= total
        order.append(best)
    return tuple(order)


class Balancer:
    """A route's order by its strategy, and each target's calls in flight and latency."""

    def __init__(self, health: HealthBook) -> None:
        self.store: StateStore = health.store
        self.breakers = health.breakers
        self.clock = health.clock
        self.rand = health.rand
        #: This process's view of each target, by ``Target.cool_key``.
        self.loads_by_key: dict[str, Load] = {}
        self._ids: dict[str, str] = {}
        #: Slots a least-busy order opened for the target it chose, by call (``enter``
        #: takes it; ``unused`` closes it when the target is not asked after all).
        self._opened: dict[int, tuple[int, str]] = {}
        #: Answers given here and not yet added to a shared store, and the task that will
        #: (``_count_answer``).
        self._unsent: dict[str, dict[str, int]] = {}
        self._sender: asyncio.Future[None] | None = None
        self._strategies: dict[str, Callable[[CallState, list[int]], Awaitable[list[int]]]] = {
            "round_robin": self._round_robin,
            "weighted": self._weighted,
            "least_busy": self._least_busy,
            "latency": self._latency,
        }

    def _id(self, key: str) -> str:
        found = self._ids.get(key)
        if found is None:
            if len(self._ids) >= 4096:
                self._ids.clear()
            found = self._ids[key] = _digest(key)
        return found

    def load(self, target: Target) -> Load:
        load = self.loads_by_key.get(target.cool_key)
        if load is None:
            load = self.loads_by_key[target.cool_key] = Load()
        return load

    # The order of a round.

    async def order(self, call: CallState) -> list[int]:
        """The places of the targets this call may still ask, in the order to ask them: the
        ready ones by the route's strategy, then those the breakers hold back (and those
        that cannot call the tools the request carries)."""
        route, model = call.route, call.model
        ready: list[int] = []
        resting: list[int] = []
        for index, target in enumerate(route.targets):
            if index in call.failed:
                continue
            if call.tools and not target.takes_tools:  # (skipped by the router: not ordered)
                resting.append(index)
                continue
            free = await self.breakers.available(target.key, target.cool_key_for(model))
            (ready if free else resting).append(index)
        if len(ready) > 1:
            ready = await self._strategies[route.strategy](call, ready)
        return ready + resting

    def _route_id(self, route: Route) -> str:
        return self._id(route.name + "|" + "|".join(t.cool_key for t in route.targets))

    def _route_key(self, route: Route) -> str:
        return "balance:rr:" + self._route_id(route)

    def _answers_key(self, route: Route) -> str:
        """The route's answers by target place, counted by every process of a fleet."""
        return "balance:answers:" + self._route_id(route)

    async def _round_robin(self, call: CallState, ready: list[int]) -> list[int]:
        route = call.route
        step = (await self.store.incr(self._route_key(route), BALANCE_COUNTER_TTL) - 1) % len(ready)
        return ready[step:] + ready[:step]

    async def _weighted(self, call: CallState, ready: list[int]) -> list[int]:
        route = call.route
        weights = tuple(route.targets[index].weight for index in ready)
        period = schedule(weights)
        position = await self.store.incr(self._route_key(route), BALANCE_COUNTER_TTL)
        first = ready[period[(position - 1) % len(period)]]
        rest = sorted((i for i in ready if i != first), key=lambda i: -route.targets[i].weight)
        return [first, *rest]

    async def _least_busy(self, call: CallState, ready: list[int]) -> list[int]:
        """Fewest calls in flight first, ties at random. The first one's slot is opened in
        the same step as the counts are read (one round trip to a shared store), for
        :meth:`enter` to take."""
        targets = call.route.targets
        turn = int(self.rand() * len(ready))  # ties go to the first: from a random place
        shuffled = ready[turn:] + ready[:turn]
        keys = [self._busy_key(targets[index]) for index in shuffled]
        mosts = [targets[index].max_concurrent for index in shuffled]
        chosen, slot, counts = await self.store.open_least(keys, mosts, _lease(call))
        if chosen is not None and slot is not None:
            if len(self._opened) >= 4096:  # left by calls out of time before asking: they
                self._opened.clear()  # expire with their lease
            self._opened[id(call)] = (shuffled[chosen], slot)
        ranked = sorted(range(len(shuffled)), key=counts.__getitem__)
        if chosen is not None:
            ranked.remove(chosen)
            ranked.insert(0, chosen)
        return [shuffled[i] for i in ranked]

    async def _latency(self, call: CallState, ready: list[int]) -> list[int]:
        route = call.route
        keys = [self._latency_key(route.targets[index]) for index in ready]
        estimates = await self.store.averages(*keys)
        known = sorted(
            (estimate, index)
            for estimate, index in zip(estimates, ready, strict=True)
            if estimate is not None
        )
        if known:  # those about as fast as the fastest share the calls, at random
            near = known[0][0] * LATENCY_NEAR + LATENCY_SLACK
            ties = {index: self.rand() if estimate <= near else 1.0 + estimate
                    for estimate, index in known}  # fmt: skip
            known.sort(key=lambda pair: ties[pair[1]])
        first: list[int] = []
        later: list[int] = []
        for estimate, index in zip(estimates, ready, strict=True):
            if estimate is not None:
                continue
            if not first:  # one exploration per call: the first target free to explore
                explore = "balance:explore:" + self._id(route.targets[index].cool_key)
                if await self.store.acquire(explore, BALANCE_EXPLORE_LEASE) is not None:
                    first.append(index)
                    continue
            later.append(index)
        return first + [index for _, index in known] + later

    def _busy_key(self, target: Target) -> str:
        return "balance:busy:" + self._id(target.cool_key)

    def _latency_key(self, target: Target) -> str:
        return "balance:ttft:" + self._id(target.cool_key)

    # A target's calls in flight.

    @staticmethod
    def counts_in_store(route: Route, target: Target) -> bool:
        """Are the target's calls in flight counted in the store (least busy, or a cap)?"""
        return route.strategy == "least_busy" or target.max_concurrent > 0

    async def enter(self, call: CallState, index: int, target: Target) -> str | None:
        """A call begins with ``target`` (its place ``index``): its slot in the store (``""``
        when not counted there), or ``None`` when the target is at its ``max_concurrent``
        (then it is not counted: the call skips it)."""
        slot = ""
        opened = self._opened.pop(id(call), None) if self._opened else None
        if opened is not None and opened[0] == index:
            slot = opened[1]
        elif self.counts_in_store(call.route, target):
            if opened is not None:  # (opened for another target, which was passed over)
                await self.unused_slot(call.route.targets[opened[0]], opened[1])
            found = await self.store.open_slot(
                self._busy_key(target), target.max_concurrent, _lease(call)
            )
            if found is None:
                return None
            slot = found
        self.load(target).in_flight += 1
        return slot

    async def unused(self, call: CallState, index: int) -> None:
        """``index`` will not be asked by this call now (skipped): a slot opened for it
        while ordering is closed."""
        opened = self._opened.get(id(call)) if self._opened else None
        if opened is not None and opened[0] == index:
            del self._opened[id(call)]
            await self.unused_slot(call.route.targets[index], opened[1])

    async def unused_slot(self, target: Target, slot: str) -> None:
        work = self.store.close_slot(self._busy_key(target), slot)
        await (_shielded(work) if self.store.shared else work)

    async def leave(self, attempt: TargetAttempt) -> None:
        """The attempt is over: its slot closed (even while the call is being cancelled),
        and what it showed of the target's time to first token kept."""
        target = attempt.target
        load = self.load(target)
        load.in_flight -= 1
        if attempt.answered:
            load.answered += 1
        sample = self._sample(attempt)
        if sample is not None:
            old = load.latency
            load.latency = sample if old is None else old + BALANCE_LATENCY_WEIGHT * (sample - old)
        slot, route = attempt.slot, attempt.call.route
        if attempt.answered and self.store.shared and route.strategy != "ordered":
            self._count_answer(route, attempt.index)
        if slot or (sample is not None and route.strategy == "latency"):
            work = self._record(target, slot, sample if route.strategy == "latency" else None)
            # A shared store's answer is awaited over the network, where the call may be
            # cancelled; memory answers without ever suspending, so nothing can cut it short.
            await (_shielded(work) if self.store.shared else work)

    async def _record(self, target: Target, slot: str, sample: float | None) -> None:
        if slot:
            await self.store.close_slot(self._busy_key(target), slot)
        if sample is not None:
            await self.store.average(
                self._latency_key(target), sample, BALANCE_LATENCY_WEIGHT, BALANCE_LATENCY_MEMORY
            )

    def _count_answer(self, route: Route, index: int) -> None:
        """Count an answer of a balanced route where the whole fleet sees it (its shares):
        kept here and added, with every other answer of the last
        :data:`BALANCE_SHARE_FLUSH` seconds, in one write off the calls' path."""
        fields = self._unsent.setdefault(self._answers_key(route), {})
        place = str(index)
        fields[place] = fields.get(place, 0) + 1
        if self._sender is None or self._sender.done():
            self._sender = asyncio.ensure_future(self._send_later())

    async def _send_later(self) -> None:
        await asyncio.sleep(BALANCE_SHARE_FLUSH)
        await asyncio.shield(self._send())  # (once taken out, the counts are sent)

    async def _send(self) -> None:
        """Add the answers counted here to the shared store (a store that fails it loses
        them: a share is a view, not a ledger)."""
        unsent, self._unsent = self._unsent, {}
        if unsent:
            with contextlib.suppress(StateUnavailable):
                await self.store.tally(unsent, BALANCE_COUNTER_TTL)

    async def aclose(self) -> None:
        """Add the answers not yet sent."""
        sender, self._sender = self._sender, None
        if sender is not None and not sender.done():
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
        await self._send()

    @staticmethod
    def _sample(attempt: TargetAttempt) -> float | None:
        """Its time to first text; for one that sent none and ran out of time, how long it
        was waited for (at least its limit: a slow target's average rises)."""
        if attempt.first_at is not None:
            return max(0.0, attempt.first_at - attempt.started)
        errors = attempt.call.errors
        if not attempt.answered and errors and isinstance(errors[-1], TimeoutError):
            return max(0.0, attempt.call.now() - attempt.started)
        return None

    # Reports.

    def loads(self, route: Route) -> dict[str, dict[str, Any]]:
        """Each target's share of the route's answers, calls in flight and latency, as this
        process saw them, by target label."""
        seen = [self.loads_by_key.get(target.cool_key, Load()) for target in route.targets]
        total = sum(load.answered for load in seen)
        return {
            target.label: {
                "share": round(load.answered / total, 4) if total else 0.0,
                "in_flight": load.in_flight,
                "latency": None if load.latency is None else round(load.latency, 4),
            }
            for target, load in zip(route.targets, seen, strict=True)
        }

    async def fleet_loads(self, route: Route) -> dict[str, dict[str, Any]]:
        """:meth:`loads`, with the fleet's shares, calls in flight and latencies where a
        shared store holds them (shares: a route balanced by a strategy; calls in flight:
        least busy or capped targets; latencies: a latency route)."""
        shown = self.loads(route)
        if self.store.shared and route.strategy != "ordered":
            key = self._answers_key(route)
            (answers,) = await self.store.tallies(key)
            unsent = self._unsent.get(key, {})  # (this process's, not yet sent)
            total = sum(answers.values()) + sum(unsent.values())
            for index, target in enumerate(route.targets):
                count = answers.get(str(index), 0) + unsent.get(str(index), 0)
                shown[target.label]["share"] = round(count / total, 4) if total else 0.0
        counted = [t for t in route.targets if self.counts_in_store(route, t)]
        if counted:
            counts = await self.store.slot_counts(*(self._busy_key(t) for t in counted))
            for target, count in zip(counted, counts, strict=True):
                shown[target.label]["in_flight"] = count
        if route.strategy == "latency":
            found = await self.store.averages(*(self._latency_key(t) for t in route.targets))
            for target, estimate in zip(route.targets, found, strict=True):
                shown[target.label]["latency"] = None if estimate is None else round(estimate, 4)
        return shown


def planned_shares(route: Route) -> Sequence[float | None]:
    """Each target's share of the route's calls while every target is healthy, by its
    strategy: all to the first (ordered), even (round robin), by weight (weighted), or
    ``None`` where the load decides (least busy, latency)."""
    count = len(route.targets)
    if route.strategy == "ordered":
        return [1.0 if index == 0 else 0.0 for index in range(count)]
    if route.strategy == "round_robin":
        return [round(1 / count, 4)] * count
    if route.strategy == "weighted":
        total = sum(target.weight for target in route.targets)
        return [round(target.weight / total, 4) for target in route.targets]
    return [None] * count


def _lease(call: CallState) -> float:
    """How long a slot of ``call`` counts at most: its time left, and a margin (a slot its
    process never closed stops counting then)."""
    return max(1.0, call.deadline - call.now()) + 5.0


async def _shielded(work: Awaitable[None]) -> None:
    """Finish ``work`` even when the caller is cancelled meanwhile (a slot left open would
    count a call that ended until its lease runs out)."""
    task = asyncio.ensure_future(work)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise
