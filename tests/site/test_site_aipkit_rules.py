"""AIPKit details from fn-ajax-cache-sse-message.php and fn-ajax-frontend-chat-stream.php:
check order (CORS for a bot, nonce, cache key), expired entries, the cache step's message
handling, quota notices."""

from __future__ import annotations

import json

import aiohttp
import pytest

from chatbridge.site import LocalSite
from chatbridge.site._nonce import AIPKIT_ACTION

from ._site_helpers import AJAX, Reply, config, echo, fetch, sse_events

SESSION = "6f1c2b1e-8a55-4c3e-9d7a-0b0c1d2e3f40"
FOREIGN = {"Origin": "https://evil.example"}
EMPTY = "Data to cache (message or image) cannot be empty."


async def _cache(http: aiohttp.ClientSession, url: str, nonce: str, message: str = "hi",
                 headers: dict[str, str] | None = None, **fields: str) -> Reply:
    data = {"action": "aipkit_cache_sse_message", "_ajax_nonce": nonce, "bot_id": "101",
            "message": message, **fields}
    return await fetch(http, "POST", url + AJAX, data=data, headers=headers or {})


async def _stream(http: aiohttp.ClientSession, url: str, key: str, nonce: str,
                  headers: dict[str, str] | None = None) -> Reply:
    params = {"action": "aipkit_frontend_chat_stream", "cache_key": key, "bot_id": "101",
              "session_id": SESSION, "conversation_uuid": "conv-1", "_ajax_nonce": nonce}
    return await fetch(http, "GET", url + AJAX, params=params, headers=headers or {})


def _events(reply: Reply) -> list[tuple[str | None, dict[str, object]]]:
    assert reply.status == 200 and reply.content_type == "text/event-stream"
    return [(name, json.loads(data)) for name, data in sse_events(reply.text)]


def _error(reply: Reply) -> object:
    events = _events(reply)
    assert [name for name, _ in events] == ["error", "done"]
    return events[0][1]["error"]


def _answer(reply: Reply) -> str:
    return "".join(str(d["delta"]) for n, d in _events(reply) if n is None and "delta" in d)


# --- stream step ---------------------------------------------------------------------------


async def test_stream_nonce_checked_before_cache_key(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(generation="aipkit")) as url:
        assert "Security check failed" in str(_error(await _stream(http, url, "", "bad")))


async def test_bad_nonce_does_not_use_up_the_key(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(generation="aipkit"))
    async with site as url:
        nonce = site.state.clock.create(AIPKIT_ACTION)
        key = (await _cache(http, url, nonce, "keep me")).json()["data"]["cache_key"]
        assert "Security check failed" in str(_error(await _stream(http, url, key, "bad")))
        assert _answer(await _stream(http, url, key, nonce)) == echo("keep me")


async def test_stream_foreign_origin_for_a_bot(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(generation="aipkit"))
    async with site as url:
        nonce = site.state.clock.create(AIPKIT_ACTION)
        key = (await _cache(http, url, nonce)).json()["data"]["cache_key"]
        reply = await _stream(http, url, key, nonce, headers=FOREIGN)
        assert _error(reply) == "This domain is not permitted to access the chatbot."
        assert site.stats.answers == 0
        # the key was not touched; the site's own Origin is fine
        assert _answer(await _stream(http, url, key, nonce, headers={"Origin": url})) == echo("hi")


async def test_expired_entry_is_not_deleted(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(generation="aipkit", aipkit_cache_ttl=-1.0))
    async with site as url:
        nonce = site.state.clock.create(AIPKIT_ACTION)
        key = (await _cache(http, url, nonce)).json()["data"]["cache_key"]
        for _ in range(2):
            assert _error(await _stream(http, url, key, nonce)) == "Cached message has expired."
        assert key in site.state.aipkit_cache


async def test_quota_notice(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(generation="aipkit", guest_token_limit=0,
                            token_limit_message="Out of tokens."))
    async with site as url:
        nonce = site.state.clock.create(AIPKIT_ACTION)
        key = (await _cache(http, url, nonce, "first")).json()["data"]["cache_key"]
        assert _answer(await _stream(http, url, key, nonce)) == echo("first")
        key = (await _cache(http, url, nonce, "second")).json()["data"]["cache_key"]
        events = _events(await _stream(http, url, key, nonce))
        assert [name for name, _ in events] == ["error", "done"]
        data = events[0][1]
        assert data["error"] == "Out of tokens."
        assert data["quota_notice"] == {"type": "token_limit", "message": "Out of tokens."}
        assert "id: err-" in (await _stream(http, url, "x", nonce)).text


# --- cache step ----------------------------------------------------------------------------


async def test_cache_keeps_message_unsanitised(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(generation="aipkit"))
    async with site as url:
        nonce = site.state.clock.create(AIPKIT_ACTION)
        text = "<b>bold</b> 100%41 a < b\nnext"
        key = (await _cache(http, url, nonce, text)).json()["data"]["cache_key"]
        assert site.state.aipkit_cache[key].message == text
        nul = (await _cache(http, url, nonce, "a\0b")).json()["data"]["cache_key"]
        assert site.state.aipkit_cache[nul].message == "ab"


@pytest.mark.parametrize(("message", "ok"), [(" ", True), ("\n", True), ("", False),
                                             ("0", False), ("\0", False)])
async def test_cache_empty_rules(http: aiohttp.ClientSession, message: str, ok: bool) -> None:
    site = LocalSite(config(generation="aipkit"))
    async with site as url:
        reply = await _cache(http, url, site.state.clock.create(AIPKIT_ACTION), message)
        if ok:
            assert reply.json()["success"] is True
        else:
            assert reply.status == 400
            assert reply.json() == {"success": False, "data": {
                "message": EMPTY, "code": "empty_data_to_cache"}}


async def test_cache_invalid_utf8_is_empty(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(generation="aipkit"))
    async with site as url:
        nonce = site.state.clock.create(AIPKIT_ACTION)
        body = f"action=aipkit_cache_sse_message&_ajax_nonce={nonce}&message=%ff".encode()
        reply = await fetch(http, "POST", url + AJAX, data=body,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert reply.status == 400 and reply.json()["data"]["message"] == EMPTY


async def test_cache_foreign_origin_only_refused_for_a_bot(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(generation="aipkit"))
    async with site as url:
        nonce = site.state.clock.create(AIPKIT_ACTION)
        refused = await _cache(http, url, nonce, headers=FOREIGN)
        assert refused.status == 403
        assert refused.json()["data"]["code"] == "embed_not_available"
        accepted = await _cache(http, url, nonce, headers=FOREIGN, bot_id="0")
        assert accepted.json()["success"] is True


async def test_cache_nonce_from_post_only(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(generation="aipkit"))
    async with site as url:
        nonce = site.state.clock.create(AIPKIT_ACTION)
        data = {"action": "aipkit_cache_sse_message", "message": "hi"}
        reply = await fetch(http, "POST", url + AJAX + "?_ajax_nonce=" + nonce, data=data)
        assert reply.status == 403
        assert reply.json()["data"]["code"] == "nonce_failure_cache_sse"
        # sanitize_key(): case and stray characters do not matter in the POST field
        assert (await _cache(http, url, nonce.upper() + "!")).json()["success"] is True
