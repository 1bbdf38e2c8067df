"""Forwarding to an OpenAI-compatible upstream (a second local server plays OpenAI)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from chatbridge.site import LocalSite
from chatbridge.site._responder import INVALID_API_KEY

from ._site_helpers import chat, config, legacy_nonce, sse_events, stream_text


@asynccontextmanager
async def fake_openai(seen: list[dict[str, Any]], fail: bool = False,
                      error: dict[str, Any] | None = None) -> AsyncIterator[str]:
    async def completions(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        seen.append(body)
        if error is not None:
            return web.json_response({"error": error}, status=401)
        if fail:
            return web.json_response({"error": {"message": "Rate limit reached",
                                                "code": "rate_limit_exceeded"}}, status=429)
        if not body.get("stream"):
            return web.json_response({"choices": [{"message": {"content": "upstream says hi"}}]})
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        for word in ("upstream", " streams"):
            chunk = {"id": "chatcmpl-up", "object": "chat.completion.chunk",
                     "choices": [{"index": 0, "delta": {"content": word}}]}
            await resp.write(f"data: {json.dumps(chunk)}\n\n".encode())
        await resp.write(b"data: [DONE]\n\n")
        return resp

    app = web.Application()
    app.router.add_post("/v1/chat/completions", completions)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def test_forwards_conversation(http: aiohttp.ClientSession) -> None:
    seen: list[dict[str, Any]] = []
    history = json.dumps([{"id": 1, "text": "Human: earlier"}, {"id": 2, "text": "AI: reply"}])
    async with fake_openai(seen) as upstream, LocalSite(
        config(stream=False, upstream=upstream)
    ) as url:
        reply = await chat(http, url, await legacy_nonce(http, url), "now",
                           wpaicg_chat_history=history)
        assert reply.json()["data"] == "upstream says hi"
    messages = seen[0]["messages"]
    assert messages[0]["role"] == "user" and messages[0]["content"].startswith("Converse as if")
    assert messages[1:] == [{"role": "user", "content": "earlier"},
                            {"role": "assistant", "content": "reply"},
                            {"role": "user", "content": "now"}]


async def test_stream_passthrough(http: aiohttp.ClientSession) -> None:
    seen: list[dict[str, Any]] = []
    async with fake_openai(seen) as upstream, LocalSite(config(upstream=upstream + "/v1")) as url:
        reply = await chat(http, url, await legacy_nonce(http, url))
        assert stream_text(reply.text) == "upstream streams"
        assert '"id": "chatcmpl-up"' in reply.text  # upstream bytes passed through unchanged
        assert reply.text.endswith("data: [DONE]\n\n")
    assert seen[0]["stream"] is True


async def test_upstream_api_error(http: aiohttp.ClientSession) -> None:
    seen: list[dict[str, Any]] = []
    async with fake_openai(seen, fail=True) as upstream, LocalSite(
        config(stream=False, upstream=upstream)
    ) as url:
        body = (await chat(http, url, await legacy_nonce(http, url))).json()
        assert body["status"] == "error" and body["msg"] == "Rate limit reached"


@pytest.mark.parametrize("stream", [False, True])
async def test_empty_invalid_api_key_message(http: aiohttp.ClientSession, stream: bool) -> None:
    seen: list[dict[str, Any]] = []
    error = {"message": "", "type": "invalid_request_error", "code": "invalid_api_key"}
    async with fake_openai(seen, error=error) as upstream, LocalSite(
        config(stream=stream, upstream=upstream)
    ) as url:
        reply = await chat(http, url, await legacy_nonce(http, url))
    assert INVALID_API_KEY.startswith("Incorrect API key provided. You can find your API key")
    if not stream:
        body = reply.json()
        assert body["status"] == "error" and body["msg"] == INVALID_API_KEY
        return
    words = [json.loads(d)["choices"][0]["delta"]["content"]
             for name, d in sse_events(reply.text) if name == "message"]
    assert "".join(words[: len(words) // 2]) == INVALID_API_KEY  # sent twice on 2.2


async def test_empty_message_other_code_stays_generic(http: aiohttp.ClientSession) -> None:
    seen: list[dict[str, Any]] = []
    async with fake_openai(seen, error={"message": "", "code": "other"}) as upstream, LocalSite(
        config(stream=False, upstream=upstream)
    ) as url:
        body = (await chat(http, url, await legacy_nonce(http, url))).json()
        assert body["msg"] == "Unknown error"


async def test_22_history_sanitiser_effects(http: aiohttp.ClientSession) -> None:
    # The raw field, as a browser would send it (JSON text with its own escapes).
    history = (
        '[{"id":1,"text":"Human: 50%41 off <b>now</b>"},'
        '{"id":2,"text":"line one\\nline two AI: and more"},'
        '"Human: caf\\u00e9",'
        '{"id":"","text":"AI: "}]'
    )
    seen: list[dict[str, Any]] = []
    async with fake_openai(seen) as upstream, LocalSite(
        config(stream=False, upstream=upstream)
    ) as url:
        reply = await chat(http, url, await legacy_nonce(http, url), "now",
                           wpaicg_chat_history=history)
        assert reply.json()["status"] == "success"
    assert seen[0]["messages"][1:] == [
        {"role": "user", "content": "50 off now"},                      # %xx and tags gone
        {"role": "assistant", "content": "line onenline two and more"},  # \n -> n, AI: gone
        {"role": "user", "content": "cafu00e9"},                         # \u00e9 -> u00e9
        {"role": "user", "content": "now"},                              # empty AI turn dropped
    ]
