"""The ``misconfigured`` (no API key) and ``pinecone_error`` options (docs/protocol-ai-power.md,
"Inside the legacy server" and "Errors inside a legacy stream")."""

from __future__ import annotations

import aiohttp
import pytest

from chatbridge.site import LocalSite

from ._site_helpers import chat, config, legacy_nonce, sse_events

NO_AI = "Unable to initialize the AI instance. Please make sure the API key is valid."
PINECONE = "No results from Pinecone."


@pytest.mark.parametrize(
    ("generation", "stream"), [("1.8", False), ("1.8", True), ("2.2", False), ("2.2", True)]
)
async def test_misconfigured_is_plain_json_after_the_nonce(
    http: aiohttp.ClientSession, generation: str, stream: bool
) -> None:
    site = LocalSite(config(generation=generation, stream=stream, misconfigured=True))
    async with site as url:
        reply = await chat(http, url, await legacy_nonce(http, url))
        assert reply.status == 200
        assert reply.content_type == "application/json; charset=UTF-8"  # even when streaming
        assert reply.json() == {"status": "error", "msg": NO_AI}
        assert (site.stats.errors, site.stats.answers, site.stats.stream_requests) == (1, 0, 0)
        # The nonce is checked first.
        bad = await chat(http, url, "0123456789")
        assert site.stats.nonce_failures == 1
        if generation == "2.2":
            assert bad.status == 403
        else:
            assert bad.json()["msg"] == "Nonce verification failed"


async def test_misconfigured_assistant_is_plain_json(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(assistant=True, misconfigured=True)) as url:
        reply = await chat(http, url, await legacy_nonce(http, url))
        assert reply.json() == {"status": "error", "msg": NO_AI}


async def test_misconfigured_17_comes_before_the_nonce(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(generation="1.7", misconfigured=True))
    async with site as url:
        for nonce in (await legacy_nonce(http, url), "0123456789"):
            reply = await chat(http, url, nonce)
            assert reply.content_type == "application/json; charset=UTF-8"
            assert reply.json() == {"status": "error", "msg": "Missing API Setting"}
        assert site.stats.nonce_failures == 0
        # The client-id cookie is set before the API-key check, as in 1.7.14.
        assert any(c.key == "wpaicg_chat_client_id" for c in http.cookie_jar)


@pytest.mark.parametrize("generation", ["1.7", "1.8", "2.2"])
async def test_pinecone_error_json(http: aiohttp.ClientSession, generation: str) -> None:
    site = LocalSite(config(generation=generation, stream=False, pinecone_error=True))
    async with site as url:
        reply = await chat(http, url, await legacy_nonce(http, url))
        assert reply.content_type == "application/json; charset=UTF-8"
        assert reply.json() == {"status": "error", "msg": PINECONE}
        assert (site.stats.errors, site.stats.answers) == (1, 0)


@pytest.mark.parametrize(
    ("generation", "assistant"), [("1.8", False), ("2.2", False), ("2.2", True)]
)
async def test_pinecone_error_stream_is_one_flag_line(
    http: aiohttp.ClientSession, generation: str, assistant: bool
) -> None:
    site = LocalSite(config(generation=generation, stream=True, pinecone_error=True,
                            assistant=assistant))
    async with site as url:
        reply = await chat(http, url, await legacy_nonce(http, url))
        assert reply.content_type == "text/event-stream"
        assert reply.text == 'data: {"msg":"No results from Pinecone.","pineconeError":true}\n\n'
        assert sse_events(reply.text) == [
            (None, '{"msg":"No results from Pinecone.","pineconeError":true}')
        ]
        assert (site.stats.errors, site.stats.answers) == (1, 0)
        assert len(site.state.threads) == 0


async def test_pinecone_error_comes_after_the_token_limit(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(stream=False, pinecone_error=True, guest_token_limit=-1))
    async with site as url:
        body = (await chat(http, url, await legacy_nonce(http, url))).json()
        assert body.get("tokenLimitReached") is True
