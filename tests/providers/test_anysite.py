"""One ``--url`` for any supported site: ``AnySite`` finds the plugin from the page, once
per site, and the engine it found reads that same page (no second fetch)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from aiohttp import web

from chatbridge import AnySite, UnsupportedSiteError
from chatbridge._http._call import Call
from chatbridge._providers._family import find_provider, known_provider
from chatbridge.site import AIEngineSiteConfig, LocalSite, SiteConfig
from tests.conftest import free_port

from .conftest import SiteFactory, assistant, user

AppServer = Callable[[web.Application], AbstractAsyncContextManager[str]]


async def ask(url: str, messages: list[dict[str, str]], **options: Any) -> str:
    chunks = [
        c async for c in AnySite.create_async_generator("", messages, site_url=url, **options)
    ]
    return "".join(c for c in chunks if isinstance(c, str))


async def test_any_site_answers_from_either_plugin(
    local_site: SiteFactory, engine_site: SiteFactory
) -> None:
    power, power_url = await local_site(generation="aipkit")
    engine, engine_url = await engine_site(generation="3.6")
    for site, url, label in ((power, power_url, "AI Power"), (engine, engine_url, "AI Engine")):
        messages = [user("hello")]
        first = await ask(url, messages)
        messages += [assistant(first), user("again")]
        second = await ask(url, messages)
        assert first.startswith(f"[local {label} site] Echo: hello")
        assert "history turns: 2" in second
        assert site.stats.page_fetches == 1  # found, and read by the engine, in one fetch
    assert known_provider(power_url).get_name() == "AIPower"  # type: ignore[union-attr]
    assert known_provider(engine_url).get_name() == "AIEngine"  # type: ignore[union-attr]


async def test_many_first_calls_find_the_site_with_one_page_fetch(engine_site: SiteFactory) -> None:
    site, url = await engine_site()
    answers = await asyncio.gather(*(ask(url, [user(f"n{i}")]) for i in range(20)))
    assert all(f"Echo: n{i} " in answer for i, answer in enumerate(answers))
    assert site.stats.page_fetches == 1 and site.stats.session_starts == 1


async def test_a_page_of_neither_plugin_names_both_and_how_to_check(
    local_site: SiteFactory,
) -> None:
    _, url = await local_site(chat_path="/chat/", generation="aipkit")  # home: no chat
    with pytest.raises(UnsupportedSiteError) as info:
        await ask(url, [user("hi")])
    message = str(info.value)
    assert "neither an AI Power site nor an AI Engine site" in message
    assert f"chatbridge check --url {url}" in message and "chat_page='/chat/'" in message
    assert "Echo: hi" in await ask(url, [user("hi")], chat_page="/chat/")


async def test_a_site_that_changed_plugins_is_looked_at_again() -> None:
    port = free_port()
    async with LocalSite(SiteConfig(generation="aipkit"), port=port) as url:
        assert "[local AI Power site]" in await ask(url, [user("before")])
    async with LocalSite(AIEngineSiteConfig(), port=port) as url:
        after = await ask(url, [user("after")])  # the AI Power engine finds no chat: look again
    assert after.startswith("[local AI Engine site] Echo: after")
    assert known_provider(url).get_name() == "AIEngine"  # type: ignore[union-attr]


def both_plugins(power: str, host: str) -> str:
    engine = (
        "<div class='mwai-chatbot-container' data-params='{}' data-system='{&quot;botId&quot;:"
        f"&quot;default&quot;,&quot;restNonce&quot;:null,&quot;restUrl&quot;:&quot;"
        f"http:\\/\\/{host}\\/wp-json&quot;}}'></div>"
    )
    return f"<html><body>{power}{engine}</body></html>"


@pytest.mark.parametrize(
    ("power", "found"),
    [
        # The wpaicgParams script is on every page of an AI Power site: not its chat.
        ('<script>var wpaicgParams = {"search_nonce":"0123456789"};</script>', "AIEngine"),
        ('<div class="wpaicg-chat-shortcode" data-nonce="0123456789"></div>', "AIPower"),
    ],
)
async def test_a_page_with_both_plugins(app_server: AppServer, power: str, found: str) -> None:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text=both_plugins(power, request.host), content_type="text/html")

    async def start_session(request: web.Request) -> web.Response:
        return web.json_response({"success": True, "sessionId": "x", "restNonce": "0123abcdef"})

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_post("/wp-json/mwai/v1/start_session", start_session)
    async with app_server(app) as url:
        provider = await find_provider(url, None, None, Call(timeout=10))
    assert provider.get_name() == found
