"""Hostile or odd input never makes the site answer 500; routing edge cases of admin-ajax
(review findings 1, 2, 3, 6 and 8)."""

from __future__ import annotations

import json

import aiohttp
import pytest

from chatbridge.site import AIEngineSiteConfig, LocalSite
from chatbridge.site._config import PAGE_CACHE_ENTRIES
from chatbridge.site._history import parse_history_22
from chatbridge.site._nonce import AIPKIT_ACTION, NonceClock
from chatbridge.site._php import intval

from ._site_helpers import AJAX, SHORTCODE, chat, config, echo, fetch, legacy_nonce, sse_events

SESSION = "6f1c2b1e-8a55-4c3e-9d7a-0b0c1d2e3f40"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


# --- 1. non-ASCII nonces -------------------------------------------------------------------


def test_verify_non_ascii_nonce_is_invalid() -> None:
    clock = NonceClock("s", 1e9)
    assert clock.verify("é", AIPKIT_ACTION) == 0
    assert clock.verify("\udcff" * 10, AIPKIT_ACTION) == 0  # undecodable bytes
    assert clock.verify(clock.create(AIPKIT_ACTION), AIPKIT_ACTION) == 1


@pytest.mark.parametrize("raw_nonce", [b"%C3%A9", b"%ff"])
@pytest.mark.parametrize(("generation", "status", "needle"), [
    ("1.7", 200, "Invalid nonce."), ("1.8", 200, "Nonce verification failed"),
    ("2.2", 403, "The link you followed has expired.")])
async def test_legacy_non_ascii_nonce_is_a_nonce_failure(
    http: aiohttp.ClientSession, raw_nonce: bytes, generation: str, status: int, needle: str
) -> None:
    site = LocalSite(config(generation=generation, stream=False))
    async with site as url:
        body = b"action=" + SHORTCODE.encode() + b"&message=hi&_wpnonce=" + raw_nonce
        reply = await fetch(http, "POST", url + AJAX, data=body, headers=FORM)
        assert reply.status == status
        assert needle in reply.text
        assert site.stats.nonce_failures == 1


async def test_aipkit_non_ascii_nonce(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(generation="aipkit"))
    async with site as url:
        cached = await fetch(http, "POST", url + AJAX, data={
            "action": "aipkit_cache_sse_message", "_ajax_nonce": "é", "message": "hi"})
        assert cached.status == 403
        assert cached.json()["data"]["code"] == "nonce_failure_cache_sse"
        nonce = site.state.clock.create(AIPKIT_ACTION)
        key = (await fetch(http, "POST", url + AJAX, data={
            "action": "aipkit_cache_sse_message", "_ajax_nonce": nonce,
            "message": "hi"})).json()["data"]["cache_key"]
        reply = await fetch(http, "GET", url + AJAX, params={
            "action": "aipkit_frontend_chat_stream", "cache_key": key, "bot_id": "101",
            "session_id": SESSION, "conversation_uuid": "c", "_ajax_nonce": "é"})
        assert reply.status == 200
        events = sse_events(reply.text)
        assert [name for name, _ in events] == ["error", "done"]  # whole body, not cut
        assert "Security check failed" in events[0][1]


# --- 2. deeply nested history --------------------------------------------------------------


def _nested(depth: int) -> str:
    """A valid history whose nesting is exactly ``depth``: one user turn plus a deep item."""
    return '["Human: hi",' + "[" * (depth - 1) + "]" * (depth - 1) + "]"


def test_history_depth_limit_is_php_512() -> None:
    assert parse_history_22(_nested(512)) == [("user", "hi")]
    assert parse_history_22(_nested(513)) == []
    assert parse_history_22("[" * 5000 + "]" * 5000) == []
    brackets = "[" * 600  # brackets inside a string do not nest
    assert parse_history_22(f'["{brackets}", "Human: ok"]') == [("assistant", brackets),
                                                              ("user", "ok")]


async def test_deep_history_is_empty_not_500(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(stream=False)) as url:
        nonce = await legacy_nonce(http, url)
        reply = await chat(http, url, nonce, "deep", wpaicg_chat_history="[" * 5000 + "]" * 5000)
        assert reply.status == 200
        assert reply.json()["data"] == echo("deep")


# --- 3. PHP intval -------------------------------------------------------------------------


def test_intval_ascii_digits_only() -> None:
    assert [intval(t) for t in ("12", " 12abc", "+7", "-3", "\t\n5", "")] == [12, 12, 7, -3, 5, 0]
    assert [intval(t) for t in ("²", "٣", "\xa012", "x1")] == [0, 0, 0, 0]


