"""Chatgpt4o, ChatGptt and AIPower against the local site, in every protocol generation."""

from __future__ import annotations

import asyncio
import re

import pytest

from chatbridge import (
    AIPower,
    Chatgpt4o,
    ChatGptt,
    Conversation,
    MissingSiteError,
    NotAIPowerSiteError,
)
from tests.conftest import serve_app
from tests.providers.conftest import SiteFactory, assistant, user

GENERATIONS = ["1.7", "1.8", "2.2", "aipkit"]
HISTORY = re.compile(r"history turns: (\d+)")


def history_turns(answer: str) -> int:
    match = HISTORY.search(answer)
    assert match is not None, answer
    return int(match.group(1))


@pytest.fixture(autouse=True)
def _restore_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Chatgpt4o, "url", Chatgpt4o.url)
    monkeypatch.setattr(ChatGptt, "url", ChatGptt.url)


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("generation", GENERATIONS)
async def test_both_seed_providers_answer(
    local_site: SiteFactory, generation: str, stream: bool
) -> None:
    site, url = await local_site(generation=generation, stream=stream)
    Chatgpt4o.url = ChatGptt.url = url
    answer = await Chatgpt4o.create_async(model="gpt-4o-mini", messages=[user("Capital?")])
    assert "[local AI Power site] Echo: Capital?" in answer
    chunks = [c async for c in ChatGptt.create_async_generator("gpt-4o", [user("one two three")])]
    assert "".join(chunks).startswith("[local AI Power site] Echo: one two three")
    streams = generation == "aipkit" or (stream and generation != "1.7")
    assert (len(chunks) > 3) == streams  # real chunks as they arrive, not one blob
    assert site.stats.nonce_failures == 0


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("generation", GENERATIONS)
async def test_history_reaches_the_site(
    local_site: SiteFactory, generation: str, stream: bool
) -> None:
    """1.8+: client-sent history; 1.7: the conversation's cookie jar; AIPKit: server-side."""
    _, url = await local_site(generation=generation, stream=stream)
    messages = [user('first "quoted" \\ question\nwith a newline')]
    for turn in range(1, 4):
        answer = await AIPower.create_async("", messages, site_url=url)
        assert history_turns(answer) == 2 * (turn - 1), (turn, answer)
        messages += [assistant(answer), user(f"question {turn + 1}")]


async def test_system_prompt_is_not_dropped(local_site: SiteFactory) -> None:
    _, url = await local_site(generation="2.2")
    messages = [{"role": "system", "content": "Talk like a pirate"}, user("hi")]
    answer = await AIPower.create_async("", messages, site_url=url)
    assert "System: Talk like a pirate" in answer


async def test_one_client_id_per_conversation_not_per_call(local_site: SiteFactory) -> None:
    site, url = await local_site(generation="2.2", stream=False)
    conversation = Conversation()
    messages = [user("a")]
    for text in ("b", "c"):
        answer = await AIPower.create_async("", messages, site_url=url, conversation=conversation)
        messages += [assistant(answer), user(text)]
    implicit = [user("other conversation")]
    for text in ("x", "y"):
        answer = await AIPower.create_async("", implicit, site_url=url)
        implicit += [assistant(answer), user(text)]
    ids = [r.fields.get("wpaicg_chat_client_id") for r in site.requests if r.action]
    assert ids[:2] == [conversation.client_id] * 2
    assert len(set(ids[2:])) == 1 and ids[2] != conversation.client_id
    assert re.fullmatch(r"[A-Za-z0-9]{10}", ids[2] or "")


async def test_history_never_sent_as_none(local_site: SiteFactory) -> None:
    site, url = await local_site(generation="1.8")
    await AIPower.create_async("", [user("hi")], site_url=url)
    (chat,) = [r for r in site.requests if r.action]
    assert chat.fields["wpaicg_chat_history"] == "[]"
    assert chat.fields["chatbot_identity"] == "shortcode"


@pytest.mark.parametrize("placement", ["shortcode", "widget"])
async def test_widget_and_subpage_chat(local_site: SiteFactory, placement: str) -> None:
    site, url = await local_site(generation="2.2", placement=placement, chat_path="/chat/")
    answer = await AIPower.create_async("", [user("hello")], site_url=url, chat_page="/chat/")
    assert "Echo: hello" in answer
    (chat,) = [r for r in site.requests if r.action]
    expected = (
        "wpaicg_chatbox_message" if placement == "widget" else ("wpaicg_chat_shortcode_message")
    )
    assert chat.action == expected
    assert chat.fields["chatbot_identity"] == placement


async def test_home_page_without_container_uses_wpaicg_params(local_site: SiteFactory) -> None:
    _, url = await local_site(generation="2.2", chat_path="/chat/")
    answer = await AIPower.create_async("", [user("via params")], site_url=url)
    assert "Echo: via params" in answer


async def test_setting_url_retargets_completely(local_site: SiteFactory) -> None:
    first, first_url = await local_site(generation="2.2", secret="one")
    second, second_url = await local_site(generation="1.8", secret="two")
    Chatgpt4o.url = first_url
    assert "Echo: a" in await Chatgpt4o.create_async("", [user("a")])
    Chatgpt4o.url = second_url
    assert "Echo: b" in await Chatgpt4o.create_async("", [user("b")])
    assert second.stats.page_fetches == 1 and second.stats.nonce_failures == 0
    ChatGptt.url = second_url
    assert ChatGptt.api_endpoint == f"{second_url}/wp-admin/admin-ajax.php"
    assert first.stats.chat_requests == 1


async def test_not_an_ai_power_site_names_the_url() -> None:
    from aiohttp import web

    async def plain(request: web.Request) -> web.Response:
        return web.Response(
            text="<html><body>[wpaicg_chatgpt] just a blog</body></html>", content_type="text/html"
        )

    app = web.Application()
    app.router.add_get("/{tail:.*}", plain)
    async with serve_app(app) as url:
        with pytest.raises(NotAIPowerSiteError) as caught:
            await AIPower.create_async("", [user("hi")], site_url=url)
    assert str(caught.value).startswith("No nonce found")
    assert url in str(caught.value)
    assert isinstance(caught.value, RuntimeError)


async def test_sync_create_completion_against_the_site(local_site: SiteFactory) -> None:
    _, url = await local_site(generation="2.2")
    ChatGptt.url = url
    chunks = await asyncio.to_thread(
        lambda: list(ChatGptt.create_completion("gpt-4o", [user("sync hi")], stream=True))
    )
    assert len(chunks) > 1 and "Echo: sync hi" in "".join(chunks)


async def test_a_site_provider_without_a_url_is_a_clear_value_error() -> None:
    with pytest.raises(MissingSiteError, match="needs a site URL") as caught:
        await AIPower.create_async("", [user("hi")])
    assert isinstance(caught.value, ValueError)
