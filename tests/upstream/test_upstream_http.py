"""The fake upstream at the HTTP level: OpenAI's framing, bad input, plans, stats, the key."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from chatbridge.upstream import Behaviour, LocalUpstream, expected_answer
from chatbridge.upstream._answer import prompt_tokens

from .conftest import sse_data

Start = Callable[..., Awaitable[tuple[LocalUpstream, str]]]
MESSAGES = [{"role": "user", "content": "Tell me about moss."}]
ANSWER = expected_answer(MESSAGES)


def body(**extra: Any) -> dict[str, Any]:
    return {"model": "fake-model", "messages": MESSAGES, **extra}


async def test_stream_is_framed_like_openai(
    local_upstream: Start, http: aiohttp.ClientSession
) -> None:
    _, url = await local_upstream()
    request = body(stream=True, stream_options={"include_usage": True})

    async with http.post(url + "/chat/completions", json=request) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        data = sse_data(await response.text())

    assert data[-1] == "[DONE]"
    chunks = [json.loads(item) for item in data[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1 and chunks[0]["model"] == "fake-model"
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    content = [c["choices"][0]["delta"]["content"] for c in chunks[1:-2]]
    assert content == ANSWER
    assert chunks[-2]["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "stop",
    }
    prompt = prompt_tokens(MESSAGES)
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {
        "prompt_tokens": prompt,
        "completion_tokens": len(ANSWER),
        "total_tokens": prompt + len(ANSWER),
    }


async def test_no_usage_chunk_unless_asked_or_when_turned_off(
    local_upstream: Start, http: aiohttp.ClientSession
) -> None:
    _, url = await local_upstream()
    _, quiet = await local_upstream(usage=False)

    for base, extra in ((url, {}), (quiet, {"stream_options": {"include_usage": True}})):
        async with http.post(base + "/chat/completions", json=body(stream=True, **extra)) as r:
            data = sse_data(await r.text())
        assert not any("usage" in json.loads(item) for item in data[:-1])
    async with http.post(quiet + "/chat/completions", json=body()) as response:
        assert "usage" not in await response.json()


async def test_not_streamed_is_a_chat_completion_object(
    local_upstream: Start, http: aiohttp.ClientSession
) -> None:
    _, url = await local_upstream()

    async with http.post(url + "/chat/completions", json=body(max_tokens=3)) as response:
        completion = await response.json()

    assert completion["object"] == "chat.completion"
    assert completion["choices"][0]["message"]["content"] == "".join(ANSWER[:3])
    assert completion["choices"][0]["finish_reason"] == "length"
    assert completion["usage"]["completion_tokens"] == 3


async def test_models(local_upstream: Start, http: aiohttp.ClientSession) -> None:
    _, url = await local_upstream(models=("a", "b"))

    async with http.get(url + "/models") as response:
        listing = await response.json()

    assert listing["object"] == "list"
    assert [model["id"] for model in listing["data"]] == ["a", "b"]


@pytest.mark.parametrize(
    ("payload", "param"),
    [
        (b"{not json", None),
        (b"[1, 2]", None),
        (b"\xff\xfe", None),
        (json.dumps({"messages": MESSAGES}).encode(), "model"),
        (json.dumps(body(messages=[])).encode(), "messages"),
        (json.dumps(body(messages="hi")).encode(), "messages"),
        (json.dumps(body(messages=["hi"])).encode(), "messages[0]"),
        (json.dumps(body(messages=[{"role": "wizard", "content": "x"}])).encode(), None),
        (json.dumps(body(messages=[{"role": "user", "content": 5}])).encode(), None),
        (json.dumps(body(stream="yes")).encode(), "stream"),
        (json.dumps(body(temperature="hot")).encode(), "temperature"),
        (json.dumps(body(temperature=float("nan"))).encode(), "temperature"),
        (json.dumps(body(max_tokens=0)).encode(), "max_tokens"),
        (json.dumps(body(max_tokens=2.5)).encode(), "max_tokens"),
        (json.dumps(body(n=3)).encode(), "n"),
        (json.dumps(body(stream_options=[])).encode(), "stream_options"),
    ],
)
async def test_bad_input_gets_an_openai_shaped_400(
    local_upstream: Start, http: aiohttp.ClientSession, payload: bytes, param: str | None
) -> None:
    upstream, url = await local_upstream()

    async with http.post(url + "/chat/completions", data=payload) as response:
        assert response.status == 400
        error = (await response.json())["error"]

    assert error["type"] == "invalid_request_error" and error["message"]
    if param is not None:
        assert error["param"] == param
    assert upstream.stats.rejected == 1 and upstream.stats.by_kind == {}


async def test_oversized_bodies_unknown_urls_and_methods_are_openai_shaped(
    local_upstream: Start, http: aiohttp.ClientSession
) -> None:
    _, url = await local_upstream()
    huge = io.BytesIO(
        json.dumps(body(messages=[{"role": "user", "content": "x" * 5_000_000}])).encode()
    )

    async with http.post(url + "/chat/completions", data=huge) as response:
        assert response.status == 413
        assert (await response.json())["error"]["code"] == "request_too_large"
    for method, path in (("GET", "/chat/completions"), ("POST", "/nothing"), ("PUT", "/models")):
        async with http.request(method, url + path) as response:
            assert response.status == 404
            assert "Invalid URL" in (await response.json())["error"]["message"]


async def test_api_key_required(local_upstream: Start, http: aiohttp.ClientSession) -> None:
    upstream, url = await local_upstream(api_key="sk-right")
    target = url + "/chat/completions"

    async with http.post(target, json=body()) as missing:
        missing_error = (await missing.json())["error"]
    async with http.post(target, json=body(), headers={"Authorization": "Bearer no"}) as wrong:
        wrong_status = wrong.status
    right_headers = {"Authorization": "Bearer sk-right"}
    async with http.post(target, json=body(), headers=right_headers) as right:
        right_status = right.status

    assert missing.status == wrong_status == 401 and right_status == 200
    assert missing_error["code"] == "invalid_api_key"
    assert upstream.stats.rejected == 2 and upstream.stats.completed == 1
    log = json.dumps(upstream.stats.as_dict())
    assert "sk-right" not in log and upstream.stats.recent[-1].authorization is True


async def test_plan_over_http_stats_and_reset(
    local_upstream: Start, http: aiohttp.ClientSession
) -> None:
    upstream, url = await local_upstream()
    root = url.removesuffix("/v1")
    plan = {"plan": [{"kind": "status", "status": 503, "retry_after": "2"}, {"kind": "ok"}]}

    async with http.post(root + "/__upstream__/plan", json=plan) as response:
        assert response.status == 200
    async with http.post(root + "/__upstream__/plan", json=[{"kind": "nope"}]) as bad:
        assert bad.status == 400 and "Invalid plan" in (await bad.json())["error"]["message"]
    async with http.post(url + "/chat/completions", json=body()) as first:
        assert first.status == 503 and first.headers["Retry-After"] == "2"
        assert (await first.json())["error"]["type"] == "server_error"
    async with http.post(url + "/chat/completions", json=body()) as second:
        assert second.status == 200
    async with http.get(root + "/__upstream__/stats") as response:
        stats = await response.json()
    async with http.get(root + "/__upstream__/plan") as response:
        current = await response.json()

    assert stats["requests"] == stats["completed"] == 2 and stats["active"] == 0
    assert stats["by_kind"] == {"status": 1, "ok": 1}
    assert [record["kind"] for record in stats["recent"]] == ["status", "ok"]
    assert stats["recent"][0]["roles"] == ["user"] and stats["recent"][0]["status"] == 503
    assert current["plan"][0]["status"] == 503
    async with http.post(root + "/__upstream__/reset") as response:
        assert response.status == 200
    assert upstream.stats.requests == 0 and upstream.plan.next() == Behaviour()


async def test_two_models_on_one_endpoint_meet_plans_of_their_own(
    local_upstream: Start, http: aiohttp.ClientSession
) -> None:
    upstream, url = await local_upstream(models=("a", "b"), models_without_usage=("b",))
    root = url.removesuffix("/v1")
    upstream.set_plan([Behaviour("status", status=429)], model="a")
    plan = [{"kind": "status", "status": 503}]
    async with http.post(root + "/__upstream__/plan?model=b", json=plan) as response:
        assert response.status == 200
    statuses = []
    for model in ("a", "b", "c"):
        async with http.post(url + "/chat/completions", json=body(model=model)) as reply:
            statuses.append(reply.status)
            last = await reply.json()
    upstream.set_plan([], model="b")  # back to answering, without usage
    async with http.post(url + "/chat/completions", json=body(model="b")) as reply:
        answer_b = await reply.json()
    async with http.post(url + "/chat/completions", json=body(model="a")) as reply:
        still_a = reply.status

    assert statuses == [429, 503, 200] and last["usage"] is not None
    assert "usage" not in answer_b and still_a == 429
    assert upstream.stats.by_model == {"a": 2, "b": 2, "c": 1}
    upstream.reset()
    assert upstream.stats.by_model == {} and upstream._state.model_plans == {}


async def test_reset_closes_before_headers(
    local_upstream: Start, http: aiohttp.ClientSession
) -> None:
    upstream, url = await local_upstream()
    upstream.set_plan(Behaviour("reset"))

    with pytest.raises(aiohttp.ServerDisconnectedError):
        async with http.post(url + "/chat/completions", json=body()):
            pass

    assert upstream.stats.aborted == 1 and upstream.stats.recent[-1].outcome == "aborted"


async def test_token_delay_paces_the_stream(
    local_upstream: Start, http: aiohttp.ClientSession
) -> None:
    _, url = await local_upstream(token_delay=0.02, answer_tokens=6)
    arrivals: list[float] = []

    async with http.post(url + "/chat/completions", json=body(stream=True)) as response:
        started = time.perf_counter()
        async for _ in response.content.iter_any():
            arrivals.append(time.perf_counter() - started)

    assert arrivals[-1] >= 5 * 0.02 * 0.9  # five gaps between six tokens
    assert len(arrivals) >= 3  # more than one burst


async def test_the_upstream_sees_a_client_leave(
    local_upstream: Start, http: aiohttp.ClientSession
) -> None:
    upstream, url = await local_upstream()
    upstream.set_plan(Behaviour("first_token_delay", seconds=5))

    async with http.post(url + "/chat/completions", json=body(stream=True)) as response:
        assert response.status == 200
        response.close()  # leave before the first token

    for _ in range(300):
        if upstream.stats.disconnected:
            break
        await asyncio.sleep(0.01)
    assert upstream.stats.disconnected == 1 and upstream.stats.active == 0
