"""WordPress nonce semantics and the page cache (docs/protocol-ai-power.md,
"Nonce checks by version", "Nonce lifetime", "Refreshing a nonce")."""

from __future__ import annotations

import re

import aiohttp
import pytest

from chatbridge.site import LocalSite

from ._site_helpers import AJAX, chat, config, container, fetch, legacy_nonce


@pytest.mark.parametrize("generation", ["1.7", "1.8", "2.2"])
async def test_nonce_valid_after_one_tick(http: aiohttp.ClientSession, generation: str) -> None:
    site = LocalSite(config(generation=generation, stream=False))
    async with site as url:
        nonce = await legacy_nonce(http, url)
        assert re.fullmatch(r"[0-9a-f]{10}", nonce)
        site.advance_ticks(1)
        reply = await chat(http, url, nonce)
        assert reply.status == 200
        assert reply.json()["status"] == "success"
        assert site.stats.nonce_failures == 0


async def test_nonce_failure_17_is_json_invalid_nonce(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(generation="1.7"))
    async with site as url:
        nonce = await legacy_nonce(http, url)
        site.advance_ticks(2)
        reply = await chat(http, url, nonce)
        assert reply.status == 200
        assert reply.content_type.startswith("application/json")
        body = reply.json()
        assert body["status"] == "error"
        assert body["msg"].startswith("Invalid nonce.")
        assert site.stats.nonce_failures == 1


async def test_nonce_failure_18_is_json_verification_failed(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(generation="1.8"))
    async with site as url:
        nonce = await legacy_nonce(http, url)
        site.advance_ticks(2)
        reply = await chat(http, url, nonce)
        assert reply.status == 200
        assert reply.json() == {"status": "error", "msg": "Nonce verification failed"}


async def test_nonce_failure_22_is_403_text(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(generation="2.2"))
    async with site as url:
        nonce = await legacy_nonce(http, url)
        site.advance_ticks(2)
        reply = await chat(http, url, nonce)
        assert reply.status == 403
        assert reply.content_type.startswith("text/html")
        assert reply.text == "The link you followed has expired."
        # a wrong nonce looks exactly the same
        wrong = await chat(http, url, "0123456789")
        assert (wrong.status, wrong.text) == (403, reply.text)
        # a same-site Referer adds the "Please try again." link
        ref = await fetch(
            http, "POST", url + AJAX, headers={"Referer": url + "/"},
            data={"action": "wpaicg_chat_shortcode_message", "_wpnonce": "x", "message": "hi"})
        assert ref.status == 403
        assert ref.text.startswith("The link you followed has expired.</p><p><a href=")
        assert "Please try again.</a>" in ref.text


async def test_nonce_same_for_every_visitor_and_page(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(chat_path="/chat/")) as url:
        nonce = await legacy_nonce(http, url, "/chat/")
        async with aiohttp.ClientSession() as other:
            assert await legacy_nonce(other, url, "/chat/") == nonce
        home = await fetch(http, "GET", url + "/")
        assert f'"search_nonce":"{nonce}"' in home.text


async def test_page_cache_serves_stale_nonce_unless_query(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(page_cache=True, stream=False))
    async with site as url:
        first = await legacy_nonce(http, url)
        site.advance_ticks(2)
        stale = await legacy_nonce(http, url)
        assert stale == first
        assert site.stats.page_cache_hits == 1
        assert (await chat(http, url, stale)).status == 403
        fresh = await legacy_nonce(http, url, "/?_=123")
        assert fresh != first
        assert (await chat(http, url, fresh)).json()["status"] == "success"


async def test_without_page_cache_every_fetch_is_fresh(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(stream=False))
    async with site as url:
        first = await legacy_nonce(http, url)
        site.advance_ticks(2)
        assert await legacy_nonce(http, url) != first
        assert site.stats.page_cache_hits == 0


async def test_container_nonce_matches_search_nonce(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config()) as url:
        page = await fetch(http, "GET", url + "/")
        _, attrs, _ = container(page.text)
        assert f'"search_nonce":"{attrs["data-nonce"]}"' in page.text
