"""``AIEngine`` against the local AI Engine site: both generations, both permalink styles,
the nonce's life, the bot's limits, and every failure of the protocol's table."""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

import pytest

from chatbridge import (
    AIEngine,
    ChallengeError,
    ContentFilterError,
    Conversation,
    InvalidRequestError,
    NonceError,
    NotAIEngineSiteError,
    PluginError,
    RateLimitError,
    RequestTimeoutError,
    ResponseStatusError,
    TransportError,
    TruncatedStreamError,
    UpstreamError,
    Usage,
)
from chatbridge._http._pool import get_slots
from chatbridge._http._slots import origin_of
from chatbridge.site import LocalSite

from .conftest import SiteFactory, assistant, user

SUBMIT = "/mwai-ui/v1/chats/submit"
START = "/mwai/v1/start_session"
TURNS = re.compile(r"history turns: (\d+)")


async def ask(url: str, messages: list[dict[str, str]], **options: Any) -> tuple[str, list[Any]]:
    """The answer's text and every other chunk (usage)."""
    chunks = [
        c async for c in AIEngine.create_async_generator("", messages, site_url=url, **options)
    ]
    return "".join(c for c in chunks if isinstance(c, str)), [
        c for c in chunks if not isinstance(c, str)
    ]


def turns(answer: str) -> int:
    match = TURNS.search(answer)
    assert match is not None, answer
    return int(match.group(1))


def routes(site: LocalSite) -> list[str]:
    """The REST routes the site was asked, in order."""
    return [r.action for r in site.requests if r.action]


def submits(site: LocalSite) -> list[dict[str, str]]:
    return [r.fields for r in site.requests if r.action == SUBMIT]


@pytest.mark.parametrize("generation", ["3.6", "2.4"])
@pytest.mark.parametrize("permalinks", ["pretty", "plain"])
async def test_a_conversation_in_each_generation_and_permalink_style(
    engine_site: SiteFactory, generation: str, permalinks: str
) -> None:
    site, url = await engine_site(generation=generation, permalinks=permalinks)
    messages = [user("first question")]
    for turn in range(3):
        streamed = turn != 1  # the second turn asks for the whole answer at once
        answer, extra = await ask(url, messages, stream=streamed)
        assert answer.startswith(f"[local AI Engine site] Echo: {messages[-1]['content']} |")
        assert turns(answer) == 2 * turn  # the whole transcript reached the model
        usage = [c for c in extra if isinstance(c, Usage)]
        assert (len(usage) == 1) is (generation == "3.6")  # 2.4 never says its counts are real
        messages += [assistant(answer), user(f"question {turn + 2}")]
    # One page, one start_session (3.6), then one chat request per message.
    expected = ([START] if generation == "3.6" else []) + [SUBMIT] * 3
    assert routes(site) == expected
    assert site.stats.page_fetches == 1
    if permalinks == "plain":  # the route goes in the query, as the page gives the root
        chat = next(r for r in site.requests if r.action == SUBMIT)
        assert chat.path == "/index.php" and chat.query == {"rest_route": SUBMIT}
    sent = submits(site)
    assert len({s["chatId"] for s in sent}) == 1  # one chatId per conversation
    assert all(json.loads(s["stream"]) is (i != 1) for i, s in enumerate(sent))
    first = json.loads(sent[0]["messages"])
    assert first == [{"role": "assistant", "content": "Hi! How can I help you?"}]
    assert "previousResponseId" not in sent[2]  # the transcript, never the provider's state


async def test_status_and_thinking_frames_never_reach_the_caller(engine_site: SiteFactory) -> None:
    site, url = await engine_site(event_logs=True, faults=("thinking",))
    answer, _ = await ask(url, [user("think first")])
    assert (
        answer
        == "[local AI Engine site] Echo: think first | history turns: 0 (user 0, assistant 0)"
    )
    assert site.stats.faults_by_kind == {"thinking": 1}


async def test_a_stream_without_its_end_frame_is_cut_and_never_asked_again(
    engine_site: SiteFactory,
) -> None:
    site, url = await engine_site(faults=("no_end",))
    with pytest.raises(TruncatedStreamError, match="cut off") as info:
        await ask(url, [user("hello")])
    assert info.value.partial.startswith("[local AI Engine site] Echo: hello")
    assert routes(site).count(SUBMIT) == 1  # the model ran: no second paid answer


