"""Balancing shared through a store: two clients with books over one store are two
processes of a fleet, and balance as one."""

from __future__ import annotations

import asyncio
from collections import Counter

from chatbridge import AsyncClient
from chatbridge._client._health import HealthBook
from chatbridge._state import StateStore
from chatbridge.upstream import Behaviour, LocalUpstream

QUESTION = [{"role": "user", "content": "Hello"}]


def _route(urls: list[str], strategy: str, **extra: object) -> dict[str, object]:
    targets = [
        {"provider": "OpenAICompatible", "base_url": url, "model": f"m{n}", **extra}
        for n, url in enumerate(urls)
    ]
    return {"targets": targets, "strategy": strategy}


async def test_two_processes_take_turns_as_one(fleet: StateStore) -> None:
    async with LocalUpstream() as a, LocalUpstream() as b, LocalUpstream() as c:
        routes = {"r": _route([a, b, c], "round_robin")}
        clients = [AsyncClient(routes=routes, health=HealthBook(state=fleet)) for _ in range(2)]
        models = []
        for turn in range(12):
            answer = await clients[turn % 2].chat.completions.create(model="r", messages=QUESTION)
            models.append(answer.model)
    # one rotation for both: each process alone would have seen m0, m0, m1, m1, ...
    assert models == ["m0", "m1", "m2"] * 4


async def test_a_cap_holds_across_processes(fleet: StateStore) -> None:
    slow, other = LocalUpstream(), LocalUpstream()
    async with slow as a, other as b:
        slow.set_plan([Behaviour("first_token_delay", seconds=0.4)])
        routes = {"r": _route([a, b], "least_busy", max_concurrent=1)}
        books = [HealthBook(state=fleet, rand=lambda: 0.0) for _ in range(2)]  # ties: in order
        one, two = (AsyncClient(routes=routes, health=book) for book in books)
        held = asyncio.create_task(one.chat.completions.create(model="r", messages=QUESTION))
        label = two.routes["r"].targets[0].label
        for _ in range(1000):  # until the other process sees the call in flight
            seen = await two.ahealth()
            if seen["r"][label]["in_flight"] == 1:
                break
            await asyncio.sleep(0.01)
        answers = [
            await two.chat.completions.create(model="r", messages=QUESTION) for _ in range(3)
        ]
        first = await held
    labels = [t.label for t in two.routes["r"].targets]
    assert first.model == "m0" and seen["r"][labels[0]]["in_flight"] == 1
    assert Counter(answer.model for answer in answers) == {"m1": 3}  # m0 is at its cap


async def test_the_fleets_shares_count_every_processs_answers(fleet: StateStore) -> None:
    async with LocalUpstream() as a, LocalUpstream() as b:
        routes = {"r": _route([a, b], "round_robin")}
        one, two, reader = (
            AsyncClient(routes=routes, health=HealthBook(state=fleet)) for _ in range(3)
        )
        for _ in range(3):  # one asks m0 each time, two asks m1: each alone shows 100 %
            await one.chat.completions.create(model="r", messages=QUESTION)
            await two.chat.completions.create(model="r", messages=QUESTION)
        await one.aclose()  # what a process has not sent yet goes when it closes
        await two.aclose()
        seen = (await reader.ahealth())["r"]
    labels = [t.label for t in reader.routes["r"].targets]
    assert [seen[label]["share"] for label in labels] == [0.5, 0.5]
    assert one.health()["r"][labels[0]]["share"] == 1.0  # health(): this process's own
