"""AIPKit 2.3+: nonce refresh, cache step, GET stream, server-side history
(docs/protocol-ai-power.md, "AIPKit")."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import aiohttp

from chatbridge.site import LocalSite

from ._site_helpers import AJAX, Reply, config, echo, fetch, sse_events

SESSION = "6f1c2b1e-8a55-4c3e-9d7a-0b0c1d2e3f40"


async def _config(http: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    page = await fetch(http, "GET", url + "/")
    match = re.search(r'class="aipkit_popup_wrapper"[^>]*data-config="([^"]*)"', page.text)
    assert match is not None
    data: dict[str, Any] = json.loads(html.unescape(match.group(1)))
    return data


async def _cache(http: aiohttp.ClientSession, url: str, nonce: str, message: str,
                 **headers: str) -> Reply:
    return await fetch(http, "POST", url + AJAX, headers=headers, data={
        "action": "aipkit_cache_sse_message", "_ajax_nonce": nonce, "bot_id": "101",
        "message": message})


async def _stream(http: aiohttp.ClientSession, url: str, key: str, nonce: str,
                  conversation: str = "conv-1", **extra: str) -> Reply:
    params = {"action": "aipkit_frontend_chat_stream", "cache_key": key, "bot_id": "101",
              "session_id": SESSION, "conversation_uuid": conversation, "_ajax_nonce": nonce}
    params.update(extra)
    return await fetch(http, "GET", url + AJAX, params=params)


async def _turn(http: aiohttp.ClientSession, url: str, nonce: str, message: str,
                conversation: str = "conv-1") -> Reply:
    cached = (await _cache(http, url, nonce, message)).json()
    return await _stream(http, url, cached["data"]["cache_key"], nonce, conversation)


def _answer(reply: Reply) -> str:
    return "".join(json.loads(d)["delta"] for n, d in sse_events(reply.text)
                   if n is None and d.startswith('{"delta"'))


async def test_flow_and_stream_shape(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(generation="aipkit"))
    async with site as url:
        cfg = await _config(http, url)
        assert cfg["botId"] == 101
        assert cfg["ajaxUrl"] == url + AJAX
        assert cfg["postId"] == 7
        cached = await _cache(http, url, cfg["nonce"], "hello aipkit")
        key = cached.json()["data"]["cache_key"]
        assert re.fullmatch(r"aipkit_sse_[A-Za-z0-9]{32}", key)
        reply = await _stream(http, url, key, cfg["nonce"])
        assert reply.status == 200
        assert reply.content_type == "text/event-stream"
        assert reply.text.startswith(":" + " " * 4096 + "\n")
        events = sse_events(reply.text)
        assert events[0][0] == "message_start"
        assert "message_id" in json.loads(events[0][1])
        assert events[-1] == ("done", '{"finished":true}')
        deltas = [e for e in events[1:-1] if e[0] is None]
        assert len(deltas) >= 5
        assert _answer(reply) == echo("hello aipkit")
        assert site.stats.aipkit_cache_requests == 1
        assert site.stats.chat_requests == 1


async def test_server_side_history(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(generation="aipkit", aipkit_max_messages=15))
    async with site as url:
        nonce = (await _config(http, url))["nonce"]
        for i in range(9):
            reply = await _turn(http, url, nonce, f"m{i}")
        assert _answer(reply) == echo("m8", 7, 8)  # 16 stored, the last 15 used
        other = await _turn(http, url, nonce, "fresh", conversation="conv-2")
        assert _answer(other) == echo("fresh")
        assert site.requests[-1].history_turns == 0


async def test_cache_key_is_one_shot(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(generation="aipkit")) as url:
        nonce = (await _config(http, url))["nonce"]
        key = (await _cache(http, url, nonce, "once")).json()["data"]["cache_key"]
        assert _answer(await _stream(http, url, key, nonce)) == echo("once")
        again = sse_events((await _stream(http, url, key, nonce)).text)
        assert again[0][0] == "error"
        assert json.loads(again[0][1]) == {"error": "Message not found in cache."}
        assert again[-1] == ("done", '{"finished":true}')


async def test_cache_key_expires(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(generation="aipkit", aipkit_cache_ttl=60))
    async with site as url:
        nonce = (await _config(http, url))["nonce"]
        key = (await _cache(http, url, nonce, "late")).json()["data"]["cache_key"]
        site.state.clock.offset += 61
        events = sse_events((await _stream(http, url, key, nonce)).text)
        assert json.loads(events[0][1])["error"] == "Cached message has expired."
        assert events[-1][0] == "done"


async def test_nonce_failures_and_refresh(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(generation="aipkit", aipkit_cache_ttl=1e12))
    async with site as url:
        nonce = (await _config(http, url))["nonce"]
        key = (await _cache(http, url, nonce, "x")).json()["data"]["cache_key"]
        site.advance_ticks(2)
        failed = await _cache(http, url, nonce, "x")
        assert failed.status == 403
        assert failed.json()["data"]["code"] == "nonce_failure_cache_sse"
        stream = await _stream(http, url, key, nonce)
        assert stream.status == 200
        events = sse_events(stream.text)
        assert events[0][0] == "error"
        assert json.loads(events[0][1])["error"].startswith("Security check failed.")
        assert events[-1][0] == "done"
        assert "id: err-" in stream.text
        fresh = await fetch(http, "POST", url + AJAX,
                            data={"action": "aipkit_get_frontend_chat_nonce", "bot_id": "101"})
        new_nonce = fresh.json()["data"]["nonce"]
        assert fresh.json()["success"] is True and new_nonce != nonce
        assert _answer(await _turn(http, url, new_nonce, "again")) == echo("again")
        assert site.stats.nonce_failures == 2
        assert site.stats.nonce_refreshes == 1


async def test_request_problems(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(generation="aipkit")) as url:
        nonce = (await _config(http, url))["nonce"]
        empty = await _cache(http, url, nonce, "")
        assert empty.status == 400 and empty.json()["data"]["code"] == "empty_data_to_cache"
        cases = {"Session ID is missing for guest.": {"session_id": ""},
                 "Conversation ID is missing.": {"conversation_uuid": "!!"},
                 "Invalid chatbot specified.": {"bot_id": "5"}}
        for text, extra in cases.items():
            key = (await _cache(http, url, nonce, "x")).json()["data"]["cache_key"]
            events = sse_events((await _stream(http, url, key, nonce, **extra)).text)
            assert json.loads(events[0][1]) == {"error": text}
        missing = sse_events((await _stream(http, url, "", nonce)).text)
        assert json.loads(missing[0][1]) == {"error": "Message cache key is missing."}


async def test_upstream_error_ends_without_done(http: aiohttp.ClientSession) -> None:
    cfg = config(generation="aipkit", upstream_error="You exceeded your current quota")
    async with LocalSite(cfg) as url:
        nonce = (await _config(http, url))["nonce"]
        events = sse_events((await _turn(http, url, nonce, "x")).text)
        assert events[0][0] == "message_start"
        assert events[-1] == ("error", '{"error":"API Error: You exceeded your current quota '
                                       '(Code: insufficient_quota)"}')
        assert all(name != "done" for name, _ in events)


async def test_foreign_origin_refused(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(generation="aipkit")) as url:
        nonce = (await _config(http, url))["nonce"]
        cached = await _cache(http, url, nonce, "x", Origin="https://evil.example")
        assert cached.status == 403
        assert cached.json()["data"]["code"] == "embed_not_available"
        own = await _cache(http, url, nonce, "x", Origin=url)
        assert own.status == 200 and own.headers["Access-Control-Allow-Origin"] == url
        refresh = await fetch(http, "POST", url + AJAX, headers={"Origin": "https://evil.example"},
                              data={"action": "aipkit_get_frontend_chat_nonce"})
        assert refresh.status == 403 and refresh.json()["data"]["code"] == "cors_denied"


async def test_legacy_actions_answer_400_zero(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(generation="aipkit")) as url:
        for action in ("wpaicg_chat_shortcode_message", "wpaicg_chatbox_message", ""):
            reply = await fetch(http, "POST", url + AJAX, data={"action": action, "message": "x"})
            assert (reply.status, reply.text) == (400, "0")


async def test_inline_mode_puts_config_on_container(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(generation="aipkit", aipkit_mode="inline", bot_id=55)) as url:
        page = (await fetch(http, "GET", url + "/")).text
        assert "aipkit_popup_wrapper" not in page
        match = re.search(r'<div class="aipkit_chat_container" id="aipkit_chat_container_55" '
                          r'data-bot-id="55" data-config="([^"]+)"', page)
        assert match is not None
        assert json.loads(html.unescape(match.group(1)))["botId"] == 55
        assert "wpaicgParams" not in page