async def test_the_end_reply_is_authoritative_as_far_as_a_stream_allows(
    engine_site: SiteFactory, caplog: pytest.LogCaptureFixture
) -> None:
    _, url = await engine_site(faults=("end_differs",))
    with caplog.at_level(logging.WARNING, logger="chatbridge.aiengine"):
        streamed, _ = await ask(url, [user("one")])
    assert streamed.startswith("[local AI Engine site] Echo: one")  # handed over, it stands
    assert "final reply differs from the text it streamed" in caplog.text
    whole, _ = await ask(url, [user("two")], stream=False)
    assert whole.startswith("[local AI Engine site] Echo (edited): two")  # the site's final text


async def test_a_rotating_nonce_is_replaced_by_new_token_without_start_session(
    engine_site: SiteFactory,
) -> None:
    site, url = await engine_site(generation="3.6")
    await ask(url, [user("one")])
    for _ in range(3):  # each tick the reply hands over the next nonce, which is adopted
        site.advance_ticks(1)
        await ask(url, [user("again")])
    assert routes(site).count(START) == 1 and site.stats.nonce_failures == 0
    assert site.stats.new_tokens == 3 and AIEngine.site(url).stats.new_tokens == 3


@pytest.mark.parametrize("generation", ["3.6", "2.4"])
async def test_an_expired_nonce_is_refreshed_once_and_the_message_retried(
    engine_site: SiteFactory, generation: str
) -> None:
    site, url = await engine_site(generation=generation)
    await ask(url, [user("one")])
    site.advance_ticks(2)  # the cached nonce is dead
    answer, _ = await ask(url, [user("two")])
    assert "Echo: two" in answer
    assert site.stats.nonce_failures == 1
    if generation == "3.6":
        assert routes(site) == [START, SUBMIT, SUBMIT, START, SUBMIT]
    else:  # the page again, past any cache
        assert routes(site) == [SUBMIT, SUBMIT, SUBMIT] and site.stats.page_fetches == 2
    assert AIEngine.site(url).stats.nonce_refreshes == 1


async def test_a_nonce_refused_twice_is_a_nonce_error(engine_site: SiteFactory) -> None:
    site, url = await engine_site(faults=("bad_nonce",))
    with pytest.raises(NonceError, match="freshly fetched nonce too"):
        await ask(url, [user("hello")])
    assert routes(site) == [START, SUBMIT, START, SUBMIT]  # one refresh, one retry


async def test_the_site_answers_a_missing_nonce_header_with_401_rest_forbidden(
    engine_site: SiteFactory,
) -> None:
    """(The client always sends one; ``rest_error`` maps this 401 to a refresh, as the 403.)"""
    import aiohttp

    _, url = await engine_site()
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/wp-json{SUBMIT}", json={"botId": "default"}) as reply:
            body = await reply.json()
    assert (reply.status, body["code"]) == (401, "rest_forbidden")


async def test_start_session_down_is_typed_and_nothing_is_sent(engine_site: SiteFactory) -> None:
    site, url = await engine_site(faults=("session_down",))
    with pytest.raises(ResponseStatusError, match="HTTP 500") as info:
        await ask(url, [user("hello")])
    assert info.value.status == 500
    assert SUBMIT not in routes(site)


@pytest.mark.parametrize("stream", [True, False])
async def test_a_limit_reached_is_a_rate_limit(engine_site: SiteFactory, stream: bool) -> None:
    _, url = await engine_site(faults=("limit",))
    with pytest.raises(RateLimitError, match="reached the limit") as info:
        await ask(url, [user("hello")], stream=stream)
    assert info.value.status == (200 if stream else 500)  # an error frame, or a 500


