"""Tokens read back from a real ``redis-server`` obey the page rule: a well-formed token whose
chat endpoint is on another host is discarded and the page fetched again (the endpoint gets
nothing, not even the message), and tokens another process gave that then fail a chat are
dropped, so the next request fetches its own."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import aiohttp
import redis.asyncio as aioredis

from chatbridge._aipower._page import PageTokens
from chatbridge._aipower._shared import encode_tokens, site_key
from chatbridge._aipower._target import SiteTarget
from chatbridge.site import LocalSite, SiteConfig
from tests.redisd import RedisServer
from tests.server.conftest import USER, Served, post
from tests.server.test_ssrf import counting

Spawn = Callable[..., Served]


def _config(url: str) -> str:
    return (
        f'[routes.default]\ntargets = [{{ provider = "AIPower", site_url = "{url}" }}]\n'
        '[state]\nnamespace = "tokens-test"\n'
    )


async def _plant(redis_url: str, site: str, ajax_url: str) -> None:
    """A well-formed token for ``site`` in the deployment's namespace, as a process (or
    someone with access to Redis) could write it."""
    tokens = PageTokens(
        generation="legacy",
        nonce="0123456789",
        ajax_url=ajax_url,
        page_url=site + "/",
        legacy_version="1.8+",
        stream_hint=False,
    )
    key = f"chatbridge:v1:tokens-test:tokens:{site_key(SiteTarget(site))}"
    client = aioredis.Redis.from_url(redis_url)
    try:
        await client.set(key, encode_tokens(tokens, time.time()), px=60_000)
    finally:
        await client.aclose()


async def test_a_shared_token_with_a_foreign_endpoint_is_refetched(
    spawn_server: Spawn, redis_server: RedisServer
) -> None:
    site = LocalSite(SiteConfig())
    async with site as url, counting() as elsewhere:
        await _plant(redis_server.url, url, elsewhere.url + "/wp-admin/admin-ajax.php")
        served = await asyncio.to_thread(
            spawn_server, "--no-ui", "--redis", redis_server.url, config=_config(url)
        )
        async with aiohttp.ClientSession() as session:
            status, _, reply = await post(
                session, served.url, {"model": "default", "messages": USER}
            )
        assert status == 200, reply
        assert elsewhere.count == 0, elsewhere.paths  # the old code sent the chat there
        assert site.stats.page_fetches == 1 and site.stats.chat_requests == 1
        assert served.stop() == 0


async def test_shared_tokens_that_fail_a_chat_are_dropped(
    spawn_server: Spawn, redis_server: RedisServer
) -> None:
    site = LocalSite(SiteConfig())
    async with site as url:
        # Same origin, so adopted; but the endpoint is not the site's chat: every chat fails.
        await _plant(redis_server.url, url, url + "/wp-admin/no-such-endpoint.php")
        served = await asyncio.to_thread(
            spawn_server, "--no-ui", "--redis", redis_server.url, config=_config(url)
        )
        body = {"model": "default", "messages": USER}
        async with aiohttp.ClientSession() as session:
            statuses = [(await post(session, served.url, body))[0] for _ in range(2)]
        # The first call may fail (and fail over within the route); the next one is
        # answered from tokens this process fetched itself. The old code kept failing.
        assert statuses[-1] == 200, statuses
        assert site.stats.page_fetches == 1
        assert served.stop() == 0
