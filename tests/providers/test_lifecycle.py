"""The nonce lifecycle, page caches, upgrades, concurrency and requests per message."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import web

from chatbridge import AIPower, NonceError
from tests.conftest import serve_app
from tests.providers.conftest import SiteFactory, assistant, user
from tests.providers.test_generations import GENERATIONS, history_turns


@pytest.mark.parametrize("generation", GENERATIONS)
async def test_rotated_nonce_is_refreshed_and_retried_once(
    local_site: SiteFactory, generation: str
) -> None:
    site, url = await local_site(generation=generation)
    client = AIPower.site(url)
    await AIPower.create_async("", [user("before")], site_url=url)
    old_nonce = client.tokens.nonce if client.tokens else None
    site.advance_ticks(2)  # 12-24 h later: the cached nonce is dead
    answer = await AIPower.create_async("", [user("after")], site_url=url)
    assert "Echo: after" in answer
    assert site.stats.nonce_failures == 1
    assert client.tokens is not None and client.tokens.nonce != old_nonce
    assert client.stats.nonce_refreshes == 1, (client.stats, site.stats)  # (all, if not)


async def test_one_tick_later_the_nonce_still_works(local_site: SiteFactory) -> None:
    site, url = await local_site(generation="2.2")
    await AIPower.create_async("", [user("a")], site_url=url)
    site.advance_ticks(1)
    await AIPower.create_async("", [user("b")], site_url=url)
    assert site.stats.nonce_failures == 0
    assert site.stats.page_fetches == 1


@pytest.mark.parametrize("generation", ["1.8", "2.2"])
async def test_stale_page_cache_is_busted_with_a_query_string(
    local_site: SiteFactory, generation: str
) -> None:
    site, url = await local_site(generation=generation, page_cache=True)
    await AIPower.create_async("", [user("warm")], site_url=url)
    site.advance_ticks(2)
    AIPower.site(url).tokens = None  # a new process that only finds the cached page
    answer = await AIPower.create_async("", [user("after cache")], site_url=url)
    assert "Echo: after cache" in answer
    assert site.stats.nonce_failures == 1  # the cached page's nonce was dead
    pages = [r for r in site.requests if r.method == "GET" and not r.action]
    assert any(r.query for r in pages), "the refresh must carry a cache-busting query"


async def test_tokens_refreshed_before_they_expire(local_site: SiteFactory) -> None:
    site, url = await local_site(generation="2.2")
    client = AIPower.site(url)
    await AIPower.create_async("", [user("a")], site_url=url)
    client.fetched_at = time.time() - 11 * 3600  # older than the 10 h refresh age
    await AIPower.create_async("", [user("b")], site_url=url)
    assert site.stats.page_fetches == 2
    assert site.stats.nonce_failures == 0  # refreshed proactively, not after a failure


async def test_nonce_rejected_twice_is_a_clear_error() -> None:
    page = (
        '<html><body><div class="wpaicg-chat-shortcode" data-nonce="0123456789" '
        'data-post-id="1" data-bot-id="0" data-type="shortcode" data-openai_stream_nav="1">'
        "</div></body></html>"
    )
    fetched: list[str] = []

    async def home(request: web.Request) -> web.Response:
        fetched.append(request.path_qs)
        return web.Response(text=page, content_type="text/html")

    async def ajax(request: web.Request) -> web.Response:
        return web.Response(status=403, text="The link you followed has expired.")

    app = web.Application()
    app.router.add_post("/wp-admin/admin-ajax.php", ajax)
    app.router.add_get("/{tail:.*}", home)
    async with serve_app(app) as url:
        with pytest.raises(NonceError, match="freshly fetched nonce") as caught:
            await AIPower.create_async("", [user("hi")], site_url=url)
    assert caught.value.url == url
    # first fetch, one cache-busting refetch, then the two URLs a page cache does not hold
    assert fetched[0] == "/" and "?_=" in fetched[1]
    assert len(fetched) <= 4


async def test_upgrade_to_aipkit_is_rediscovered_once(local_site: SiteFactory) -> None:
    _site, url = await local_site(generation="2.2", upgrade_after=2)
    messages = [user("m1")]
    for turn in range(4):
        answer = await AIPower.create_async("", messages, site_url=url)
        assert f"Echo: m{turn + 1}" in answer or turn >= 2
        messages += [assistant(answer), user(f"m{turn + 2}")]
    client = AIPower.site(url)
    assert client.tokens is not None and client.tokens.generation == "aipkit"
    assert client.stats.rediscoveries == 1
    assert client.stats.messages == 4


@pytest.mark.parametrize(("generation", "per_message"), [("2.2", 1), ("1.8", 1), ("aipkit", 2)])
async def test_steady_state_requests_per_message(
    local_site: SiteFactory, generation: str, per_message: int
) -> None:
    site, url = await local_site(generation=generation)
    await AIPower.create_async("", [user("warm-up")], site_url=url)
    before = site.stats.requests
    for index in range(10):
        await AIPower.create_async("", [user(f"message {index}")], site_url=url)
    assert site.stats.requests - before == 10 * per_message


@pytest.mark.parametrize("generation", ["2.2", "aipkit"])
async def test_hundred_concurrent_conversations_share_one_page_fetch(
    local_site: SiteFactory, generation: str
) -> None:
    site, url = await local_site(generation=generation)

    async def conversation(index: int) -> int:
        messages = [user(f"conversation {index} turn 1")]
        first = await AIPower.create_async("", messages, site_url=url)
        messages += [assistant(first), user(f"conversation {index} turn 2")]
        second = await AIPower.create_async("", messages, site_url=url)
        assert f"conversation {index} turn 2" in second
        return history_turns(second)

    turns = await asyncio.gather(*(conversation(i) for i in range(100)))
    assert turns == [2] * 100
    assert site.stats.page_fetches == 1
