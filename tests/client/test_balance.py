"""Balancing across a route's targets: the strategies, each target's cap, the reports, and
the breakers acting first, over real local upstreams (``chatbridge.upstream``)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import pytest

from chatbridge import AllTargetsFailedError, AsyncClient, Policy
from chatbridge._client._balance import schedule
from chatbridge._client._health import HealthBook
from chatbridge.upstream import Behaviour, LocalUpstream, UpstreamConfig

from .wall import QUESTION


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def upstreams(count: int, **config: Any) -> AsyncIterator[list[tuple[LocalUpstream, str]]]:
    async with AsyncExitStack() as stack:
        started = []
        for _ in range(count):
            upstream = LocalUpstream(UpstreamConfig(**config))
            started.append((upstream, await stack.enter_async_context(upstream)))
        yield started


def route(urls: list[str], strategy: str, **per_target: list[Any]) -> dict[str, Any]:
    targets = []
    for number, url in enumerate(urls):
        target = {"provider": "OpenAICompatible", "base_url": url, "model": f"m{number}"}
        target.update({name: values[number] for name, values in per_target.items()})
        targets.append(target)
    return {"targets": targets, "strategy": strategy}


async def answered_by(client: AsyncClient, calls: int, at_once: int = 1) -> Counter[str]:
    sites: Counter[str] = Counter()
    for _ in range(calls // at_once):
        answers = await asyncio.gather(
            *(client.chat.completions.create(model="r", messages=QUESTION) for _ in range(at_once))
        )
        sites.update(answer.model for answer in answers)
    return sites


async def in_flight(client: AsyncClient, index: int, count: int) -> None:
    """Wait until the route's target ``index`` has ``count`` calls in flight (as the store
    counts them), at most 10 s."""
    label = client.routes["r"].targets[index].label
    for _ in range(1000):
        if (await client.ahealth())["r"][label]["in_flight"] == count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never {count} calls in flight at {label}")


def test_a_smooth_weighted_schedule_spreads_each_weight() -> None:
    assert schedule((1, 1)) == (0, 1)
    period = schedule((1, 2, 3, 4))
    assert Counter(period) == {0: 1, 1: 2, 2: 3, 3: 4}
    assert period[:3] != (3, 3, 3)  # spread out, not in blocks
    assert Counter(schedule((5, 1))) == {0: 5, 1: 1}


async def test_round_robin_gives_each_target_its_turn() -> None:
    async with upstreams(4) as started:
        urls = [url for _, url in started]
        client = AsyncClient(routes={"r": route(urls, "round_robin")}, health=HealthBook())
        sites = await answered_by(client, 40)
        report = client.health()["r"]
    assert sites == {"m0": 10, "m1": 10, "m2": 10, "m3": 10}
    assert {round(shown["share"], 2) for shown in report.values()} == {0.25}
    assert all(shown["in_flight"] == 0 for shown in report.values())


async def test_weighted_follows_the_weights() -> None:
    async with upstreams(4) as started:
        urls = [url for _, url in started]
        routes = {"r": route(urls, "weighted", weight=[1, 2, 3, 4])}
        client = AsyncClient(routes=routes, health=HealthBook())
        sites = await answered_by(client, 100)
    assert sites == {"m0": 10, "m1": 20, "m2": 30, "m3": 40}


async def test_breakers_act_first_and_the_strategy_orders_the_rest() -> None:
    policy = Policy(failure_threshold=1, cooldown=60, retry_backoff=0)
    async with upstreams(3) as started:
        (down, _), *_ = started
        down.set_plan([Behaviour("status", status=404)])
        urls = [url for _, url in started]
        client = AsyncClient(
            routes={"r": route(urls, "round_robin")}, policy=policy, health=HealthBook(policy)
        )
        sites = await answered_by(client, 21)
    assert down.stats.requests == 1  # once, then its breaker is open: not in the rotation
    assert sites["m0"] == 0 and abs(sites["m1"] - sites["m2"]) <= 1


@pytest.mark.parametrize("strategy", ["round_robin", "weighted", "least_busy", "latency"])
async def test_a_failing_call_walks_the_rest_in_the_strategys_order_each_once(
    strategy: str,
) -> None:
    policy = Policy(failure_threshold=100, retry_backoff=0)
    async with upstreams(3) as started:
        for upstream, _ in started:
            upstream.set_plan([Behaviour("status", status=404)])
        urls = [url for _, url in started]
        routes = {"r": route(urls, strategy)}
        client = AsyncClient(routes=routes, policy=policy, health=HealthBook(policy))
        orders = []
        for _ in range(3):
            with pytest.raises(AllTargetsFailedError) as failed:
                await client.chat.completions.create(model="r", messages=QUESTION)
            orders.append([attempt.target for attempt in failed.value.attempts])
        asked = [upstream.stats.requests for upstream, _ in started]
    labels = [target.label for target in client.routes["r"].targets]
    assert all(sorted(order) == sorted(labels) for order in orders), orders  # each once
    assert asked == [3, 3, 3]
    if strategy == "round_robin":  # and in the rotation's order
        assert orders == [labels, labels[1:] + labels[:1], labels[2:] + labels[:2]]


async def test_least_busy_sends_fewer_calls_to_a_slow_target() -> None:
    async with upstreams(2) as started:
        (slow, _), _ = started
        slow.set_plan([Behaviour("first_token_delay", seconds=0.3)])
        urls = [url for _, url in started]
        client = AsyncClient(routes={"r": route(urls, "least_busy")}, health=HealthBook())
        workers = [asyncio.create_task(answered_by(client, 8)) for _ in range(6)]
        sites = sum((await asyncio.gather(*workers)), Counter())
    # a call the slow one holds keeps it busy, so the next ones go to the fast one
    assert sites["m0"] + sites["m1"] == 48 and sites["m0"] * 3 < sites["m1"]


async def test_latency_prefers_the_fastest_and_tries_a_forgotten_one_again() -> None:
    clock = Clock()
    async with upstreams(2) as started:
        (slow, _), _ = started
        slow.set_plan([Behaviour("first_token_delay", seconds=0.2)])
        urls = [url for _, url in started]
        book = HealthBook(clock=clock)
        client = AsyncClient(routes={"r": route(urls, "latency")}, health=book)
        first = await answered_by(client, 10)  # both explored once, then the fast one
        slow.set_plan([])  # the slow one recovers, but nobody asks it ...
        same = await answered_by(client, 5)
        clock.now += 31  # ... until its average is forgotten: one call tries it again
        again = await answered_by(client, 10)
        report = client.health()["r"]
    assert first == {"m0": 1, "m1": 9} and same == {"m1": 5}
    assert again["m0"] >= 1
    latencies = [shown["latency"] for shown in report.values()]
    assert all(value is not None and value >= 0 for value in latencies)


async def test_a_target_at_its_cap_is_skipped_not_waited_for() -> None:
    async with upstreams(2) as started:
        (capped, _), _ = started
        capped.set_plan([Behaviour("first_token_delay", seconds=0.3)])
        urls = [url for _, url in started]
        routes = {"r": route(urls, "ordered", max_concurrent=[1, 0])}
        client = AsyncClient(routes=routes, health=HealthBook())
        first = asyncio.create_task(client.chat.completions.create(model="r", messages=QUESTION))
        await in_flight(client, 0, 1)
        second = await client.chat.completions.create(model="r", messages=QUESTION)
        assert (await first).model == "m0"
        third = await client.chat.completions.create(model="r", messages=QUESTION)
    assert second.model == "m1" and third.model == "m0"
    assert second.chatbridge is not None
    skipped = second.chatbridge.attempts[0]
    assert (skipped.outcome, skipped.message) == ("skipped", "at its max_concurrent (1 calls)")


async def test_a_cancelled_call_frees_its_slot() -> None:
    async with upstreams(1) as started:
        ((only, url),) = started
        only.set_plan([Behaviour("first_token_delay", seconds=5)])
        routes = {"r": route([url], "least_busy", max_concurrent=[1])}
        client = AsyncClient(routes=routes, health=HealthBook())
        call = asyncio.create_task(client.chat.completions.create(model="r", messages=QUESTION))
        await in_flight(client, 0, 1)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        only.set_plan([])
        answer = await client.chat.completions.create(model="r", messages=QUESTION)
        report = await client.ahealth()
    assert (
        answer.model == "m0" and report["r"][client.routes["r"].targets[0].label]["in_flight"] == 0
    )


async def test_a_cap_above_the_connections_per_host_queues_inside_it_and_skips_past_it() -> None:
    """``max_concurrent`` counts calls, ``connections_per_host`` connections: two calls
    under a cap of 2 share one connection in turn (the second queues, not failed over:
    the queue is not the target's slowness), and a third, past the cap, goes elsewhere."""
    async with upstreams(2) as started:
        (slow, _), (other, _) = started
        slow.set_plan([Behaviour("first_token_delay", seconds=0.5)])
        urls = [url for _, url in started]
        routes = {"r": route(urls, "ordered", max_concurrent=[2, 0], connections_per_host=[1, 8])}
        client = AsyncClient(routes=routes, health=HealthBook())
        calls = [
            asyncio.create_task(client.chat.completions.create(model="r", messages=QUESTION))
            for _ in range(2)
        ]
        await in_flight(client, 0, 2)
        third = await client.chat.completions.create(model="r", messages=QUESTION)
        answers = await asyncio.gather(*calls)
    assert [answer.model for answer in answers] == ["m0", "m0"] and third.model == "m1"
    assert slow.stats.requests == 2 and slow.stats.most_active == 1
    assert other.stats.requests == 1


@pytest.mark.parametrize("strategy", ["round_robin", "least_busy"])
async def test_a_request_with_tools_is_balanced_over_the_targets_that_can_call_them(
    strategy: str,
) -> None:
    """The tool filter acts before the strategy: a site target that cannot call tools is
    not part of the rotation (round robin: the two others take turns, not two in three to
    the one after it) and never gets a least-busy slot it would not use."""
    tool = {
        "type": "function",
        "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}},
    }
    async with upstreams(2) as started:
        site = {"provider": "AIPower", "site_url": "http://127.0.0.1:9", "name": "site"}
        targets = [site, *route([url for _, url in started], strategy)["targets"]]
        routes = {"r": {"targets": targets, "strategy": strategy, "fail_over_on": []}}
        client = AsyncClient(routes=routes, health=HealthBook())
        for _ in range(8):
            await client.chat.completions.create(model="r", messages=QUESTION, tools=[tool])
        report = await client.ahealth()
    asked = [upstream.stats.requests for upstream, _ in started]
    assert sum(asked) == 8
    if strategy == "round_robin":
        assert asked == [4, 4]
    assert all(shown["in_flight"] == 0 for shown in report["r"].values()), report
