"""Circuit breakers shared through a store: two health books are two processes."""

from __future__ import annotations

import asyncio
import contextlib

from chatbridge import Policy
from chatbridge._client._health import Gate, HealthBook
from chatbridge._state import StateStore


def books(store: StateStore, n: int = 2, **policy: float) -> list[HealthBook]:
    made = Policy(**policy)  # type: ignore[arg-type]
    return [HealthBook(made, state=store, rand=lambda: 0.5) for _ in range(n)]


async def gates(book: HealthBook, key: str = "t") -> Gate:
    return (await book.admit(key)).gate


async def test_failures_seen_by_any_process_count_together(fleet: StateStore) -> None:
    a, b = books(fleet, failure_threshold=3, cooldown=5)
    await a.failed(await a.admit("t"))
    await b.failed(await b.admit("t"))
    assert await gates(a) is Gate.PASS and await gates(b) is Gate.PASS
    await b.succeeded(await b.admit("t"))  # a success anywhere resets the count
    for book in (a, b, a):
        await book.failed(await book.admit("t"))
    assert await gates(a) is Gate.OPEN and await gates(b) is Gate.OPEN  # open everywhere
    assert await gates(a, "other") is Gate.PASS
    assert a.snapshot()["t"]["state"] == "open"


async def test_half_open_lets_one_probe_run_fleet_wide(fleet: StateStore) -> None:
    fleet_books = books(fleet, 4, failure_threshold=1, cooldown=0.1, cooldown_max=0.4)
    first = fleet_books[0]
    await first.failed(await first.admit("t"))
    assert {await gates(book) for book in fleet_books} == {Gate.OPEN}
    await asyncio.sleep(0.15)
    tickets = await asyncio.gather(*(book.admit("t") for book in fleet_books * 2))
    assert [t.gate for t in tickets].count(Gate.PROBE) == 1
    assert {t.gate for t in tickets} == {Gate.PROBE, Gate.BUSY}
    probe = next(t for t in tickets if t.gate is Gate.PROBE)
    index = tickets.index(probe) % len(fleet_books)
    await fleet_books[index].failed(probe)  # the probe fails: open again, longer
    left = (await fleet.ttls(next(iter(k for k in _keys(probe.key) if k.endswith("open")))))[0]
    assert left is not None and 0.1 < left <= 0.2
    await asyncio.sleep(0.25)
    again = await asyncio.gather(*(book.admit("t") for book in fleet_books))
    assert [t.gate for t in again].count(Gate.PROBE) == 1
    winner = next(i for i, t in enumerate(again) if t.gate is Gate.PROBE)
    await fleet_books[winner].succeeded(again[winner])
    assert {await gates(book) for book in fleet_books} == {Gate.PASS}


async def test_a_released_probe_lets_another_process_probe(fleet: StateStore) -> None:
    a, b = books(fleet, failure_threshold=1, cooldown=0.05)
    await a.failed(await a.admit("t"))
    await asyncio.sleep(0.08)
    probe = await a.admit("t")
    assert probe.gate is Gate.PROBE and await gates(b) is Gate.BUSY
    await a.released(probe)
    assert await gates(b) is Gate.PROBE


async def test_a_rate_limit_cools_the_target_everywhere(fleet: StateStore) -> None:
    a, b = books(fleet, failure_threshold=10)
    await a.failed(await a.admit("t"), retry_after=0.1, rate_limited=True)
    ticket = await b.admit("t")
    assert ticket.gate is Gate.COOLING and ticket.available_at > b.clock()
    await asyncio.sleep(0.15)
    assert await gates(b) is Gate.PASS


async def test_without_a_shared_store_the_book_is_the_process_own(store: StateStore) -> None:
    a, b = books(store, failure_threshold=1)  # a plain memory store is not shared; Redis is
    await a.failed(await a.admit("t"))
    assert await gates(a) is Gate.OPEN
    assert await gates(b) is (Gate.OPEN if store.shared else Gate.PASS)
    assert a.shared is store.shared


def _keys(key: str) -> list[str]:
    from chatbridge._client._fleet import FleetHealth

    return list(FleetHealth._keys(key).values())


async def test_an_open_breaker_reaches_a_process_with_an_all_clear_within_0_1_s(
    fleet: StateStore,
) -> None:
    a, b = books(fleet, failure_threshold=1, cooldown=30)
    assert await gates(b) is Gate.PASS  # b found nothing recorded: trusted for 0.1 s
    await a.failed(await a.admit("t"))
    assert await gates(a) is Gate.OPEN  # at once where it failed
    await asyncio.sleep(0.12)
    assert await gates(b) is Gate.OPEN  # and everywhere within 0.1 s


