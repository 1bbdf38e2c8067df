"""Connections per host, per target: a site gets no more than its target allows, and a call
that queues for one is judged by its own deadline alone (issue 17, item 8)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web

from chatbridge import (
    AllTargetsFailedError,
    AsyncClient,
    InvalidRequestError,
    OpenAICompatible,
    Policy,
)
from chatbridge._client._health import HealthBook
from chatbridge._constants import SITE_CONNECTIONS_PER_HOST
from chatbridge.site import SiteConfig
from chatbridge.site._app import build_app
from chatbridge.site._state import SiteState
from chatbridge.upstream import LocalUpstream, UpstreamConfig

from ..conftest import serve_app
from .wall import FULL, QUESTION


@asynccontextmanager
async def counted_site() -> AsyncIterator[tuple[str, dict[str, int]]]:
    """A local AI Power site whose chat replies each take 0.2 s; yields its URL and the most
    chat requests it had in flight at once (``counts["most"]``)."""
    counts = {"now": 0, "most": 0}
    app = build_app(
        SiteState(SiteConfig(faults=("slow",), fault_target="chat", slow_seconds=0.2))
    )

    @web.middleware
    async def count(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.method != "POST":
            return await handler(request)
        counts["now"] += 1
        counts["most"] = max(counts["most"], counts["now"])
        try:
            return await handler(request)
        finally:
            counts["now"] -= 1

    app.middlewares.insert(0, count)
    async with serve_app(app) as url:
        yield url, counts


@pytest.mark.parametrize("allowed", [None, 2])
async def test_a_site_gets_no_more_connections_than_its_target_allows(allowed: int | None) -> None:
    async with counted_site() as (url, counts):
        target: dict[str, Any] = {"provider": "AIPower", "site_url": url}
        if allowed is not None:
            target["connections_per_host"] = allowed
        client = AsyncClient(routes={"r": [target]}, health=HealthBook())
        calls = [
            client.chat.completions.create(model="r", messages=QUESTION) for _ in range(12)
        ]
        answers = await asyncio.gather(*calls)
    assert all(answer.choices[0].message.content for answer in answers)
    assert counts["most"] == (allowed or SITE_CONNECTIONS_PER_HOST)


async def test_a_call_out_of_time_in_the_queue_costs_the_target_nothing() -> None:
    upstream = LocalUpstream(UpstreamConfig(token_delay=0.05))
    async with upstream as url:
        target = {"provider": "OpenAICompatible", "base_url": url, "model": "m"}
        policy = Policy(failure_threshold=1)
        client = AsyncClient(
            routes={"r": [{**target, "connections_per_host": 1}]},
            policy=policy,
            health=HealthBook(policy),
        )
        holder = client.chat.completions.create(model="r", messages=QUESTION, stream=True)
        async with holder:
            await holder.__anext__()  # the one connection is taken
            with pytest.raises(AllTargetsFailedError, match="deadline passed") as info:
                await client.chat.completions.create(model="r", messages=QUESTION, timeout=0.3)
            breaker = client.health()["r"]
        answer = await client.chat.completions.create(model="r", messages=QUESTION)
    assert info.value.errors and isinstance(info.value.errors[0], TimeoutError)
    assert breaker[next(iter(breaker))]["state"] == "closed"
    assert answer.choices[0].message.content == FULL and upstream.stats.requests == 2


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "8", 10_001])
async def test_a_bad_connections_per_host_is_the_callers_mistake(bad: object) -> None:
    with pytest.raises(InvalidRequestError, match="connections_per_host"):
        async for _ in OpenAICompatible.create_async_generator(
            "m", QUESTION, base_url="http://127.0.0.1:9/v1", connections_per_host=bad
        ):
            pass
