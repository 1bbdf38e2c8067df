"""The library against the site's extra modes: Assistants threads, a site without an API key,
and the Pinecone flag (docs/protocol-ai-power.md, "JSON replies", "Errors inside a legacy
stream" and "Assistants streams")."""

from __future__ import annotations

import pytest

from chatbridge import AIPower, PluginError, UpstreamError
from tests.providers.conftest import SiteFactory, assistant, user


def echo(message: str, turns: int = 0) -> str:
    return (f"[local AI Power site] Echo: {message} | history turns: {2 * turns} "
            f"(user {turns}, assistant {turns})")


@pytest.mark.parametrize("stream", [True, False])
async def test_assistant_conversation_keeps_its_thread(
    local_site: SiteFactory, stream: bool
) -> None:
    site, url = await local_site(generation="2.2", assistant=True, stream=stream)
    messages: list[dict[str, str]] = []
    for turn, text in enumerate(["first question", "second question", "third question"]):
        messages.append(user(text))
        answer = await AIPower.create_async("", messages, site_url=url)
        assert answer == echo(text, turn)  # the thread held every earlier turn
        messages.append(assistant(answer))
    chats = [r for r in site.requests if r.action]
    assert len(chats) == 3
    assert chats[0].fields.get("thread_id") is None
    thread = chats[1].fields.get("thread_id")
    assert thread is not None and thread.startswith("thread_")
    assert chats[2].fields.get("thread_id") == thread
    assert [r.history_turns for r in chats] == [0, 2, 4]
    assert len(site.state.threads) == 1
    assert site.stats.stream_requests == (3 if stream else 0)


async def test_assistant_stream_arrives_in_pieces(local_site: SiteFactory) -> None:
    _, url = await local_site(generation="2.2", assistant=True)
    pieces = [chunk async for chunk in AIPower.create_async_generator(
        "", [user("a b c d")], site_url=url)]
    assert len(pieces) > 3
    assert "".join(pieces) == echo("a b c d")


@pytest.mark.parametrize("stream", [True, False])
async def test_assistant_error_is_raised_with_its_message(
    local_site: SiteFactory, stream: bool
) -> None:
    quota = 'You exceeded your current quota, please check your plan and "billing" details.'
    _, url = await local_site(generation="2.2", assistant=True, stream=stream,
                              upstream_error=quota)
    with pytest.raises(PluginError, match="exceeded your current quota") as caught:
        await AIPower.create_async("", [user("hi")], site_url=url)
    assert caught.value.message == quota  # entities (&quot;) undone
    assert isinstance(caught.value, UpstreamError)  # the quota text marks an upstream failure


@pytest.mark.parametrize(
    ("generation", "stream", "text"),
    [("1.7", False, "Missing API Setting"),
     ("1.8", False, "Unable to initialize the AI instance"),
     ("1.8", True, "Unable to initialize the AI instance"),
     ("2.2", False, "Unable to initialize the AI instance"),
     ("2.2", True, "Unable to initialize the AI instance")],
)
async def test_misconfigured_site_is_an_upstream_error(
    local_site: SiteFactory, generation: str, stream: bool, text: str
) -> None:
    site, url = await local_site(generation=generation, stream=stream, misconfigured=True)
    with pytest.raises(UpstreamError, match=text):
        await AIPower.create_async("", [user("hi")], site_url=url)
    assert site.stats.chat_requests == 1  # not retried


@pytest.mark.parametrize(("generation", "stream"),
                         [("1.7", False), ("1.8", False), ("2.2", False), ("2.2", True)])
async def test_pinecone_flag_is_a_plugin_error(
    local_site: SiteFactory, generation: str, stream: bool
) -> None:
    _, url = await local_site(generation=generation, stream=stream, pinecone_error=True)
    received: list[str] = []
    with pytest.raises(PluginError, match="No results from Pinecone"):
        async for chunk in AIPower.create_async_generator("", [user("hi")], site_url=url):
            received.append(chunk)
    assert received == []


@pytest.mark.parametrize("stream", [False, True])
async def test_assistant_conversation_unknown_to_the_client_is_not_lost(
    local_site: SiteFactory, stream: bool
) -> None:
    """A transcript the client has never seen (another process's, or an edited one) cannot
    continue a thread: the whole conversation goes into a new thread's first message."""
    site, url = await local_site(generation="2.2", assistant=True, stream=stream)
    messages = [user("the first question"), assistant("an earlier answer"), user("and now?")]
    answer = await AIPower.create_async("", messages, site_url=url)
    sent = [(r.action, r.fields) for r in site.requests]  # (all of it, if not)
    tokens = AIPower.site(url).tokens
    assert "the first question" in answer and "an earlier answer" in answer, (tokens, sent)
    (chat,) = [r for r in site.requests if r.action]
    assert "thread_id" not in chat.fields
    assert chat.fields["wpaicg_chat_history"] == "[]"
