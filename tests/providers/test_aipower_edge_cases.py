"""Edge cases of the AI Power engine: conversations apart per user, quotas, history across
an upgrade and in long cookies, connections released at once, odd charsets and JSON, AIPKit's
cache step and nonce refresh (regression tests for defects found in review: each failed
before its fix)."""

from __future__ import annotations

import asyncio
import gc
import weakref
from contextlib import aclosing

import pytest
from aiohttp import web

from chatbridge import AIPower, RateLimitError, ResponseError, TransportError
from chatbridge._aipower._page import parse_page
from chatbridge._aipower._replies import interpret_legacy_json
from chatbridge._http import _pool
from tests.conftest import serve_app
from tests.providers.conftest import SiteFactory, assistant, user
from tests.providers.test_generations import history_turns
from tests.providers.test_odd_sites import legacy_app


async def test_users_opening_alike_do_not_share_a_conversation(local_site: SiteFactory) -> None:
    _, url = await local_site(generation="aipkit")
    first_a, first_b = await asyncio.gather(
        AIPower.create_async("", [user("hi")], site_url=url),
        AIPower.create_async("", [user("hi")], site_url=url),
    )
    assert history_turns(first_a) == history_turns(first_b) == 0


async def test_a_new_user_does_not_inherit_another_users_quota(local_site: SiteFactory) -> None:
    _, url = await local_site(generation="2.2", guest_token_limit=1)
    answer = await AIPower.create_async("", [user("hello")], site_url=url)
    with pytest.raises(RateLimitError):
        await AIPower.create_async(
            "", [user("hello"), assistant(answer), user("more")], site_url=url
        )
    assert "Echo: hello" in await AIPower.create_async("", [user("hello")], site_url=url)


async def test_history_survives_an_upgrade_mid_conversation(local_site: SiteFactory) -> None:
    _, url = await local_site(generation="2.2", upgrade_after=2)
    messages = [user("the first question")]
    for turn in range(3):
        answer = await AIPower.create_async("", messages, site_url=url)
        messages += [assistant(answer), user(f"question {turn + 2}")]
    # Turn 3 went to the upgraded (AIPKit) site, which held nothing yet: the whole
    # conversation must have travelled in the message.
    assert "the first question" in answer


async def test_long_cookie_history_is_not_cut_by_the_site(local_site: SiteFactory) -> None:
    _, url = await local_site(generation="1.7")
    messages = [user("remember teal")]
    for turn in range(7):  # 7 exchanges: more entries than 1.7 keeps (10)
        answer = await AIPower.create_async("", messages, site_url=url)
        messages += [assistant(answer), user(f"turn {turn + 2}")]
    assert "remember teal" in answer


async def test_closing_a_stream_early_releases_its_connection_at_once(
    local_site: SiteFactory,
) -> None:
    _, url = await local_site(generation="2.2")
    async with aclosing(
        AIPower.create_async_generator("", [user("one two three four five")], site_url=url)
    ) as chunks:
        async for _ in chunks:
            break
    pool = _pool._pools[asyncio.get_running_loop()]
    assert not pool.direct._acquired  # aiohttp internals: connections still checked out


def test_event_loops_are_not_kept_alive_by_the_pool() -> None:
    loops: list[weakref.ref[asyncio.AbstractEventLoop]] = []

    async def touch() -> None:
        await _pool.get_connector(None)
        loops.append(weakref.ref(asyncio.get_running_loop()))

    for _ in range(5):
        asyncio.run(touch())
    gc.collect()
    assert [ref() for ref in loops] == [None] * 5


async def test_unknown_charset_is_read_as_utf8() -> None:
    async def ajax(request: web.Request) -> web.Response:
        return web.Response(
            body='{"status":"success","data":"café"}'.encode(),
            headers={"Content-Type": "application/json; charset=utf8mb4"},
        )

    async with serve_app(legacy_app(ajax)) as url:
        assert await AIPower.create_async("", [user("hi")], site_url=url) == "café"


async def test_php_warning_before_a_stream_is_not_asked_twice(local_site: SiteFactory) -> None:
    site, url = await local_site(generation="2.2", faults=("php_warning",))
    answer = await AIPower.create_async("", [user("warned")], site_url=url)
    assert "Echo: warned" in answer
    assert site.stats.chat_requests == 1


def test_json_with_trailing_junk_is_read() -> None:
    assert interpret_legacy_json('{"status":"success","data":"ok"}\n<!-- cache -->')[0] == "ok"


async def test_unknown_json_reply_is_not_retried() -> None:
    posts: list[int] = []

    async def ajax(request: web.Request) -> web.Response:
        posts.append(1)
        return web.json_response({"something": "else"})

    async with serve_app(legacy_app(ajax)) as url:
        with pytest.raises(ResponseError, match="'data' field missing"):
            await AIPower.create_async("", [user("hi")], site_url=url)
    assert posts == [1]


async def test_reset_during_the_aipkit_cache_step_is_a_transport_error(
    local_site: SiteFactory,
) -> None:
    _, url = await local_site(generation="aipkit", faults=("reset",))
    with pytest.raises(TransportError):
        await AIPower.create_async("", [user("hi")], site_url=url)


async def test_concurrent_aipkit_nonce_refresh_is_single_flight(local_site: SiteFactory) -> None:
    site, url = await local_site(generation="aipkit")
    await AIPower.create_async("", [user("warm")], site_url=url)
    site.advance_ticks(2)
    answers = await asyncio.gather(
        *(AIPower.create_async("", [user(f"m{i}")], site_url=url) for i in range(10))
    )
    assert all("Echo: m" in a for a in answers)
    assert AIPower.site(url).stats.nonce_refreshes == 1


def test_requested_bot_is_kept_when_the_page_shows_another() -> None:
    page = (
        '<div class="wpaicg-chat-shortcode" data-nonce="0123456789" data-bot-id="5" '
        'data-type="shortcode"></div>'
    )
    tokens = parse_page(page, "https://site.example/", bot_id=7)
    assert tokens is not None
    assert (tokens.bot_id, tokens.chatbot_identity) == ("7", "custom_bot_7")
