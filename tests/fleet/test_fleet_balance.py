"""Balancing and quotas across real ``chatbridge serve`` processes sharing one real
``redis-server``: four processes take turns as one, hold one target's cap together, show
the fleet's calls in flight, and count one key's quota and ledger together, across a Redis
restart, each request once."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import aiohttp

from chatbridge.upstream import Behaviour, LocalUpstream
from tests.fleet.conftest import Fleet
from tests.redisd import RedisServer
from tests.server.conftest import Served, post

QUESTION = [{"role": "user", "content": "Hello"}]


@asynccontextmanager
async def upstreams(count: int) -> AsyncIterator[list[tuple[LocalUpstream, str]]]:
    async with AsyncExitStack() as stack:
        started = []
        for _ in range(count):
            upstream = LocalUpstream()
            started.append((upstream, await stack.enter_async_context(upstream)))
        yield started


def target(url: str, name: str, **extra: Any) -> str:
    fields = "".join(f", {key} = {value}" for key, value in extra.items())
    return (
        f'{{ provider = "OpenAICompatible", base_url = "{url}", model = "{name}", '
        f'name = "{name}"{fields} }}'
    )


async def chat(
    session: aiohttp.ClientSession, served: Served, model: str, key: str | None = None
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {key}"} if key else None
    status, _, body = await post(
        session, served.url, {"model": model, "messages": QUESTION}, headers=headers
    )
    return status, body


async def get(session: aiohttp.ClientSession, url: str, key: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else None
    async with session.get(url, headers=headers) as response:
        assert response.status == 200, await response.text()
        if response.content_type == "application/json":
            return await response.json()
        return await response.text()


async def until(check: Any, seconds: float = 20) -> None:
    """Wait for ``await check()`` to be true (polled), at most ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await check():
        assert loop.time() < deadline, "the condition never held"
        await asyncio.sleep(0.05)


async def test_four_processes_take_turns_and_hold_a_cap_as_one(fleet: Fleet) -> None:
    async with upstreams(5) as started:
        (slow, _), *_ = started[4:]
        slow.set_plan([Behaviour("first_token_delay", seconds=3)])
        urls = [url for _, url in started]
        turns = ", ".join(target(url, f"m{n}") for n, url in enumerate(urls[:4]))
        capped = ", ".join([target(urls[4], "slow", max_concurrent=1), target(urls[0], "fast")])
        config = (
            f'[routes.rr]\nstrategy = "round_robin"\ntargets = [{turns}]\n'
            f"[routes.capped]\ntargets = [{capped}]\n"
        )
        servers = await fleet(config)
        async with aiohttp.ClientSession() as session:
            models = []
            for turn in range(16):
                status, body = await chat(session, servers[turn % 4], "rr")
                assert status == 200, body
                models.append(body["model"])
            # one rotation for the fleet: each process alone would answer m0, m0, m0, m0, m1…
            assert models == ["m0", "m1", "m2", "m3"] * 4

            held = asyncio.create_task(chat(session, servers[0], "capped"))

            async def slow_is_busy() -> bool:
                ready = await get(session, servers[1].url + "/health/ready")
                return bool(ready["routes"]["capped"]["slow"]["in_flight"] == 1)

            await until(slow_is_busy)  # another process sees the call in flight
            others = [await chat(session, served, "capped") for served in servers[1:]]
            metrics = await get(session, servers[0].url + "/metrics")
            status, first = await held

            async def fleet_shares() -> bool:  # (each process adds its answers each second)
                nonlocal ready
                ready = await get(session, servers[2].url + "/health/ready")
                shown = ready["routes"]["rr"]
                return [shown[f"m{n}"]["share"] for n in range(4)] == [0.25] * 4

            ready: Any = None
            await until(fleet_shares)
    assert status == 200 and first["model"] == "slow"
    assert [body["model"] for _, body in others] == ["fast"] * 3  # slow at its cap, skipped
    assert slow.stats.requests == 1
    assert 'chatbridge_target_in_flight{route="capped",target="slow"} 1.0' in metrics
    assert ready["routes"]["capped"]["slow"]["in_flight"] == 0
    shown = ready["routes"]["rr"]
    # the fleet's shares were shown (this process alone asked m2 only); its own latency
    assert shown["m2"]["latency"] is not None and shown["m2"]["latency"] >= 0


async def test_a_key_quota_and_ledger_hold_across_the_fleet_and_a_redis_restart(
    fleet: Fleet,
) -> None:
    """Two processes, a quota of 6 requests a day, Redis (every write on disk) killed after
    two requests and restarted after two more: the seventh is refused, and the ledger holds
    each of the six once."""
    server = (
        '[server]\napi_keys = ["k-user"]\nadmin_keys = ["k-admin"]\n'
        "[server.quotas]\ndefault = { requests_per_day = 6 }\n"
    )
    with RedisServer(persist=True) as redis:
        async with upstreams(1) as [(upstream, url)]:
            config = f"[routes.r]\ntargets = [{target(url, 'm')}]\n{server}"
            servers = await fleet(config, n=2, redis_url=redis.url)
            async with aiohttp.ClientSession() as session:

                refusal: list[Any] = []

                async def ask(served: Served) -> int:
                    status, headers, body = await post(
                        session,
                        served.url,
                        {"model": "r", "messages": QUESTION},
                        headers={"Authorization": "Bearer k-user"},
                    )
                    if status != 200:
                        refusal[:] = [headers, body]
                    return status

                async def usage(served: Served) -> Any:
                    return await get(session, served.url + "/v1/usage?days=1", "k-admin")

                async def shared_again() -> bool:
                    found = []
                    for served in servers:
                        await usage(served)  # reads the store: a process back on Redis
                        text = await get(session, served.url + "/metrics", "k-user")
                        found.append("chatbridge_state_shared 1.0" in text)
                    return all(found)

                statuses = [await ask(servers[0]), await ask(servers[1])]
                redis.kill()
                statuses += [await ask(servers[0]), await ask(servers[1])]  # counted apart
                redis.start()
                await until(shared_again)

                async def four_counted() -> bool:
                    report = await usage(servers[0])
                    return bool(report["keys"][0]["quota"]["requests_per_day"]["used"] == 4)

                await until(four_counted)  # (the first four, back in Redis)
                statuses += [await ask(servers[1]), await ask(servers[0]), await ask(servers[1])]

                async def ledger_written() -> bool:
                    report = await usage(servers[1])
                    return sum(row["requests"] for row in report["keys"][0]["days"]) >= 6

                await until(ledger_written)
                reports = [await usage(served) for served in servers]
                own = await get(session, servers[0].url + "/v1/usage?days=1", "k-user")
    assert statuses == [200] * 6 + [429], statuses
    headers, body = refusal
    assert body["error"]["code"] == "insufficient_quota"
    assert 0 < int(headers["Retry-After"]) <= 86400  # the UTC day's end
    assert upstream.stats.requests == 6
    for report in reports:
        (entry,) = report["keys"]
        assert entry["quota"]["requests_per_day"]["used"] == 6  # the refused one is not used
        rows = {(row["route"], row["target"]): row for row in entry["days"]}
        assert rows[("r", "m")]["requests"] == 6 and rows[("r", "m")]["errors"] == 0
    assert [entry["key"] for entry in own["keys"]] == [reports[0]["keys"][0]["key"]]
    assert re.fullmatch(r"key-[0-9a-f]{10}", own["keys"][0]["key"])
    for served in servers:
        assert "k-user" not in served.stderr() and "k-admin" not in served.stderr()