async def test_the_guest_limit_counts_per_conversation_session(engine_site: SiteFactory) -> None:
    """Each conversation keeps the site session its first reply set: the Pro limits count
    that conversation's messages, not every conversation's of this process."""
    site, url = await engine_site(guest_message_limit=2)
    one, two = Conversation(), Conversation()
    await ask(url, [user("a")], conversation=one)
    await ask(url, [user("a"), assistant("x"), user("b")], conversation=one)
    with pytest.raises(RateLimitError):
        await ask(
            url, [user("a"), assistant("x"), user("b"), assistant("y"), user("c")], conversation=one
        )
    answer, _ = await ask(url, [user("other")], conversation=two)
    assert "Echo: other" in answer
    cookies = [s["cookie"] for s in submits(site)]
    assert cookies[0] == "" and cookies[1] == cookies[2] != "" and cookies[3] == ""
    assert site.stats.sessions == 3  # start_session's, and one per conversation


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"banned_words": ("forbidden",)}, ContentFilterError),
        ({"banned_ips": ("127.0.0.1",)}, ContentFilterError),  # the plugin says the same
        ({"upstream_error": "You exceeded your current quota."}, UpstreamError),
    ],
)
@pytest.mark.parametrize("stream", [True, False])
async def test_refusals_of_the_plugin(
    engine_site: SiteFactory, options: dict[str, Any], error: type[Exception], stream: bool
) -> None:
    site, url = await engine_site(**options)
    with pytest.raises(error):
        await ask(url, [user("a forbidden word")], stream=stream)
    assert routes(site).count(SUBMIT) == 1


@pytest.mark.parametrize("generation", ["3.6", "2.4"])
async def test_a_message_over_the_bot_s_cap_is_refused_before_sending(
    engine_site: SiteFactory, generation: str
) -> None:
    site, url = await engine_site(generation=generation, text_input_max_length=10)
    with pytest.raises(InvalidRequestError, match="at most 10"):
        await ask(url, [user("a message of more than ten characters")])
    assert SUBMIT not in routes(site)  # never the site's vague "query has been rejected"


async def test_a_long_conversation_is_folded_to_the_bot_s_max_messages(
    engine_site: SiteFactory,
) -> None:
    site, url = await engine_site(max_messages=4, discussions=False)  # (no stored chain)
    messages = [user("q0")]
    for turn in range(1, 5):
        answer, _ = await ask(url, messages)
        messages += [assistant(answer), user(f"q{turn}")]
    answer, _ = await ask(url, messages)
    sent = json.loads(submits(site)[-1]["messages"])
    assert len(sent) == 4  # what the bot keeps, so it drops nothing of it
    assert all(f"User: q{turn}" in sent[0]["content"] for turn in range(3))  # none lost
    assert turns(answer) == 3  # the newest turns as turns; the oldest in one system message


@pytest.mark.parametrize("stream", [True, False])
async def test_usage_is_reported_only_when_the_site_says_it_is_real(
    engine_site: SiteFactory, stream: bool
) -> None:
    _, estimated = await engine_site(usage_accuracy="estimated")
    _, counted = await engine_site(usage_accuracy="full")
    assert (await ask(estimated, [user("hi")], stream=stream))[1] == []
    [usage] = (await ask(counted, [user("hi")], stream=stream))[1]
    assert (
        isinstance(usage, Usage)
        and usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    )


async def test_a_chat_id_the_site_may_chain_is_not_reused_after_a_fail_over(
    engine_site: SiteFactory,
) -> None:
    """With Discussions, 3.6 chains what it stored under a chatId and ignores the transcript:
    a conversation answered elsewhere in between comes back under a new chatId."""
    site_a, a = await engine_site()
    _, b = await engine_site()
    conversation = Conversation()
    messages = [user("one")]
    first, _ = await ask(a, messages, conversation=conversation)
    messages += [assistant(first), user("two")]
    second, _ = await ask(b, messages, conversation=conversation)  # failed over to b
    messages += [assistant(second), user("three")]
    third, _ = await ask(a, messages, conversation=conversation)
    assert turns(third) == 4  # the transcript, not a's stored first turn (2)
    ids = [s["chatId"] for s in submits(site_a)]
    assert ids[0] != ids[1]
    # Without a Conversation the book does the same: the transcript names the chat.
    fresh = [user("alpha")]
    answer, _ = await ask(a, fresh)
    fresh += [assistant(answer), user("beta")]
    await ask(a, fresh)
    assert submits(site_a)[-1]["chatId"] == submits(site_a)[-2]["chatId"]


