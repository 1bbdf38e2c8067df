"""When legacy replies stream (docs/protocol-ai-power.md, "Generations", "Legacy streams" and
"Processing order"): 1.8 and 2.2 stream by default, each action has its own option (the other
action keeps its default, on), custom bots default to off."""

from __future__ import annotations

import aiohttp
import pytest

from chatbridge.site import LocalSite, SiteConfig

from ._site_helpers import SHORTCODE, chat, config, container, fetch, legacy_nonce

WIDGET = "wpaicg_chatbox_message"


def test_streams_meaning() -> None:
    assert SiteConfig(generation="1.8").streams()
    assert SiteConfig().streams()
    assert not SiteConfig(generation="1.7").streams()
    assert not SiteConfig(generation="1.7", stream=True).streams()
    assert not SiteConfig(bot_id=5).streams()  # bots: openai_stream_nav '0'
    assert SiteConfig(bot_id=5, stream=True).streams()
    assert not SiteConfig(stream=False).streams()
    assert SiteConfig(generation="aipkit", stream=False).streams()


def test_streams_for_actions_and_bots() -> None:
    cfg = SiteConfig(stream=False)  # shortcode placement
    assert not cfg.streams_for(SHORTCODE, 0)
    assert cfg.streams_for(WIDGET, 0)
    widget = SiteConfig(stream=False, placement="widget")
    assert widget.streams_for(SHORTCODE, 0) and not widget.streams_for(WIDGET, 0)
    bot = SiteConfig(bot_id=5)
    assert not bot.streams_for(SHORTCODE, 5) and not bot.streams_for(WIDGET, 5)
    assert bot.streams_for(SHORTCODE, 0)
    assert bot.streams_for(SHORTCODE, 9)  # no such bot: the action's option


async def _kind(http: aiohttp.ClientSession, url: str, nonce: str, **fields: str) -> str:
    reply = await chat(http, url, nonce, **fields)
    assert reply.status == 200
    return "sse" if reply.content_type == "text/event-stream" else "json"


async def test_18_streams_by_default(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(generation="1.8")) as url:
        page = await fetch(http, "GET", url + "/")
        assert container(page.text)[1]["data-openai_stream_nav"] == "1"
        assert await _kind(http, url, container(page.text)[1]["data-nonce"]) == "sse"


@pytest.mark.parametrize("generation", ["1.8", "2.2"])
async def test_stream_off_covers_only_the_placement_action(
    http: aiohttp.ClientSession, generation: str
) -> None:
    async with LocalSite(config(generation=generation, stream=False)) as url:
        nonce = await legacy_nonce(http, url)
        assert await _kind(http, url, nonce) == "json"
        assert await _kind(http, url, nonce, action=WIDGET, chatbot_identity="widget") == "sse"
    async with LocalSite(config(generation=generation, stream=False, placement="widget")) as url:
        nonce = await legacy_nonce(http, url)
        assert await _kind(http, url, nonce, action=WIDGET) == "json"
        assert await _kind(http, url, nonce) == "sse"


async def test_custom_bot_defaults_to_no_streaming(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(bot_id=5)) as url:
        page = await fetch(http, "GET", url + "/")
        attrs = container(page.text)[1]
        assert (attrs["data-bot-id"], attrs["data-openai_stream_nav"]) == ("5", "0")
        nonce = attrs["data-nonce"]
        assert await _kind(http, url, nonce, bot_id="5", chatbot_identity="custom_bot_5") == "json"
        assert await _kind(http, url, nonce, bot_id="5", action=WIDGET) == "json"
        assert await _kind(http, url, nonce, bot_id="0") == "sse"  # the shortcode's own option
    async with LocalSite(config(bot_id=5, stream=True)) as url:
        page = await fetch(http, "GET", url + "/")
        assert container(page.text)[1]["data-openai_stream_nav"] == "1"
        assert await _kind(http, url, await legacy_nonce(http, url), bot_id="5") == "sse"


async def test_17_never_streams(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(generation="1.7", stream=True)) as url:
        nonce = await legacy_nonce(http, url)
        assert await _kind(http, url, nonce) == "json"
        assert await _kind(http, url, nonce, action=WIDGET) == "json"


async def test_stream_success_headers(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config()) as url:
        reply = await chat(http, url, await legacy_nonce(http, url))
        assert reply.content_type == "text/event-stream"
        assert reply.headers["Cache-Control"] == "no-cache"
        assert reply.headers["X-Accel-Buffering"] == "no"
        assert reply.text.endswith("data: [DONE]\n\n")
