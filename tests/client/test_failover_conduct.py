"""How the client conducts fail-over: probes given back, limits whichever task pulls,
breakers per endpoint and key, only a target's own failures judged, deadlines, waits for
Retry-After, continuations, credentials never shown (regressions from a cold review of the
client layer: each failed before its fix)."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest
from aiohttp import web

from chatbridge import (
    AllTargetsFailedError,
    AsyncClient,
    ConfigError,
    ContentFilterError,
    Policy,
    RouteUnavailableError,
)
from chatbridge._client._health import Gate, HealthBook
from chatbridge.site import LocalSite, SiteConfig
from chatbridge.upstream import Behaviour, LocalUpstream, UpstreamConfig

from ..conftest import serve_app
from .wall import FULL, QUESTION


def openai(url: str, model: str = "m", **extra: object) -> dict[str, object]:
    return {"provider": "OpenAICompatible", "base_url": url, "model": model, **extra}


def client_for(targets: list[dict[str, object]], **policy: float) -> AsyncClient:
    chosen = Policy(**policy)
    return AsyncClient(routes={"r": targets}, policy=chosen, health=HealthBook(chosen))


async def test_a_probe_taken_by_a_call_out_of_time_is_given_back() -> None:
    upstream = LocalUpstream()
    async with upstream as url:
        client = client_for([openai(url)], failure_threshold=1, cooldown=0.3, cooldown_max=0.3)
        upstream.set_plan([Behaviour("status", status=404), Behaviour()])
        with pytest.raises(AllTargetsFailedError):
            await client.chat.completions.create(model="r", messages=QUESTION)

        async def busy() -> None:
            await asyncio.sleep(0.25)
            time.sleep(0.2)  # noqa: ASYNC251  (on purpose: the loop is blocked as the cool-down ends)

        blocker = asyncio.create_task(busy())
        with pytest.raises(AllTargetsFailedError):
            await client.chat.completions.create(model="r", messages=QUESTION, timeout=0.35)
        await blocker
        await asyncio.sleep(0.35)
        answer = await client.chat.completions.create(model="r", messages=QUESTION, timeout=2)
    assert answer.choices[0].message.content == FULL


@pytest.mark.parametrize("mode", ["async for", "wait_for per chunk", "first direct"])
async def test_limits_hold_whichever_task_pulls_the_chunks(mode: str) -> None:
    first, second = LocalUpstream(), LocalUpstream()
    async with first as a, second as b:
        first.set_plan([Behaviour("stall_after", tokens=5, seconds=3)])
        client = client_for(
            [openai(a), openai(b, continues_prefill=True)], stall_timeout=0.3, timeout=20
        )
        stream = client.chat.completions.create(model="r", messages=QUESTION, stream=True)
        text, started = "", time.monotonic()
        async with stream:
            if mode == "async for":
                async for chunk in stream:
                    text += chunk.choices[0].delta.content or ""
            else:
                if mode == "first direct":
                    text += (await stream.__anext__()).choices[0].delta.content or ""
                while True:
                    try:
                        chunk = await asyncio.wait_for(stream.__anext__(), 30)
                    except StopAsyncIteration:
                        break
                    text += chunk.choices[0].delta.content or ""
    assert text == FULL and time.monotonic() - started < 2
    assert [r.prefill for r in second.stats.recent] == [True]


async def test_two_targets_on_one_endpoint_are_both_tried() -> None:
    upstream = LocalUpstream(UpstreamConfig(models=("small", "big")))
    async with upstream as url:
        client = client_for([openai(url, "small"), openai(url, "big")])
        upstream.set_plan([Behaviour("context_length"), Behaviour()])
        answer = await client.chat.completions.create(model="r", messages=QUESTION)
    assert answer.model == "big" and upstream.stats.requests == 2


async def test_what_is_not_the_targets_fault_does_not_open_its_breaker() -> None:
    upstream = LocalUpstream()
    async with upstream as url, LocalSite() as site:
        upstream.set_plan([Behaviour("first_token_delay", seconds=0.3)])
        client = client_for([openai(url)], failure_threshold=2)
        for _ in range(3):  # an impatient caller's own deadline
            with pytest.raises(AllTargetsFailedError):
                await client.chat.completions.create(model="r", messages=QUESTION, timeout=0.1)
        on_site = AsyncClient(
            routes={"s": [{"provider": "AIPower", "site_url": site}]},
            health=client._core.health_book,
        )
        for _ in range(3):  # a caller's bad argument, raised inside the provider
            with pytest.raises(AttributeError):
                await on_site.chat.completions.create(
                    model="s", messages=QUESTION, conversation="not a Conversation"
                )
        states = [*client.health()["r"].values(), *on_site.health()["s"].values()]
        answer = await client.chat.completions.create(model="r", messages=QUESTION)
        fine = await on_site.chat.completions.create(model="s", messages=QUESTION)
    assert [(s["state"], s["failures"]) for s in states] == [("closed", 0), ("closed", 0)]
    assert answer.choices[0].message.content == FULL and fine.choices[0].message.content


async def test_provider_options_include_the_model_as_in_gpt4free() -> None:
    async with LocalUpstream(UpstreamConfig(models=("llama3.2",))) as url:
        client = AsyncClient(provider="OpenAICompatible", base_url=url, model="llama3.2")
        answer = await client.chat.completions.create(messages=QUESTION)
    assert answer.model == "llama3.2" and answer.choices[0].message.content == FULL


async def test_the_last_hope_gets_the_whole_deadline() -> None:
    """After text, a fallback that cannot continue is no rescue, and one whose breaker is
    open is no fallback: neither may cut a slow but sound target short."""
    slow, healthy = LocalUpstream(), LocalUpstream()
    async with slow as a, healthy as b:
        slow.set_plan([Behaviour("first_token_delay", seconds=0.4)])
        client = client_for([openai(a), openai(b)], first_token_timeout=0.1, failure_threshold=1)
        client._core.health_book.get(client.routes["r"].targets[1].key).failure()  # B open
        answer = await client.chat.completions.create(model="r", messages=QUESTION)
    assert answer.chatbridge is not None and answer.chatbridge.site == a


async def test_retry_after_is_waited_for_when_nothing_else_can_answer() -> None:
    upstream = LocalUpstream()
    async with upstream as url:
        upstream.set_plan([Behaviour("status", status=429, retry_after="1"), Behaviour()])
        client = client_for([openai(url)])
        started = time.monotonic()
        answer = await client.chat.completions.create(model="r", messages=QUESTION)
    assert answer.choices[0].message.content == FULL
    assert 0.9 <= time.monotonic() - started < 3 and upstream.stats.requests == 2


async def test_a_route_whose_every_target_rests_fails_at_once() -> None:
    """No wait for a breaker to reopen: a typed error that says when to come back."""
    client = client_for(
        [openai("http://127.0.0.1:9/v1"), openai("http://127.0.0.1:9/v2")],
        failure_threshold=1,
        cooldown=20,
        cooldown_max=20,
        retry_backoff=0.01,
    )
    with pytest.raises(AllTargetsFailedError) as first:
        await client.chat.completions.create(model="r", messages=QUESTION)
    assert not isinstance(first.value, RouteUnavailableError)  # it asked both: they failed
    with pytest.raises(RouteUnavailableError, match="every one is resting") as info:
        await client.chat.completions.create(model="r", messages=QUESTION)
    error = info.value
    assert error.retry_after is not None and 15 < error.retry_after <= 20
    assert [a.outcome for a in error.attempts] == ["skipped", "skipped"] and not error.errors
    assert "circuit breaker open" in str(error) and "try again in" in str(error)


async def test_a_failed_call_does_not_wait_for_an_open_breaker() -> None:
    """The primary fails, the fallback's breaker is open for 5 s: the call ends with what
    failed, saying when the fallback returns, instead of waiting to probe it."""
    fallback = LocalUpstream()
    async with fallback as url:
        client = client_for(
            [openai("http://127.0.0.1:9/v1"), openai(url)],
            failure_threshold=1,
            cooldown=5,
            retry_backoff=0.01,
        )
        client._core.health_book.get(client.routes["r"].targets[1].key).failure()
        with pytest.raises(AllTargetsFailedError) as info:
            await client.chat.completions.create(model="r", messages=QUESTION)
    assert fallback.stats.requests == 0 and info.value.retry_after is not None
    assert [a.outcome for a in info.value.attempts] == ["failed", "skipped"]


def test_continuation_is_refused_for_providers_that_cannot_continue() -> None:
    with pytest.raises(ConfigError, match="'continues_prefill': AIPower cannot continue"):
        AsyncClient(
            routes={
                "r": [
                    {
                        "provider": "AIPower",
                        "site_url": "http://a.example",
                        "continues_prefill": True,
                    }
                ]
            }
        )


async def test_credentials_never_show(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("CB_PROXY", "http://alice:Pr0xyS3cret@127.0.0.1:9")
    with pytest.raises(ConfigError, match="credentials in the URL"):
        AsyncClient(routes={"r": [openai("http://tok:S3cret@127.0.0.1:9/v1")]})
    async with LocalUpstream() as url:
        client = AsyncClient(
            routes={"r": [openai(url + "?key=Qu3ryS3cret", proxy="env:CB_PROXY"), openai(url)]},
            health=HealthBook(),
        )
        with caplog.at_level(logging.INFO, logger="chatbridge.client"):
            answer = await client.chat.completions.create(model="r", messages=QUESTION)
    shown = " ".join(
        [repr(client.routes), answer.model_dump_json(), str(client.health()), caplog.text]
    )
    for secret in ("Pr0xyS3cret", "Qu3ryS3cret", "alice"):
        assert secret not in shown


async def test_an_unknown_route_fails_at_create_even_for_a_stream() -> None:
    client = client_for([openai("http://127.0.0.1:9/v1")])
    with pytest.raises(ValueError, match="No route named 'nope'"):
        client.chat.completions.create(model="nope", messages=QUESTION, stream=True)


async def test_an_empty_answer_still_starts_with_the_role() -> None:
    async def empty(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        done = {
            "id": "x",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        }
        await response.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", empty)
    async with serve_app(app) as url:
        client = client_for([openai(url + "/v1")])
        stream = client.chat.completions.create(model="r", messages=QUESTION, stream=True)
        chunks = [chunk async for chunk in stream]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[0].choices[0].delta.content == ""
    assert chunks[-1].choices[0].finish_reason == "stop"


async def test_a_continued_stream_keeps_one_model_name() -> None:
    first, second = LocalUpstream(UpstreamConfig(models=("A",))), LocalUpstream()
    async with first as a, second as b:
        first.set_plan([Behaviour("cut_after", tokens=10)])
        client = client_for([openai(a, "A"), openai(b, "B", continues_prefill=True)])
        stream = client.chat.completions.create(model="r", messages=QUESTION, stream=True)
        chunks = [chunk async for chunk in stream]
    assert {chunk.model for chunk in chunks} == {"A"}
    final = chunks[-1].chatbridge
    assert final is not None and [a.outcome for a in final.attempts] == ["failed", "continued"]


async def test_nothing_is_sent_to_a_seed_site_that_is_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    from chatbridge import ChatGptt

    client = AsyncClient(provider=ChatGptt)
    with pytest.raises(ConfigError, match=r"ChatGptt's own site \(https://chatgptt.me\) is gone"):
        await client.chat.completions.create(model="gpt-4o", messages=QUESTION)
    with pytest.raises(ConfigError, match="is gone"):
        AsyncClient(routes={"r": [{"provider": "Chatgpt4o"}]})
    async with LocalSite() as url:
        monkeypatch.setattr(ChatGptt, "url", url)  # retargeted: allowed
        answer = await client.chat.completions.create(model="gpt-4o", messages=QUESTION)
    assert answer.choices[0].message.content


async def test_cancelling_a_judged_probe_in_its_retry_pause_frees_no_other_probe() -> None:
    """A half-open probe fails with a retryable error (judged), and its call is cancelled
    while it pauses before the retry. Another call has taken the next probe meanwhile: the
    cancellation must not release that one (a third call would get a second probe)."""
    from chatbridge import ConnectError, ResponseStatusError
    from chatbridge._client._config import Route, Target
    from chatbridge._client._router import CallReport, Router
    from chatbridge._providers._base import AsyncGeneratorProvider

    plan: list[str] = []

    class Scripted(AsyncGeneratorProvider):
        url = "http://scripted.invalid"

        @classmethod
        async def create_async_generator(cls, model, messages, **kwargs):  # type: ignore[no-untyped-def,override]
            kind = plan.pop(0)
            if kind == "404":
                raise ResponseStatusError("not found", status=404)
            if kind == "refused":
                raise ConnectError("refused")
            await asyncio.sleep(5)  # "hang"
            yield "late"

    policy = Policy(failure_threshold=1, cooldown=0, cooldown_max=0, retry_backoff=0.4, timeout=3)
    book = HealthBook(policy, rand=lambda: 0.5)  # the retry pause is 0.2 s
    router = Router(book, policy)
    route = Route("r", (Target(Scripted, {"site_url": "http://scripted.invalid"}),))
    health = book.get(route.targets[0].key)

    async def ask() -> str:
        question = [{"role": "user", "content": "q"}]
        attempts = router.run(route, question, CallReport("r"), buffered=True)
        return "".join([text async for attempt in attempts async for text in attempt.texts])

    plan[:] = ["404"]
    with pytest.raises(AllTargetsFailedError):
        await ask()  # the breaker opens (cool-down 0: half-open at once)
    plan[:] = ["refused"]
    first = asyncio.create_task(ask())  # takes the probe, fails (judged), pauses 0.2 s
    await asyncio.sleep(0.05)
    plan[:] = ["hang"]
    second = asyncio.create_task(ask())  # takes the next probe and hangs
    await asyncio.sleep(0.05)
    assert health.probing
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    assert health.probing  # still the second call's
    assert (await book.admit(route.targets[0].key)).gate is Gate.BUSY
    second.cancel()
    await asyncio.gather(second, return_exceptions=True)


async def test_a_rate_limited_model_cools_alone_and_its_sibling_answers() -> None:
    """Regression: the cool-down was keyed by provider, URL and key only, so a 429 on one
    model put a second model on the same endpoint and key into cool-down too."""
    upstream = LocalUpstream(UpstreamConfig(models=("small", "big")))
    async with upstream as url:
        routes = {
            "r": [
                {"provider": "OpenAICompatible", "base_url": url, "model": model}
                for model in ("small", "big")
            ]
        }
        client = AsyncClient(routes=routes, health=HealthBook())
        upstream.set_plan([Behaviour("status", status=429, retry_after="30")], model="small")
        first = await client.chat.completions.create(model="r", messages=QUESTION)
        second = await client.chat.completions.create(model="r", messages=QUESTION)
        health = client.health()["r"]
    assert first.model == second.model == "big"
    assert [a.outcome for a in second.chatbridge.attempts] == ["skipped", "answered"]
    assert upstream.stats.by_model == {"small": 1, "big": 2}
    small, big = (target.label for target in client.routes["r"].targets)
    assert health[small]["cooling_for"] > 25 and health[big]["cooling_for"] == 0


async def test_a_site_that_answers_whole_gets_the_time_a_whole_answer_takes() -> None:
    """A 1.7 site never streams: its first text is its whole answer, so it gets
    ``whole_answer_timeout`` while a fallback stands by; a site known to stream (AIPKit,
    once its page was read) gets ``first_token_timeout``; a target's own limit wins."""
    policy = Policy(first_token_timeout=0.2, whole_answer_timeout=10, failure_threshold=9)
    slow = {"faults": ("slow",), "slow_seconds": 0.6}
    fallback = LocalUpstream()
    async with (
        LocalSite(SiteConfig(generation="1.7", **slow)) as whole,
        LocalSite(SiteConfig(generation="aipkit", **slow)) as streams,
        fallback as fallback_url,
    ):

        def route(site: str, **extra: object) -> dict[str, object]:
            target = {"provider": "AIPower", "site_url": site, **extra}
            return {"targets": [target, openai(fallback_url)]}

        routes = {"whole": route(whole), "streams": route(streams), "own": route(whole)}
        routes["own"]["targets"][0]["first_token_timeout"] = 0.2  # type: ignore[index]
        client = AsyncClient(routes=routes, policy=policy, health=HealthBook(policy))
        answers = {}
        for name in ("whole", "streams", "streams", "own"):
            answer = await client.chat.completions.create(model=name, messages=QUESTION)
            answers.setdefault(name, []).append(answer.chatbridge.provider)
    # AIPKit's first call is before its page was read (whole until known), then it streams
    assert answers == {
        "whole": ["AIPower"],
        "streams": ["AIPower", "OpenAICompatible"],
        "own": ["OpenAICompatible"],
    }