@pytest.mark.parametrize("bot_id", ["²", "٣", "12²"])
async def test_17_unicode_digit_bot_id(http: aiohttp.ClientSession, bot_id: str) -> None:
    async with LocalSite(config(generation="1.7", bot_id=3)) as url:
        nonce = await legacy_nonce(http, url)
        reply = await chat(http, url, nonce, "digits", bot_id=bot_id)
        assert reply.status == 200 and reply.json()["data"] == echo("digits")
        names = {c.key for c in http.cookie_jar}
        assert "wpaicg_conversation_url_shortcode" in names  # intval gave 0 (or 12): no bot 3
        assert "wpaicg_conversation_url_custom_bot_3" not in names


async def test_22_unicode_digit_is_not_the_bot(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(bot_id=3)) as url:  # the bot (3) does not stream by default
        nonce = await legacy_nonce(http, url)
        bot = await chat(http, url, nonce, bot_id="3")
        assert bot.content_type.startswith("application/json")
        assert (await chat(http, url, nonce, bot_id="٣")).content_type == "text/event-stream"


# --- 6. bodies PHP does not parse ----------------------------------------------------------


@pytest.mark.parametrize("content_type", [None, "application/octet-stream", "text/plain"])
async def test_body_without_form_type_is_no_post(
    http: aiohttp.ClientSession, content_type: str | None
) -> None:
    site = LocalSite(config(stream=False))
    async with site as url:
        nonce = await legacy_nonce(http, url)
        body = f"action={SHORTCODE}&_wpnonce={nonce}&message=hi".encode()
        if content_type is None:
            reply = await fetch(http, "POST", url + AJAX, data=body,
                                skip_auto_headers=["Content-Type"])
        else:
            reply = await fetch(http, "POST", url + AJAX, data=body,
                                headers={"Content-Type": content_type})
        assert (reply.status, reply.text) == (400, "0")
        assert site.stats.chat_requests == 0


# --- 8. admin-ajax routing -----------------------------------------------------------------


@pytest.mark.parametrize(("origin", "status"), [
    (None, 403), ("http://evil.example", 403), ("same", 200)])
async def test_options_preflight(http: aiohttp.ClientSession, origin: str | None,
                                 status: int) -> None:
    async with LocalSite(config()) as url:
        headers = {} if origin is None else {"Origin": url if origin == "same" else origin}
        reply = await fetch(http, "OPTIONS", url + AJAX, headers=headers)
        assert reply.status == status
        if status == 200:
            assert reply.headers["Access-Control-Allow-Origin"] == url


async def test_post_action_overrides_query_action(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(stream=False))
    async with site as url:
        nonce = await legacy_nonce(http, url)
        data = {"action": "", "_wpnonce": nonce, "message": "hi"}
        reply = await fetch(http, "POST", url + AJAX + "?action=" + SHORTCODE, data=data)
        assert (reply.status, reply.text) == (400, "0")
        # without a POST action the query's action is used ($_REQUEST)
        del data["action"]
        reply = await fetch(http, "POST", url + AJAX + "?action=" + SHORTCODE, data=data)
        assert reply.json()["data"] == echo("hi")
        assert json.loads(reply.text)["status"] == "success"


# --- issue 8 item 10: the page cache is bounded ----------------------------------------------


@pytest.mark.parametrize("plugin", ["ai-power", "ai-engine"])
async def test_page_cache_stays_bounded_whatever_hosts_clients_name(
    http: aiohttp.ClientSession, plugin: str
) -> None:
    cfg = AIEngineSiteConfig(page_cache=True) if plugin == "ai-engine" else None
    site = LocalSite(cfg or config(page_cache=True))
    async with site as url:
        for n in range(PAGE_CACHE_ENTRIES + 72):
            async with http.get(f"{url}/", headers={"Host": f"h{n}.example"}) as response:
                assert response.status == 200
        assert len(site.state.page_cache) == PAGE_CACHE_ENTRIES
        # The newest Host is still served from the cache; the oldest was dropped.
        hits = site.stats.page_cache_hits
        async with http.get(f"{url}/", headers={"Host": f"h{PAGE_CACHE_ENTRIES + 71}.example"}):
            pass
        assert site.stats.page_cache_hits == hits + 1
        assert ("h0.example", "/") not in site.state.page_cache
