"""Through the server to the local OpenAI-compatible fake upstream: the SDK end to end, a
subset of the client's fault wall, and disconnect cancellation seen by the upstream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiohttp
import openai
import pytest

from chatbridge import Policy
from chatbridge.upstream import Behaviour, LocalUpstream, expected_answer
from tests.server.conftest import USER, ServeApp, post, sse_events


async def _until(condition: Callable[[], bool], seconds: float) -> None:
    """Poll the fake upstream's counters (they are plain numbers, no event to wait on)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "not within the time allowed"
        await asyncio.sleep(0.02)


def _route(*urls: str, name: str = "fake") -> dict[str, Any]:
    return {
        name: [
            {
                "provider": "OpenAICompatible",
                "base_url": url,
                "model": "fake-model",
                "name": f"up{i}",
            }
            for i, url in enumerate(urls)
        ]
    }


async def test_sdk_end_to_end_with_usage_and_options(serve_app: ServeApp) -> None:
    upstream = LocalUpstream()
    async with upstream as base, serve_app(_route(base)) as url:
        client = openai.AsyncOpenAI(base_url=url + "/v1", api_key="x", max_retries=0)
        answer = "".join(expected_answer(USER))
        reply = await client.chat.completions.create(
            model="fake",
            messages=USER,
            temperature=0.3,
            max_tokens=400,  # type: ignore[arg-type]
        )
        assert reply.choices[0].message.content == answer
        assert reply.usage is not None and reply.usage.completion_tokens > 0
        assert reply.model == "fake-model"
        assert upstream.stats.recent[-1].options.get("temperature") == 0.3
        stream = await client.chat.completions.create(
            model="fake", messages=USER, stream=True,  # type: ignore[arg-type]
            stream_options={"include_usage": True},
        )  # fmt: skip
        chunks = [chunk async for chunk in stream]
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == answer
        assert chunks[-1].usage is not None and chunks[-1].choices == []
        await client.close()


@pytest.mark.parametrize(
    "fault",
    [
        Behaviour("status", status=500),
        Behaviour("status", status=503, retry_after="1"),
        Behaviour("reset"),
        Behaviour("first_token_delay", seconds=5),
        Behaviour("malformed_at", at=1),
    ],
    ids=["500", "503", "reset", "slow-first-token", "malformed"],
)
async def test_fault_before_the_first_byte_fails_over_invisibly(
    serve_app: ServeApp, fault: Behaviour
) -> None:
    bad, good = LocalUpstream(), LocalUpstream()
    bad.set_plan(fault)
    policy = Policy(first_token_timeout=0.4, retry_backoff=0.01)
    async with bad as bad_url, good as good_url:
        async with serve_app(_route(bad_url, good_url), policy=policy) as url:
            async with aiohttp.ClientSession() as session:
                body = {"model": "fake", "messages": USER, "stream": True}
                status, _, text = await post(session, url, body)
    assert status == 200
    events = sse_events(text)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert content == "".join(expected_answer(USER))
    assert chunks[-1]["chatbridge"]["target"] == "up1"


@pytest.mark.parametrize(
    "fault",
    [Behaviour("cut_after", tokens=5), Behaviour("error_after", tokens=5, message="boom")],
    ids=["cut", "in-band-upstream-error"],
)
async def test_fault_after_the_first_byte_is_an_in_band_error(
    serve_app: ServeApp, fault: Behaviour
) -> None:
    upstream = LocalUpstream()
    upstream.set_plan(fault)
    async with upstream as base, serve_app(_route(base)) as url:
        async with aiohttp.ClientSession() as session:
            body = {"model": "fake", "messages": USER, "stream": True}
            status, _, text = await post(session, url, body)
            async with session.get(url + "/metrics") as response:
                metrics = await response.text()
    assert status == 200
    events = sse_events(text)
    assert "[DONE]" not in events
    error = json.loads(events[-1])
    assert set(error) == {"error"} and error["error"]["message"]
    # The 200 went out, but the metrics count the request as ended by an error.
    assert (
        f'chatbridge_stream_errors_total{{code="{error["error"]["code"]}",'
        'endpoint="chat_completions",route="fake"} 1.0' in metrics
    )
    sent = "".join(json.loads(e)["choices"][0]["delta"].get("content", "") for e in events[:-1])
    assert sent == "".join(expected_answer(USER)[:5])  # no more, no less than arrived


async def test_upstream_errors_keep_their_meaning(serve_app: ServeApp) -> None:
    upstream = LocalUpstream()
    policy = Policy(retry_backoff=0.01, max_retry_after=0)
    async with upstream as base, serve_app(_route(base), policy=policy) as url:
        client = openai.AsyncOpenAI(base_url=url + "/v1", api_key="x", max_retries=0)
        upstream.set_plan(Behaviour("context_length"))
        with pytest.raises(openai.BadRequestError) as bad:
            await client.chat.completions.create(model="fake", messages=USER)  # type: ignore[arg-type]
        assert bad.value.code == "context_length_exceeded"
        upstream.set_plan(Behaviour("status", status=429, retry_after="7"))
        with pytest.raises(openai.RateLimitError) as limited:
            await client.chat.completions.create(model="fake", messages=USER)  # type: ignore[arg-type]
        assert limited.value.response.headers["retry-after"] == "7"
        await client.close()


@pytest.mark.parametrize("stream", [False, True])
async def test_a_client_that_leaves_cancels_the_upstream_request(
    serve_app: ServeApp, stream: bool
) -> None:
    upstream = LocalUpstream()
    upstream.set_plan(Behaviour("stall_after", tokens=3, seconds=30))
    async with upstream as base, serve_app(_route(base)) as url:
        async with aiohttp.ClientSession() as session:
            body = {"model": "fake", "messages": USER, "stream": stream}
            call = asyncio.create_task(post(session, url, body))
            await _until(lambda: upstream.stats.requests > 0, 5)
            await asyncio.sleep(0.2)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            await _until(lambda: upstream.stats.disconnected == 1, 1.0)
        assert upstream.stats.active == 0
