"""The server's per-key limits counted in a store shared by two apps (two processes)."""

from __future__ import annotations

import aiohttp

from chatbridge import AsyncClient
from chatbridge._state import StateStore
from chatbridge.server import ServerSettings, build_app
from chatbridge.server._limits import SharedLimits, limits_for
from tests.server.conftest import USER, post, running


async def test_a_key_limit_holds_across_two_servers(fleet: StateStore, site_url: str) -> None:
    settings = ServerSettings(api_keys=("k",), requests_per_minute=3)
    routes = {"default": [{"provider": "AIPower", "site_url": site_url}]}
    headers = {"Authorization": "Bearer k"}
    async with AsyncClient(routes=routes) as client:
        apps = [build_app(client, settings, limits=SharedLimits(fleet)) for _ in range(2)]
        async with running(apps[0]) as one, running(apps[1]) as two:
            async with aiohttp.ClientSession() as http:
                body = {"model": "default", "messages": USER}
                statuses = [
                    (await post(http, url, body, headers=headers))[0]
                    for url in (one, two, one, two, one)
                ]
    assert statuses == [200, 200, 200, 429, 429]


async def test_streams_are_counted_across_processes(fleet: StateStore) -> None:
    a, b = SharedLimits(fleet), SharedLimits(fleet)
    assert await a.open_stream("key", 2) and await b.open_stream("key", 2)
    assert not await a.open_stream("key", 2)
    await b.close_stream("key")
    assert await a.open_stream("key", 2)


def test_a_process_own_store_keeps_process_own_limits(store: StateStore) -> None:
    assert isinstance(limits_for(store), SharedLimits) is store.shared