async def test_a_burst_of_failures_across_processes_trips_once(fleet: StateStore) -> None:
    fleet_books = books(fleet, 4, failure_threshold=2, cooldown=5, cooldown_max=60)
    tickets = [await book.admit("t") for book in fleet_books * 2]  # all under way at once
    assert {t.gate for t in tickets} == {Gate.PASS}
    for index, ticket in enumerate(tickets):
        await fleet_books[index % 4].failed(ticket)
    assert {await gates(book) for book in fleet_books} == {Gate.OPEN}
    left = (await fleet.ttls(*[k for k in _keys("t") if k.endswith(":open")]))[0]
    assert left is not None and 4 < left <= 5  # one trip: the first cooldown, not doubled


async def test_a_rate_limit_does_not_count_toward_the_breaker(fleet: StateStore) -> None:
    a, b = books(fleet, failure_threshold=1)
    await a.failed(await a.admit("t"), retry_after=0.05, rate_limited=True)
    await asyncio.sleep(0.08)
    assert await gates(b) is Gate.PASS  # cooled down, never opened


def _key(key: str, part: str) -> str:
    from chatbridge._client._fleet import FleetHealth

    return FleetHealth._keys(key)[part]


async def test_a_count_left_past_the_threshold_still_trips(fleet: StateStore) -> None:
    """A trip cut short (a cancelled call, a slow store) must not leave the breaker off."""
    (a,) = books(fleet, 1, failure_threshold=2, cooldown=5)
    for _ in range(3):  # failures counted, but nobody finished the trip
        await fleet.incr(_key("t", "fail"), 60)
    await a.failed(await a.admit("t"))
    assert await gates(a) is Gate.OPEN


async def test_a_success_clears_failures_recorded_while_it_ran(fleet: StateStore) -> None:
    (a,) = books(fleet, 1, failure_threshold=2, cooldown=5)
    assert await gates(a) is Gate.PASS  # the all-clear is cached now
    long_call = await a.admit("t")  # admitted while nothing was recorded
    await a.failed(await a.admit("t"))  # another call fails meanwhile
    await a.succeeded(long_call)  # the long call answers: the count starts again
    await a.failed(await a.admit("t"))
    assert await gates(a) is Gate.PASS


async def test_a_probe_lease_lasts_the_calls_own_time(fleet: StateStore) -> None:
    a, b = books(fleet, failure_threshold=1, cooldown=0.05, timeout=1)
    await a.failed(await a.admit("t"))
    await asyncio.sleep(0.08)
    probe = await a.admit("t", lease=3.0)
    assert probe.gate is Gate.PROBE
    (left,) = await fleet.ttls(_key("t", "probe"))
    assert left is not None and left > 2
    await asyncio.sleep(0.05)
    assert await gates(b) is Gate.BUSY
    await a.released(probe)


async def test_a_probe_taken_by_a_cancelled_admit_is_given_back(fleet: StateStore) -> None:
    class Slow:
        """The store, answering the probe's lease slowly."""

        def __init__(self, inner: StateStore) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

        async def acquire(self, key: str, ttl: float) -> str | None:
            token = await self.inner.acquire(key, ttl)
            await asyncio.sleep(0.2)
            return token

    made = Policy(failure_threshold=1, cooldown=0.05)
    a = HealthBook(made, state=Slow(fleet))  # type: ignore[arg-type]
    (b,) = books(fleet, 1, failure_threshold=1, cooldown=0.05)
    await a.failed(await a.admit("t"))
    await asyncio.sleep(0.08)
    admitting = asyncio.create_task(a.admit("t"))
    await asyncio.sleep(0.05)
    admitting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await admitting
    assert await gates(b) is Gate.PROBE  # the lease was given back


async def test_availability_is_read_from_the_fleet(fleet: StateStore) -> None:
    a, b = books(fleet, failure_threshold=1, cooldown=5)
    assert await a.available("t")
    await b.failed(await b.admit("t"))  # another process opens it
    assert not await a.available("t")


async def test_a_report_shows_what_the_fleet_knows(fleet: StateStore) -> None:
    a, b = books(fleet, failure_threshold=1, cooldown=5)
    await b.failed(await b.admit("t"))  # another process opens it
    await a.refreshed(["t"])
    assert a.snapshot()["t"]["state"] == "open"


async def test_a_rate_limit_cools_the_model_and_a_dead_host_the_endpoint(
    fleet: StateStore,
) -> None:
    """Two models on one endpoint and key: a 429 on one cools that model only, everywhere;
    failures of either count toward the one breaker of the endpoint."""
    a, b = books(fleet, failure_threshold=2, cooldown=5)
    ticket = await a.admit("e", cool_key="e|small")
    await a.failed(ticket, retry_after=30, rate_limited=True)
    assert (await b.admit("e", cool_key="e|small")).gate is Gate.COOLING
    assert (await b.admit("e", cool_key="e|big")).gate is Gate.PASS
    assert not await b.available("e", "e|small") and await b.available("e", "e|big")
    await b.failed(await b.admit("e", cool_key="e|big"))
    await a.failed(await a.admit("e", cool_key="e|big"))
    assert (await a.admit("e", cool_key="e|big")).gate is Gate.OPEN  # the host's breaker
    assert (await b.admit("e", cool_key="e|other")).gate is Gate.OPEN
