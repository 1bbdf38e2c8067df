"""Injected faults (docs/protocol-ai-power.md, "Failures a client meets") and the legacy →
AIPKit upgrade."""

from __future__ import annotations

import time

import aiohttp
import pytest

from chatbridge.site import LocalSite

from ._site_helpers import AJAX, chat, config, container, echo, fetch, legacy_nonce, sse_events


async def test_http500_on_ajax_and_pages(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(faults=("http500",), fault_target="all")) as url:
        page = await fetch(http, "GET", url + "/")
        assert page.status == 500
        assert "There has been a critical error on this website." in page.text
        ajax = await chat(http, url, "0000000000")
        assert (ajax.status, ajax.text) == (500, "There has been a critical error on this website.")


@pytest.mark.parametrize(("kind", "status"), [("cloudflare", 403), ("cloudflare503", 503)])
async def test_cloudflare_challenge(http: aiohttp.ClientSession, kind: str, status: int) -> None:
    async with LocalSite(config(faults=(kind,), fault_target="pages")) as url:
        page = await fetch(http, "GET", url + "/")
        assert page.status == status
        assert page.headers["cf-mitigated"] == "challenge"
        assert "<title>Just a moment...</title>" in page.text
        assert "/cdn-cgi/challenge-platform/" in page.text
        # pages only: admin-ajax is untouched
        assert (await fetch(http, "POST", url + AJAX, data={"action": ""})).status == 400


async def test_maintenance(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(faults=("maintenance",))) as url:
        reply = await chat(http, url, "0000000000")
        assert reply.status == 503
        assert "Briefly unavailable for scheduled maintenance. Check back in a minute." in (
            reply.text
        )
        assert (await fetch(http, "GET", url + "/")).status == 200  # target "chat" only


async def test_php_warning_before_json(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(faults=("php_warning",), stream=False)) as url:
        reply = await chat(http, url, await legacy_nonce(http, url))
        assert reply.text.startswith("<br />\n<b>Warning</b>:")
        assert reply.content_type.startswith("text/html")
        body = reply.text[reply.text.index("{"):]
        assert '"status":"success"' in body


async def test_truncated_stream_closes_cleanly(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(faults=("truncate",)))
    async with site as url:
        reply = await chat(http, url, await legacy_nonce(http, url))
        assert reply.status == 200
        assert reply.content_type == "text/event-stream"
        assert "[DONE]" not in reply.text
        assert 1 <= len(sse_events(reply.text)) < 5
        assert site.stats.faults_by_kind == {"truncate": 1}


async def test_truncated_json(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(faults=("truncate",), stream=False)) as url:
        reply = await chat(http, url, await legacy_nonce(http, url))
        assert reply.text.startswith('{"status":"success"')
        assert not reply.text.endswith("}")


@pytest.mark.parametrize("stream", [True, False])
async def test_connection_reset_mid_reply(http: aiohttp.ClientSession, stream: bool) -> None:
    site = LocalSite(config(faults=("reset",), stream=stream))
    async with site as url:
        nonce = await legacy_nonce(http, url)
        with pytest.raises(aiohttp.ClientError):
            await chat(http, url, nonce)
        assert site.stats.faults_injected == 1
        # the site is still healthy afterwards
        assert (await fetch(http, "GET", url + "/")).status == 200


async def test_slow_reply(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(faults=("slow",), slow_seconds=0.3, stream=False)) as url:
        nonce = await legacy_nonce(http, url)
        started = time.monotonic()
        reply = await chat(http, url, nonce)
        assert time.monotonic() - started >= 0.3
        assert reply.json()["data"] == echo("hello")


async def test_fault_every_nth(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(faults=("http500",), fault_every=3, stream=False)) as url:
        nonce = await legacy_nonce(http, url)
        statuses = [(await chat(http, url, nonce)).status for _ in range(6)]
        assert statuses == [200, 200, 500, 200, 200, 500]


async def test_fault_rate_is_seeded(http: aiohttp.ClientSession) -> None:
    runs = []
    for _ in range(2):
        cfg = config(faults=("http500", "maintenance"), fault_rate=0.5, fault_seed=7,
                     stream=False)
        async with LocalSite(cfg) as url:
            nonce = await legacy_nonce(http, url)
            runs.append([(await chat(http, url, nonce)).status for _ in range(12)])
    assert runs[0] == runs[1]
    assert {200, 500, 503} == set(runs[0])


async def test_upgrade_to_aipkit_after_n_chats(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(upgrade_after=2, stream=False, page_cache=True))
    async with site as url:
        nonce = await legacy_nonce(http, url)
        assert (await chat(http, url, nonce)).status == 200
        assert (await chat(http, url, nonce)).status == 200
        third = await chat(http, url, nonce)
        assert (third.status, third.text) == (400, "0")
        page = (await fetch(http, "GET", url + "/")).text
        assert "aipkit_popup_wrapper" in page and "wpaicgParams" not in page
        with pytest.raises(AssertionError):
            container(page)
        assert site.generation == "aipkit"
