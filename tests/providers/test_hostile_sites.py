"""Broken or malicious sites (issue 8): typed errors, one answer per message, no stray cookies,
one deadline per call, and one conversation per caller."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiohttp import web

from chatbridge import (
    AIPower,
    Conversation,
    EmptyResponseError,
    InvalidRequestError,
    PluginError,
    RequestTimeoutError,
    ResponseError,
    ResponseStatusError,
    TruncatedStreamError,
    format_prompt,
)
from chatbridge._aipower._call import CallOptions
from chatbridge._aipower._history import split_conversation
from chatbridge._aipower._page import parse_page
from chatbridge._constants import FLATTENED_MESSAGE_BUDGET
from chatbridge.site._config import GENERATIONS
from tests.conftest import serve_app
from tests.providers.conftest import SiteFactory, assistant, user
from tests.providers.test_odd_sites import PAGE, legacy_app

DEEP = "[" * 100_000


@pytest.mark.parametrize("generation", GENERATIONS)
async def test_a_truncated_reply_says_it_was_cut_off(
    local_site: SiteFactory, generation: str
) -> None:
    """Whatever step the site cut (legacy JSON, a stream, AIPKit's cache step), the error is
    typed and says the reply was cut off; and the message was sent once."""
    site, url = await local_site(generation=generation, faults=("truncate",))
    with pytest.raises(TruncatedStreamError, match="cut off"):
        await AIPower.create_async("", [user("a b c d e f")], site_url=url)
    assert site.stats.ajax_requests == 1


async def test_a_truncated_page_says_it_was_cut_off(local_site: SiteFactory) -> None:
    _, url = await local_site(generation="aipkit", faults=("truncate",), fault_target="pages")
    with pytest.raises(TruncatedStreamError, match="cut off"):
        await AIPower.create_async("", [user("hi")], site_url=url)


@pytest.mark.parametrize(
    ("content_type", "body", "error"),
    [
        ("text/html", '{"status":"success","data":' + DEEP, ResponseError),
        ("text/event-stream", "data: " + DEEP + "\n\ndata: [DONE]\n\n", EmptyResponseError),
        ("text/event-stream", "event: message\ndata: " + DEEP + "\n\n", PluginError),
    ],
)
async def test_deeply_nested_json_is_a_typed_reply_error(
    content_type: str, body: str, error: type[Exception]
) -> None:
    async def ajax(request: web.Request) -> web.Response:
        return web.Response(text=body, content_type=content_type)

    async with serve_app(legacy_app(ajax)) as url:
        with pytest.raises(error):
            await AIPower.create_async("", [user("hi")], site_url=url)


async def test_deeply_nested_json_error_page_is_a_typed_status_error() -> None:
    async def ajax(request: web.Request) -> web.Response:
        return web.Response(text=DEEP, status=500, content_type="application/json")

    async with serve_app(legacy_app(ajax)) as url:
        with pytest.raises(ResponseStatusError, match="HTTP 500"):
            await AIPower.create_async("", [user("hi")], site_url=url)


def test_deeply_nested_aipkit_config_is_skipped_not_raised() -> None:
    page = (
        '<html><body><div class="aipkit_chat_container" data-config="' + DEEP + '"></div>'
        '<script>var wpaicgParams = {"search_nonce":"abcdef0123","ajax_url":"/x.php"};'
        "</script></body></html>"
    )
    tokens = parse_page(page, "http://site.test/")
    assert tokens is not None and tokens.generation == "legacy"
    assert (tokens.nonce, tokens.ajax_url) == ("abcdef0123", "http://site.test/x.php")


@pytest.mark.parametrize(
    "messages",
    [
        [],
        [{"role": "system", "content": "be brief"}],
        [{"role": "user", "content": "   "}],
        [{"role": "user", "content": "lone \ud800 surrogate"}],
        [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "\udfff"}],
        ["not a mapping"],
    ],
)
async def test_the_callers_own_bad_input_is_a_typed_request_error(
    local_site: SiteFactory, messages: list[Any]
) -> None:
    site, url = await local_site()
    with pytest.raises(InvalidRequestError) as caught:
        await AIPower.create_async("", messages, site_url=url)
    assert isinstance(caught.value, ValueError)
    assert caught.value.param is not None and caught.value.param.startswith("messages")
    assert site.stats.requests == 0


def _client_ids(site: Any) -> list[str]:
    return [
        r.fields["wpaicg_chat_client_id"]
        for r in site.state.requests
        if r.fields.get("wpaicg_chat_client_id")
    ]


async def test_identical_transcripts_of_two_users_never_share_a_conversation(
    local_site: SiteFactory,
) -> None:
    """User B's identical opening no longer replaces A's entry, so A's next turn does not
    continue B's conversation (client id, quota, AIPKit session) nor B's restart A's."""
    site, url = await local_site(generation="1.8")
    opening = [user("hi")]
    answer_a = await AIPower.create_async("", opening, site_url=url)
    answer_b = await AIPower.create_async("", opening, site_url=url)
    assert answer_a == answer_b
    first_a, first_b = _client_ids(site)
    assert first_a != first_b
    for who in ("A", "B"):
        await AIPower.create_async(
            "", [*opening, assistant(answer_a), user(f"{who} again")], site_url=url
        )
    second_a, second_b = _client_ids(site)[2:]
    assert second_a != first_b and second_b != first_a
    assert len({first_a, first_b, second_a, second_b}) == 4


async def test_a_filed_conversation_is_continued_once(local_site: SiteFactory) -> None:
    site, url = await local_site(generation="1.8")
    answer = await AIPower.create_async("", [user("hi")], site_url=url)
    follow_up = [user("hi"), assistant(answer), user("next")]
    await AIPower.create_async("", follow_up, site_url=url)
    await AIPower.create_async("", follow_up, site_url=url)
    first, continued, fresh = _client_ids(site)
    assert continued == first and fresh != first


async def test_a_conversation_on_a_second_site_does_not_carry_the_first_sites_cookies() -> None:
    """Site A's page sets an HttpOnly session cookie (a security plugin, say); the same
    Conversation then used on site B (another host) must not send it there (item 4)."""
    seen_by_b: list[dict[str, str]] = []

    def make_app(name: str) -> web.Application:
        async def page(request: web.Request) -> web.Response:
            if name == "B":
                seen_by_b.append(dict(request.cookies))
            response = web.Response(text=PAGE, content_type="text/html")
            response.set_cookie(f"guard_{name}", "secret", httponly=True, max_age=3600)
            return response

        async def ajax(request: web.Request) -> web.Response:
            if name == "B":
                seen_by_b.append(dict(request.cookies))
            return web.json_response({"status": "success", "data": f"from {name}"})

        app = web.Application()
        app.router.add_post("/wp-admin/admin-ajax.php", ajax)
        app.router.add_get("/{tail:.*}", page)
        return app

    conversation = Conversation()
    async with serve_app(make_app("A")) as site_a, serve_app(make_app("B")) as site_b:
        site_b = site_b.replace("127.0.0.1", "localhost")
        assert (
            await AIPower.create_async("", [user("hi")], site_url=site_a, conversation=conversation)
            == "from A"
        )
        assert (
            await AIPower.create_async("", [user("hi")], site_url=site_b, conversation=conversation)
            == "from B"
        )
    assert seen_by_b and all("guard_A" not in cookies for cookies in seen_by_b)
    assert seen_by_b[-1] == {"guard_B": "secret"}  # B's own cookie does go along


def _slow_app(page_delay: float, ajax_delay: float) -> web.Application:
    async def page(request: web.Request) -> web.Response:
        await asyncio.sleep(page_delay)
        return web.Response(text=PAGE, content_type="text/html")

    async def ajax(request: web.Request) -> web.Response:
        await asyncio.sleep(ajax_delay)
        return web.json_response({"status": "success", "data": "late"})

    app = web.Application()
    app.router.add_post("/wp-admin/admin-ajax.php", ajax)
    app.router.add_get("/{tail:.*}", page)
    return app


async def test_timeout_is_the_deadline_of_the_whole_call() -> None:
    """Page and chat each fit in the timeout, together they do not (item 5)."""
    async with serve_app(_slow_app(0.5, 0.5)) as url:
        started = time.monotonic()
        with pytest.raises(RequestTimeoutError):
            await AIPower.create_async("", [user("hi")], site_url=url, timeout=0.7)
        assert time.monotonic() - started < 1.0


async def test_a_wait_on_another_calls_page_fetch_is_bounded_by_the_deadline() -> None:
    async with serve_app(_slow_app(1.0, 0.0)) as url:
        patient = asyncio.create_task(
            AIPower.create_async("", [user("hi")], site_url=url, timeout=5)
        )
        await asyncio.sleep(0.1)  # the patient call's page fetch is in flight
        started = time.monotonic()
        with pytest.raises(RequestTimeoutError):
            await AIPower.create_async("", [user("hi")], site_url=url, timeout=0.3)
        assert time.monotonic() - started < 0.8
        assert await patient == "late"


@pytest.mark.parametrize("timeout", [0, -1, 0.0, float("nan"), float("inf"), "5", True])
async def test_a_timeout_that_is_not_a_positive_finite_number_is_refused(
    local_site: SiteFactory, timeout: Any
) -> None:
    site, url = await local_site()
    with pytest.raises(InvalidRequestError, match="timeout") as caught:
        await AIPower.create_async("", [user("hi")], site_url=url, timeout=timeout)
    assert isinstance(caught.value, ValueError) and caught.value.param == "timeout"
    assert site.stats.requests == 0


async def test_no_timeout_means_no_deadline(local_site: SiteFactory) -> None:
    _, url = await local_site()
    assert "Echo: hi" in await AIPower.create_async("", [user("hi")], site_url=url, timeout=None)


async def test_a_long_17_answer_fits_in_its_history_cookie(local_site: SiteFactory) -> None:
    """1.7 keeps question and answer in a cookie: a 6,000-character answer makes a Set-Cookie
    line far over aiohttp's default 8,190-byte limit (item 11)."""
    site, url = await local_site(generation="1.7")
    conversation = Conversation()
    question = "tell me everything about tomatoes, " * 180  # ~6,300 characters, echoed back
    messages = [user(question)]
    answer = await AIPower.create_async("", messages, site_url=url, conversation=conversation)
    assert question.strip() in answer and len(answer) > 6000
    # That history cookie is too long to keep (a browser drops it too), so the site will not
    # have the history: the next turn carries it in the message instead of losing it.
    messages += [assistant(answer), user("and what about their leaves?")]
    await AIPower.create_async("", messages, site_url=url, conversation=conversation)
    sent = site.state.requests[-1].fields["message"]
    assert "tomatoes" in sent and sent.endswith("User: and what about their leaves?\nAssistant:")


async def test_a_12_turn_17_conversation_keeps_working(local_site: SiteFactory) -> None:
    """Past the 1.7 cookie window the transcript is flattened into one message, and that
    message (with the history cookie holding it) stays within its budget (items 11, 12)."""
    site, url = await local_site(generation="1.7")
    conversation = Conversation()
    messages: list[dict[str, str]] = []
    for turn in range(12):
        messages.append(user(f"turn {turn}: " + "a sentence about the garden. " * 12))
        answer = await AIPower.create_async("", messages, site_url=url, conversation=conversation)
        assert f"turn {turn}:" in answer
        messages.append(assistant(answer))
    sent = [r.fields["message"] for r in site.state.requests if r.fields.get("message")]
    assert len(sent) == 12
    longest = max(len(message) for message in sent)
    assert FLATTENED_MESSAGE_BUDGET // 2 < longest <= FLATTENED_MESSAGE_BUDGET  # it was needed


def test_a_flattened_transcript_keeps_the_system_prompt_and_the_newest_turns() -> None:
    """Item 12: the flattened message has a budget; the oldest turns go first."""
    messages: list[dict[str, str]] = [{"role": "system", "content": "Answer in French."}]
    for turn in range(40):
        messages += [
            user(f"question {turn} " + "x" * 500),
            assistant(f"answer {turn} " + "y" * 500),
        ]
    messages.append(user("and the last question?"))
    split = split_conversation(messages)
    assert len(split.whole) <= FLATTENED_MESSAGE_BUDGET
    assert split.whole.startswith("System: Answer in French.\nUser: question ")
    assert split.whole.endswith("User: and the last question?\nAssistant:")
    assert "answer 39 " in split.whole and "question 0 " not in split.whole
    kept = [turn for turn in range(40) if f"question {turn} " in split.whole]
    assert kept == list(range(kept[0], 40))  # a contiguous run of the newest turns
    short = split_conversation(messages[:3] + messages[-1:])
    assert short.whole == format_prompt(messages[:3] + messages[-1:])  # under budget: as is


@pytest.mark.parametrize("timeout", [float("inf"), 0, -5])
def test_the_engine_refuses_a_bad_deadline_too(timeout: float) -> None:
    """Whoever builds a call (a provider, the CLI's check) gets the same typed refusal,
    never aiohttp's OverflowError for an infinite deadline."""
    with pytest.raises(InvalidRequestError, match="timeout"):
        CallOptions(timeout=timeout)
    assert CallOptions(timeout=None).remaining() is None