def test_a_targets_own_first_token_limit_must_be_a_positive_number() -> None:
    for bad in (0, -1, "5", float("inf"), True):
        with pytest.raises(ConfigError, match="first_token_timeout"):
            AsyncClient(
                routes={"r": [openai("http://127.0.0.1:9/v1", first_token_timeout=bad)]}
            )


async def test_a_route_that_says_so_fails_over_on_a_content_filter() -> None:
    """By default a content filter's refusal is the answer; a route with ``fail_over_on =
    ["content_filter"]`` asks the next target (a site's banned-words list is its own)."""
    strict, lenient = LocalUpstream(), LocalUpstream()
    async with strict as a, lenient as b:
        strict.set_plan([Behaviour("content_filter")])
        routes = {
            "stops": [openai(a), openai(b)],
            "goes_on": {"targets": [openai(a), openai(b)], "fail_over_on": ["content_filter"]},
        }
        client = AsyncClient(routes=routes, health=HealthBook())
        with pytest.raises(ContentFilterError):
            await client.chat.completions.create(model="stops", messages=QUESTION)
        answer = await client.chat.completions.create(model="goes_on", messages=QUESTION)
        lenient.set_plan([Behaviour("content_filter")])
        with pytest.raises(AllTargetsFailedError) as both:
            await client.chat.completions.create(model="goes_on", messages=QUESTION)
    assert answer.choices[0].message.content == FULL and answer.chatbridge.site == b
    assert [type(e).__name__ for e in both.value.errors] == ["ContentFilterError"] * 2
    assert lenient.stats.requests == 2


@pytest.mark.parametrize(
    "route, field",
    [
        ({"strategy": "fastest"}, "strategy"),
        ({"fail_over_on": ["everything"]}, "fail_over_on"),
        ({"fail_over_on": "content_filter"}, "fail_over_on"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_route_field_that_is_wrong_is_one_config_error(
    route: dict[str, object], field: str
) -> None:
    with pytest.raises(ConfigError, match=field):
        AsyncClient(routes={"r": {"targets": [openai("http://127.0.0.1:9/v1")], **route}})


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"weight": 0}, "weight"),
        ({"weight": 1.5}, "weight"),
        ({"max_concurrent": -1}, "max_concurrent"),
        ({"max_concurrent": True}, "max_concurrent"),
        ({"proxies": ["ftp://proxy.example"]}, "proxies"),
        ({"proxies": "http://proxy.example"}, "proxies"),
    ],
)
def test_a_target_field_that_is_wrong_is_one_config_error(
    extra: dict[str, object], field: str
) -> None:
    with pytest.raises(ConfigError, match=field):
        AsyncClient(routes={"r": [openai("http://127.0.0.1:9/v1", **extra)]})
