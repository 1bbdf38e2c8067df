"""What ``AsyncClient.aclose()`` closes, and where connections live: one pool per event loop,
shared by every client on it, closed with the loop or by ``close_pool()``, never by a client."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from chatbridge import AsyncClient, close_pool
from chatbridge._http import _pool
from chatbridge.site import LocalSite

QUESTION = [{"role": "user", "content": "Who owns the connections?"}]


async def ask(client: AsyncClient) -> str:
    answer = await client.chat.completions.create(model="", messages=QUESTION)
    return answer.choices[0].message.content or ""


async def test_aclose_stops_the_built_in_site_it_started() -> None:
    client = AsyncClient()  # no provider, routes or config: the built-in local site
    answer = await client.chat.completions.create(model="default", messages=QUESTION)
    assert answer.choices[0].message.content
    assert answer.chatbridge is not None and answer.chatbridge.site is not None
    site = answer.chatbridge.site
    async with aiohttp.ClientSession() as session:
        async with session.get(site) as reply:
            assert reply.status == 200
        await client.aclose()
        with pytest.raises(aiohttp.ClientConnectionError):
            async with session.get(site):
                pass


async def test_clients_on_a_loop_share_its_pool_and_aclose_leaves_it_open() -> None:
    async with LocalSite() as url:
        first = AsyncClient(provider="AIPower", site_url=url)
        second = AsyncClient(provider="AIPower", site_url=url)
        assert await ask(first) and await ask(second)
        pool = _pool._pools[asyncio.get_running_loop()]
        assert not pool.direct.closed
        await first.aclose()
        assert not pool.direct.closed  # the loop's pool is not the client's to close
        assert await ask(second)
        assert _pool._pools[asyncio.get_running_loop()] is pool  # the same pool throughout
        await second.aclose()
        await close_pool()  # closing it is the loop's business, or the caller's
        assert pool.direct.closed
        assert asyncio.get_running_loop() not in _pool._pools


def test_each_event_loop_has_its_own_pool() -> None:
    async def pool_of_this_loop(url: str) -> object:
        client = AsyncClient(provider="AIPower", site_url=url)
        assert await ask(client)
        await client.aclose()
        return _pool._pools[asyncio.get_running_loop()]

    async def main() -> None:
        async with LocalSite() as url:
            here = await pool_of_this_loop(url)
            there = await asyncio.to_thread(asyncio.run, pool_of_this_loop(url))
            assert here is not there
            assert there.direct.closed  # type: ignore[attr-defined]  # closed with its loop

    asyncio.run(main())
