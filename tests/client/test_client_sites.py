"""The client against real local AI Power sites: answers, fail-over, breakers, sync use."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import textwrap
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from chatbridge import (
    AIPower,
    AllTargetsFailedError,
    AsyncClient,
    ChatCompletion,
    ChatGptt,
    Client,
    InvalidRequestError,
    Policy,
    RouteNotFoundError,
    TruncatedStreamError,
)
from chatbridge._client._health import HealthBook
from chatbridge.site import AIEngineSiteConfig, LocalSite, SiteConfig

from ..conftest import default_sigint, free_port, in_thread

HI = [{"role": "user", "content": "hi"}]


def fresh(**policy: float) -> dict[str, object]:
    """A private health book per test, so breakers do not leak between tests."""
    chosen = Policy(**policy)
    return {"policy": chosen, "health": HealthBook(chosen)}


async def test_one_target_route_answers_and_says_who() -> None:
    async with LocalSite() as url:
        client = AsyncClient(routes={"r": [{"provider": "AIPower", "site_url": url}]}, **fresh())
        answer = await client.chat.completions.create(model="r", messages=HI)
    assert isinstance(answer, ChatCompletion)
    assert answer.id.startswith("chatcmpl-") and answer.object == "chat.completion"
    assert "Echo: hi" in (answer.choices[0].message.content or "")
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage is None  # an AI Power site reports none: never invented
    assert answer.model == AIPower.default_model
    info = answer.chatbridge
    assert info is not None and info.provider == "AIPower" and info.site == url
    assert [a.outcome for a in info.attempts] == ["answered"]
    assert '"usage"' not in answer.model_dump_json()


async def test_dead_primary_fails_over_and_the_attempts_say_so() -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    async with LocalSite() as url:
        client = AsyncClient(
            routes={
                "r": [
                    {"provider": "AIPower", "site_url": dead},
                    {"provider": "AIPower", "site_url": url},
                ]
            },
            **fresh(retry_backoff=0.01),
        )
        answer = await client.chat.completions.create(model="r", messages=HI)
    info = answer.chatbridge
    assert info is not None and info.site == url
    # connection refused: provably nothing sent, so retried once, then failed over
    assert [(a.outcome, a.error) for a in info.attempts] == [
        ("failed", "ConnectError"),
        ("failed", "ConnectError"),
        ("answered", None),
    ]


async def test_breaker_opens_then_skips_the_failing_site_then_probes_it() -> None:
    faulty = SiteConfig(faults=("http500",), fault_target="all")
    async with LocalSite(faulty) as bad, LocalSite() as good:
        client = AsyncClient(
            routes={
                "r": [
                    {"provider": "AIPower", "site_url": bad},
                    {"provider": "AIPower", "site_url": good},
                ]
            },
            **fresh(failure_threshold=2, cooldown=0.3),
        )
        outcomes = []
        for _ in range(4):
            answer = await client.chat.completions.create(model="r", messages=HI)
            assert answer.chatbridge is not None
            outcomes.append([a.outcome for a in answer.chatbridge.attempts])
        health = client.health()["r"]
        bad_label = client.routes["r"].targets[0].label
        assert health[bad_label]["state"] == "open"
        await asyncio.sleep(0.35)
        probe = await client.chat.completions.create(model="r", messages=HI)
    assert outcomes == [
        ["failed", "answered"],
        ["failed", "answered"],
        ["skipped", "answered"],
        ["skipped", "answered"],
    ]
    assert probe.chatbridge is not None
    assert [a.outcome for a in probe.chatbridge.attempts] == ["failed", "answered"]


async def test_every_target_failing_is_one_error_naming_each() -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    faulty = SiteConfig(faults=("cloudflare",), fault_target="all")
    async with LocalSite(faulty) as blocked:
        client = AsyncClient(
            routes={
                "r": [
                    {"provider": "AIPower", "site_url": dead, "name": "dead one"},
                    {"provider": "AIPower", "site_url": blocked, "name": "challenged"},
                ]
            },
            **fresh(retry_backoff=0.01),
        )
        with pytest.raises(AllTargetsFailedError) as info:
            await client.chat.completions.create(model="r", messages=HI)
    error = info.value
    assert "dead one: ConnectError" in str(error) and "challenged: ChallengeError" in str(error)
    assert [a.error for a in error.attempts] == ["ConnectError", "ConnectError", "ChallengeError"]


async def test_streaming_chunks_are_openai_shaped() -> None:
    async with LocalSite() as url:
        client = AsyncClient(provider="AIPower", site_url=url, **fresh())
        stream = await client.chat.completions.create(model="", messages=HI, stream=True)
        chunks = [chunk async for chunk in stream]
    assert len(chunks) > 3
    ids = {chunk.id for chunk in chunks}
    assert len(ids) == 1 and ids.pop().startswith("chatcmpl-")
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].choices[0].delta.content is None
    assert chunks[0].chatbridge is not None and chunks[-1].chatbridge is not None
    for middle in chunks[1:-1]:
        assert middle.chatbridge is None and '"chatbridge"' not in middle.model_dump_json()
        assert middle.choices[0].delta.role is None
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert "Echo: hi" in text


async def test_gpt4free_habits(monkeypatch: pytest.MonkeyPatch) -> None:
    async with LocalSite() as url:
        monkeypatch.setattr(ChatGptt, "url", url)
        client = AsyncClient(provider=ChatGptt, **fresh())
        answer = await client.chat.completions.create(model="gpt-4o-mini", messages=HI)
        assert answer.model == "gpt-4o-mini" and answer.choices[0].message.content
        by_name = AsyncClient(provider="AIPower", site_url=url, **fresh())
        stream = by_name.chat.completions.create(model="any", messages=HI, stream=True)
        text = "".join([c.choices[0].delta.content or "" async for c in stream])
    assert "Echo: hi" in text


async def test_unknown_route_and_bad_input_are_typed() -> None:
    client = AsyncClient(routes={"r": [{"provider": "AIPower", "site_url": "http://127.0.0.1:9"}]})
    with pytest.raises(RouteNotFoundError, match="No route named 'nope'"):
        await client.chat.completions.create(model="nope", messages=HI)
    for timeout in (0, -1, float("nan"), float("inf"), "5"):
        with pytest.raises(InvalidRequestError, match="timeout"):
            client.chat.completions.create(model="r", messages=HI, timeout=timeout)
    with pytest.raises(InvalidRequestError, match="messages"):
        client.chat.completions.create(model="r", messages=[])
    with pytest.raises(ValueError):
        client.chat.completions.create(model="r", messages=["hi"])


def site_in_thread(
    config: SiteConfig | AIEngineSiteConfig | None = None,
) -> AbstractContextManager[str]:
    """A local site on its own loop in a thread, so a blocking caller cannot stall it."""
    return in_thread(LocalSite(config))


def test_sync_client_outside_and_inside_a_running_loop() -> None:
    with site_in_thread() as url:
        client = Client(provider="AIPower", site_url=url)
        outside = client.chat.completions.create(messages=HI)
        with client.chat.completions.create(messages=HI, stream=True) as stream:
            streamed = "".join(c.choices[0].delta.content or "" for c in stream)

        async def inside() -> str:  # a blocking call made from a coroutine still works
            answer = client.chat.completions.create(messages=HI)
            return answer.choices[0].message.content or ""

        inner = asyncio.run(inside())
        client.close()
    assert "Echo: hi" in (outside.choices[0].message.content or "")
    assert "Echo: hi" in streamed and "Echo: hi" in inner


def test_closing_a_sync_stream_early_releases_it() -> None:
    with site_in_thread() as url, Client(provider="AIPower", site_url=url) as client:
        stream = client.chat.completions.create(messages=HI, stream=True)
        first = next(iter(stream))
        stream.close()
        assert first.choices[0].delta.role == "assistant"
        with pytest.raises(StopIteration):
            next(stream)


def test_embedded_default_with_no_configuration() -> None:
    with Client() as client:
        assert client.routes == {}
        answer = client.chat.completions.create(model="anything", messages=HI)
    assert answer.chatbridge is not None and answer.chatbridge.route == "default"
    assert "Echo: hi" in (answer.choices[0].message.content or "")


def test_ctrl_c_cancels_a_sync_call_cleanly(tmp_path: Path) -> None:
    """SIGINT during a blocking call: the call stops at once, the upstream request ends, and
    the process exits normally (no hang waiting for the slow answer)."""
    script = tmp_path / "ctrl_c.py"
    script.write_text(
        textwrap.dedent(
            """
            import asyncio, sys, threading, time
            from chatbridge import Client
            from chatbridge.upstream import Behaviour, LocalUpstream

            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, daemon=True).start()
            upstream = LocalUpstream()
            url = asyncio.run_coroutine_threadsafe(upstream.start(), loop).result()
            upstream.set_plan([Behaviour("first_token_delay", seconds=60)])
            client = Client(provider="OpenAICompatible", base_url=url)
            ask = client.chat.completions.create

            def announce() -> None:  # once the upstream holds the request: interrupt now
                while not upstream.stats.requests:
                    time.sleep(0.01)
                print("asked", flush=True)

            threading.Thread(target=announce, daemon=True).start()
            started = time.monotonic()
            try:
                ask(model="m", messages=[{"role": "user", "content": "hi"}])
            except KeyboardInterrupt:
                while not upstream.stats.disconnected and time.monotonic() - started < 30:
                    time.sleep(0.01)
                print(f"interrupted after {time.monotonic() - started:.1f}s, "
                      f"upstream ended: {upstream.stats.disconnected}", flush=True)
                client.close()
                sys.exit(0)
            print("answered?!", flush=True)
            """
        )
    )
    process = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,  # a background `pytest &` would hand it SIGINT ignored
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "asked"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=45)
    finally:  # a failed test leaves no process (nor its pipes) behind
        if process.poll() is None:
            process.kill()
        process.communicate()
    # Stopped by the interrupt, not by the answer: the upstream holds its first token 60 s,
    # longer than the wait above.
    assert process.returncode == 0, err
    assert "interrupted after" in out and "upstream ended: 1" in out, out


async def test_a_skipped_target_is_recorded_alike_on_every_call() -> None:
    """A target skipped for an open breaker is named in every answer's attempts the same
    way (one frozen record, shared), and equal to the validated record."""
    from chatbridge._client._models import Attempt

    policy = Policy(cooldown=3600, cooldown_max=3600, failure_threshold=1)
    health = HealthBook(policy)
    async with LocalSite() as url:
        dead = {"provider": "AIPower", "site_url": "http://127.0.0.1:9"}
        client = AsyncClient(
            routes={"r": [dead, {"provider": "AIPower", "site_url": url}]},
            policy=policy,
            health=health,
        )
        health.get(client.routes["r"].targets[0].key).failure()  # open for an hour
        answers = [await client.chat.completions.create(model="r", messages=HI) for _ in range(2)]
    skips = [answer.chatbridge.attempts[0] for answer in answers if answer.chatbridge]
    expected = Attempt.model_validate(
        {
            "target": "AIPower http://127.0.0.1:9",
            "provider": "AIPower",
            "message": "circuit breaker open",
            "outcome": "skipped",
        }
    )
    assert skips == [expected, expected]
    assert skips[0].model_fields_set == expected.model_fields_set
    assert [a.chatbridge.attempts[1].outcome for a in answers if a.chatbridge] == ["answered"] * 2


async def test_a_cut_stream_names_the_target_that_cut_it_and_what_to_do() -> None:
    """Issue 22, item 8: the first target cuts its streamed answer after some text, and the
    second cannot continue a partial answer. The error names the one that cut it and says
    what works: without streaming, the second answers."""
    cutting = SiteConfig(faults=("truncate",))  # a stream cut after a few events
    async with LocalSite(cutting) as cut_url, LocalSite() as url:
        routes = {
            "r": [
                {"provider": "AIPower", "site_url": cut_url, "name": "cutter"},
                {"provider": "AIPower", "site_url": url, "name": "healthy"},
            ]
        }
        client = AsyncClient(routes=routes, **fresh())
        question = [{"role": "user", "content": "one two three four five six seven"}]
        received = []
        with pytest.raises(TruncatedStreamError) as caught:
            async for chunk in await client.chat.completions.create(
                model="r", messages=question, stream=True
            ):
                received.append(chunk.choices[0].delta.content or "" if chunk.choices else "")
        whole = await client.chat.completions.create(model="r", messages=question)
    message = str(caught.value)
    streamed = "".join(received)
    assert message.startswith("The answer was cut off and no target could continue it: cutter ")
    assert f"after {len(streamed):,} streamed characters" in message
    assert "route 'r' declares continues_prefill" in message
    assert "stream=False" in message
    # No target continues a partial answer, so the router kept none of it (the caller has it)
    assert streamed != "" and caught.value.partial == ""
    assert whole.chatbridge is not None and whole.chatbridge.target == "healthy"
    assert "Echo: one two three" in (whole.choices[0].message.content or "")