async def test_bot_id_picks_a_bot_and_an_unknown_one_is_handled_as_each_generation_does(
    engine_site: SiteFactory,
) -> None:
    _, url = await engine_site(extra_bots=("support",))
    answer, _ = await ask(url, [user("hi")], bot_id="support")
    assert answer.startswith("[local AI Engine site: bot support] Echo: hi")
    default, _ = await ask(url, [user("hi")])
    assert default.startswith("[local AI Engine site] Echo: hi")  # the page's first bot
    unknown_g3, _ = await ask(url, [user("hi")], bot_id="nobody")  # 3.6: the default answers
    assert unknown_g3.startswith("[local AI Engine site] Echo: hi")
    _, g2 = await engine_site(generation="2.4")
    with pytest.raises(PluginError, match="rejected"):  # 2.4 refuses it
        await ask(g2, [user("hi")], bot_id="nobody")


async def test_a_site_wide_bot_is_found_on_any_page(engine_site: SiteFactory) -> None:
    _, url = await engine_site(site_wide=True, chat_path="/chat/")
    answer, _ = await ask(url, [user("from the footer")])
    assert "Echo: from the footer" in answer


async def test_a_page_without_an_ai_engine_chat(engine_site: SiteFactory) -> None:
    _, url = await engine_site(chat_path="/chat/")
    with pytest.raises(NotAIEngineSiteError, match="not an AI Engine site"):
        await ask(url, [user("hi")])
    answer, _ = await ask(url, [user("hi")], chat_page="/chat/")
    assert "Echo: hi" in answer


@pytest.mark.parametrize(
    ("fault", "stream", "error"),
    [
        ("http500", True, ResponseStatusError),
        ("cloudflare", True, ChallengeError),
        ("maintenance", False, ResponseStatusError),
        ("php_warning", True, PluginError),  # the plugin finds its headers sent
        ("truncate", True, TruncatedStreamError),
        ("truncate", False, TruncatedStreamError),
        ("reset", False, TransportError),
    ],
)
async def test_the_ai_power_site_s_faults_on_an_ai_engine_site(
    engine_site: SiteFactory, fault: str, stream: bool, error: type[Exception]
) -> None:
    site, url = await engine_site(faults=(fault,), fault_every=2)  # start_session passes
    with pytest.raises(error):
        await ask(url, [user("hello")], stream=stream)
    assert routes(site) == [START, SUBMIT]


async def test_a_php_warning_before_a_whole_reply_still_answers(engine_site: SiteFactory) -> None:
    _, url = await engine_site(faults=("php_warning",), fault_every=2)
    answer, _ = await ask(url, [user("hello")], stream=False)
    assert answer.startswith("[local AI Engine site] Echo: hello")


async def test_one_deadline_covers_the_whole_call(engine_site: SiteFactory) -> None:
    _, url = await engine_site(faults=("slow",), slow_seconds=5, fault_every=2)
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError):
        await ask(url, [user("hello")], timeout=0.5)
    assert time.monotonic() - started < 3


async def test_every_chat_request_gives_its_connection_slot_back(
    engine_site: SiteFactory,
) -> None:
    """With one connection to the site allowed, each message must wait for the one before to
    give its slot back: answered whole or streamed, left mid-stream, refused and retried,
    refused for good. (A slot kept would make the next message wait out its deadline.)"""
    site, url = await engine_site()
    one = {"connections_per_host": 1, "timeout": 3}
    assert "Echo: whole" in (await ask(url, [user("whole")], stream=False, **one))[0]
    assert "Echo: streamed" in (await ask(url, [user("streamed")], **one))[0]
    left = AIEngine.create_async_generator("", [user("left")], site_url=url, **one)
    assert isinstance(await anext(left), str)
    await left.aclose()  # type: ignore[attr-defined]
    site.advance_ticks(2)  # a refused nonce: refreshed, and the message sent again
    assert "Echo: retried" in (await ask(url, [user("retried")], **one))[0]
    _, limited = await engine_site(faults=("limit",))
    for stream in (False, True, False):
        with pytest.raises(RateLimitError):
            await ask(limited, [user("over")], stream=stream, **one)
    slots = await get_slots()
    assert slots.busy(origin_of(url), 1) == 0 and slots.busy(origin_of(limited), 1) == 0
