"""One parametrised fixture: every test in this folder runs over the memory store and over a
real Redis (a ``redis-server`` started for the session, emptied between tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from chatbridge._state import MemoryStore, StateStore
from chatbridge._state._redis import RedisStore
from chatbridge.site import LocalSite, SiteConfig
from tests.redisd import RedisServer


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    try:
        server = RedisServer()
    except RuntimeError as error:
        pytest.fail(str(error))
    with server:
        yield server


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[StateStore]:
    made: StateStore
    if request.param == "memory":
        made = MemoryStore()
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        if server.process is None:  # a test killed it
            server.start()
        # Each call may take 5 s, not 0.25: a busy machine froze this process past 0.25 s
        # in the middle of a test about breakers, not about Redis's time limit (those
        # tests make a store of their own).
        made = RedisStore(server.url, timeout=5)
        await made._redis.flushdb()  # type: ignore[attr-defined]
    yield made
    await made.close()


@pytest.fixture
def fleet(store: StateStore) -> StateStore:
    """The store as several processes would share it: a memory store shared by several books
    in this process stands in for Redis shared by several processes."""
    store.shared = True
    return store


@pytest.fixture
async def site_url() -> AsyncIterator[str]:
    async with LocalSite(SiteConfig()) as url:
        yield url
