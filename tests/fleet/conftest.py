"""The fleet under test: real ``chatbridge serve`` processes sharing a real ``redis-server``
(started here on a free port, in a temporary directory), in front of local AI Power sites."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import pytest

from tests.redisd import RedisServer
from tests.server.conftest import Served, post, spawn_server

__all__ = ["Fleet", "ask", "spawn_server"]

Fleet = Callable[..., Awaitable[list[Served]]]
#: Each Redis call of a fleet's process may take this long (``[state] timeout``). A busy
#: machine freezes a process for half a second at times; past the default 0.25 s the process
#: serves from its own memory for a second, as documented, and fetches a site's page itself:
#: a count of fetches fleet-wide would then take the machine's load for a fault.
PATIENT = "timeout = 5\n"


def patient(config: str) -> str:
    """``config`` with :data:`PATIENT` in its ``[state]`` table (added if it has none)."""
    if "[state]\n" in config:
        return config.replace("[state]\n", "[state]\n" + PATIENT, 1)
    return f"{config}\n[state]\n{PATIENT}"


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    try:
        server = RedisServer()
    except RuntimeError as error:
        pytest.fail(str(error))
    with server:
        yield server


@pytest.fixture
def fleet(spawn_server: Callable[..., Served], redis_server: RedisServer) -> Fleet:
    """``await fleet(config_toml, n=4)``: n server processes sharing the test's Redis, each
    Redis call allowed 5 s (:func:`patient`)."""

    async def start(config: str, n: int = 4, redis_url: str | None = None) -> list[Served]:
        url = redis_url or redis_server.url
        return list(
            await asyncio.gather(
                *(
                    asyncio.to_thread(spawn_server, "--redis", url, config=patient(config))
                    for _ in range(n)
                )
            )
        )

    return start


async def ask(
    session: aiohttp.ClientSession,
    served: Served,
    messages: list[dict[str, str]],
    **kwargs: Any,
) -> tuple[int, Any]:
    status, _, body = await post(
        session, served.url, {"model": "default", "messages": messages}, **kwargs
    )
    return status, body


def answer(body: Any) -> str:
    text: str = body["choices"][0]["message"]["content"]
    return text
