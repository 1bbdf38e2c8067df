"""Connections per host: the queue in front of the pool, and a session using it against a
real server on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from chatbridge import RequestTimeoutError, StreamSession
from chatbridge._http._slots import Slots, origin_of
from chatbridge._queueing import QUEUEING
from tests.conftest import serve_app

HOST = "http://a.example:80"


def test_the_origin_is_read_without_parsing_the_url() -> None:
    assert origin_of("HTTP://Site.Example:8080/wp-admin/x?y=1") == "http://site.example:8080"
    assert origin_of("https://site.example?q=/x") == "https://site.example"


async def test_waiters_are_served_in_order_and_the_count_is_exact() -> None:
    slots = Slots()
    first = slots.take_now(HOST, 1)
    assert first is not None and slots.take_now(HOST, 1) is None
    order: list[int] = []

    async def wait(number: int) -> None:
        key = await slots.wait(HOST, 1, None)
        order.append(number)
        await asyncio.sleep(0)
        slots.give(key)

    waiters = [asyncio.create_task(wait(n)) for n in range(3)]
    await asyncio.sleep(0)
    assert slots.take_now(HOST, 1) is None  # a newcomer does not jump the queue
    slots.give(first)
    await asyncio.gather(*waiters)
    assert order == [0, 1, 2] and slots.busy(HOST, 1) == 0
    assert slots._hosts == {}  # an idle host is forgotten


async def test_a_wait_out_of_time_is_a_timeout_and_costs_no_slot() -> None:
    slots = Slots()
    held = slots.take_now(HOST, 1)
    told: list[bool] = []
    token = QUEUEING.set(told.append)
    try:
        with pytest.raises(RequestTimeoutError, match="waiting for a free connection"):
            await slots.wait(HOST, 1, 0.01)
    finally:
        QUEUEING.reset(token)
    assert told == [True, False]
    assert held is not None
    slots.give(held)
    assert slots.busy(HOST, 1) == 0 and slots._hosts == {}


async def test_a_cancelled_waiter_handed_a_slot_passes_it_on() -> None:
    slots = Slots()
    held = slots.take_now(HOST, 1)
    assert held is not None
    first = asyncio.create_task(slots.wait(HOST, 1, None))
    second = asyncio.create_task(slots.wait(HOST, 1, None))
    await asyncio.sleep(0)
    slots.give(held)  # handed to the first waiter...
    first.cancel()  # ...which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await first
    key = await second
    assert slots.busy(HOST, 1) == 1
    slots.give(key)
    assert slots._hosts == {}


async def test_a_session_keeps_to_its_limit_and_a_request_may_say_its_own() -> None:
    active = most = 0
    arrived: asyncio.Queue[int] = asyncio.Queue()
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        nonlocal active, most
        active += 1
        most = max(most, active)
        arrived.put_nowait(active)
        await release.wait()
        active -= 1
        return web.Response(text="ok")

    async def in_flight(count: int) -> None:
        while await arrived.get() < count:
            pass

    app = web.Application()
    app.router.add_get("/", slow)
    async with serve_app(app) as url, StreamSession(connections_per_host=2) as session:

        async def get(**options: int) -> str:
            async with session.get(url + "/", **options) as response:
                return await response.text()

        calls = [asyncio.create_task(get()) for _ in range(5)]
        await in_flight(2)
        more = [asyncio.create_task(get(connections_per_host=4)) for _ in range(4)]
        await in_flight(6)
        release.set()
        answers = await asyncio.gather(*calls, *more)
    assert answers == ["ok"] * 9 and most == 6
