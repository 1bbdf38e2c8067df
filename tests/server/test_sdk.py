"""A real ``chatbridge serve`` process driven by the official ``openai`` SDK."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import openai
import pytest

from chatbridge.site import SiteConfig
from tests.server.conftest import ECHO, USER, Served, watched_site

Spawn = Callable[..., Served]
KEY = "sk-test-key-123"


def test_sync_plain_and_streamed_calls_with_the_builtin_site(spawn_server: Spawn) -> None:
    served = spawn_server("--api-key", KEY)
    assert "built-in local AI Power site" in served.lines[0]
    client = openai.OpenAI(base_url=served.url + "/v1", api_key=KEY, max_retries=0)
    reply = client.chat.completions.create(model="default", messages=USER)  # type: ignore[arg-type]
    assert (reply.choices[0].message.content or "").startswith(ECHO)
    assert reply.choices[0].finish_reason == "stop"
    assert reply.object == "chat.completion"
    stream = client.chat.completions.create(
        model="default",
        messages=USER,
        stream=True,
        stream_options={"include_usage": True},  # type: ignore[arg-type]
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == reply.choices[0].message.content
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    models = client.models.list()
    assert [m.id for m in models.data] == ["default"]
    assert client.models.retrieve("default").id == "default"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("nope")
    assert served.stop() == 0


def test_sdk_exception_classes(spawn_server: Spawn) -> None:
    served = spawn_server("--api-key", KEY)
    client = openai.OpenAI(base_url=served.url + "/v1", api_key=KEY, max_retries=0)
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model="default", messages=[])
    assert bad.value.status_code == 400
    assert bad.value.param == "messages"  # type: ignore[attr-defined]
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="no-such-route", messages=USER)  # type: ignore[arg-type]
    assert missing.value.code == "model_not_found"
    assert "no-such-route" in missing.value.message
    wrong = openai.OpenAI(base_url=served.url + "/v1", api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as denied:
        wrong.chat.completions.create(model="default", messages=USER)  # type: ignore[arg-type]
    assert denied.value.status_code == 401
    assert served.stop() == 0
    log = served.stderr()
    assert KEY not in log and "sk-wrong" not in log
    assert "Hello there" not in log  # no message text in the access log


async def test_async_sdk_5xx_names_the_targets(spawn_server: Spawn) -> None:
    config = """
[routes.broken]
targets = [{ provider = "AIPower", site_url = "http://127.0.0.1:9", name = "dead-one" },
           { provider = "AIPower", site_url = "http://127.0.0.1:9/b", name = "dead-two" }]
"""
    served = spawn_server(config=config)
    client = openai.AsyncOpenAI(base_url=served.url + "/v1", api_key="x", max_retries=0)
    with pytest.raises(openai.InternalServerError) as failed:
        await client.chat.completions.create(model="broken", messages=USER)  # type: ignore[arg-type]
    assert failed.value.status_code == 502
    assert "dead-one" in failed.value.message and "dead-two" in failed.value.message
    with pytest.raises(openai.InternalServerError):
        stream = await client.chat.completions.create(model="broken", messages=USER, stream=True)  # type: ignore[arg-type]
        async for _ in stream:
            pass
    await client.close()
    assert served.stop() == 0


async def test_async_sdk_streams_and_the_429_retry_honours_retry_after(
    spawn_server: Spawn,
) -> None:
    """One stream at a time per key: the second gets 429 + Retry-After: 1, the SDK waits and
    retries, by then the first stream is done, and the retry is answered."""
    async with watched_site(SiteConfig(faults=("slow",), fault_every=2, slow_seconds=0.6)) as site:
        config = f"""
[routes.default]
targets = [{{ provider = "AIPower", site_url = "{site.url}" }}]
[server]
concurrent_streams = 1
api_keys = ["{KEY}"]
"""
        served = await asyncio.to_thread(spawn_server, config=config)
        retrying = openai.AsyncOpenAI(base_url=served.url + "/v1", api_key=KEY, max_retries=2)
        once = openai.AsyncOpenAI(base_url=served.url + "/v1", api_key=KEY, max_retries=0)

        async def read(client: openai.AsyncOpenAI) -> str:
            stream = await client.chat.completions.create(
                model="default",
                messages=USER,
                stream=True,  # type: ignore[arg-type]
            )
            return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

        # Warm the site's tokens so the slow fault lands on the first chat turn.
        assert "Hello there" in await read(once)
        first = asyncio.create_task(read(once))
        await asyncio.sleep(0.2)
        with pytest.raises(openai.RateLimitError) as limited:
            await read(once)
        assert limited.value.response.headers["retry-after"] == "1"
        started = time.monotonic()
        second = await read(retrying)
        assert time.monotonic() - started >= 0.5  # it waited as Retry-After said
        assert "Hello there" in second and "Hello there" in await first
        await retrying.close()
        await once.close()
        assert await asyncio.to_thread(served.stop) == 0
