"""Front-end pages and where the tokens sit in them (docs/protocol-ai-power.md, "Finding the
chat" and "Seen on real sites")."""

from __future__ import annotations

import re

import aiohttp
import pytest

from chatbridge.site import LocalSite

from ._site_helpers import config, container, fetch


@pytest.mark.parametrize("generation", ["1.7", "1.8", "2.2"])
async def test_container_attributes_per_generation(http: aiohttp.ClientSession,
                                                   generation: str) -> None:
    async with LocalSite(config(generation=generation)) as url:
        page = await fetch(http, "GET", url + "/")
        assert page.status == 200
        assert 60_000 < len(page.text) < 80_000
        cls, attrs, tag = container(page.text)
        assert cls == "wpaicg-chat-shortcode"
        assert tag.count("\n") > 25
        assert attrs["data-type"] == "shortcode"
        assert attrs["data-bot-id"] == "0"
        assert attrs["data-post-id"] == "7"
        assert attrs["data-url"] == url
        for name in ("data-nonce", "data-post-id", "data-url", "data-bot-id", "data-type"):
            assert f'\n    {name}="' in tag
        if generation == "1.7":
            assert "data-ai-name" in attrs and "data-openai_stream_nav" not in attrs
        elif generation == "1.8":
            assert "data-openai_stream_nav" in attrs and "data-memory-limit" not in attrs
            assert "data-ai-name" in attrs
        else:
            assert 'data-memory-limit = "100"' in tag
            assert len(re.findall(r'\n    [\w-]+ = "', tag)) == 18
            assert "data-sidebar-enabled" in attrs and "data-ai-name" not in attrs
            assert attrs["data-openai_stream_nav"] == "1"


async def test_other_nonces_come_first(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config()) as url:
        text = (await fetch(http, "GET", url + "/")).text
        first = re.search(r'data-nonce="([0-9a-f]{10})"', text)
        img = re.search(r'id="wpaicg-img-nonce" value="([0-9a-f]{10})"', text)
        assert first is not None and img is not None
        chat_nonce = container(text)[1]["data-nonce"]
        assert first.group(1) != chat_nonce and img.group(1) != chat_nonce
        assert first.start() < img.start() < text.index('class="wpaicg-chat-shortcode"')


async def test_wpaicg_params(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config()) as url:
        text = (await fetch(http, "GET", url + "/")).text
        escaped = url.replace("/", "\\/")
        assert f'var wpaicgParams = {{"ajax_url":"{escaped}\\/wp-admin\\/admin-ajax.php"' in text


async def test_widget_placement(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(placement="widget", chat_path="/chat/")) as url:
        text = (await fetch(http, "GET", url + "/chat/")).text
        cls, attrs, _ = container(text)
        assert cls == "wpaicg-chatbox"
        assert text.index('class="wpaicg_chat_widget') < text.index('class="wpaicg-chatbox"')
        assert attrs["data-type"] == "widget"
        assert attrs["data-post-id"] == "<123"  # the 1.9.16+ typo
        assert attrs["data-url"] == url + "/chat"
        assert attrs["data-openai_stream_nav"] == "0"  # template default, server streams
        assert "data-has-bar" not in attrs


async def test_chat_on_sub_page(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(chat_path="/chat/"))
    async with site as url:
        home = (await fetch(http, "GET", url + "/")).text
        assert "wpaicgParams" in home and "wpaicg-chat-shortcode" not in home
        chat = (await fetch(http, "GET", url + "/chat/")).text
        assert container(chat)[1]["data-post-id"] == "123"
        redirected = await fetch(http, "GET", url + "/chat")
        assert redirected.status == 200 and "wpaicg-chat-shortcode" in redirected.text
        missing = await fetch(http, "GET", url + "/no/such/page")
        assert missing.status == 404
        assert "wpaicgParams" in missing.text and "search_nonce" in missing.text
        assert site.stats.page_fetches == 5


async def test_post_to_page_is_not_a_crash(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config()) as url:
        reply = await fetch(http, "POST", url + "/", data=b"\xff\x00" * 10)
        assert reply.status == 405


@pytest.mark.parametrize("decoy", [True, False])
async def test_other_plugin_nonce_comes_first_unless_switched_off(
    http: aiohttp.ClientSession, decoy: bool
) -> None:
    async with LocalSite(config(other_plugin_nonce=decoy)) as url:
        page = await fetch(http, "GET", url + "/")
    first = re.search(r'data-nonce="([0-9a-f]{10})"', page.text)
    _, attrs, _ = container(page.text)
    assert first is not None
    assert (first.group(1) != attrs["data-nonce"]) == decoy
    assert ("wpaicg-img-nonce" in page.text) == decoy
