"""The OpenAI-compatible server over AI Engine sites: answers with the site's usage,
refusals with OpenAI's statuses, and ``serve --site`` for a site of either plugin."""

from __future__ import annotations

import json

import aiohttp
import pytest

from chatbridge.site import AIEngineSiteConfig, LocalSite

from .conftest import USER, ServeApp, post, sse_events


async def test_whole_and_streamed_answers_carry_the_site_s_usage(serve_app: ServeApp) -> None:
    async with LocalSite(AIEngineSiteConfig()) as site:
        routes = {"default": [{"provider": "AIEngine", "site_url": site}]}
        async with serve_app(routes=routes) as url, aiohttp.ClientSession() as session:
            status, _, whole = await post(session, url, {"model": "default", "messages": USER})
            stream_body = {
                "model": "default",
                "messages": USER,
                "stream": True,
                "stream_options": {"include_usage": True},
            }
            _, _, text = await post(session, url, stream_body)
    assert status == 200, whole
    assert whole["choices"][0]["message"]["content"].startswith("[local AI Engine site] Echo:")
    assert whole["usage"]["total_tokens"] > 0
    events = sse_events(text)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    content = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert content == whole["choices"][0]["message"]["content"]
    assert chunks[-1]["usage"]["total_tokens"] > 0


@pytest.mark.parametrize(
    ("config", "status", "code"),
    [
        (AIEngineSiteConfig(banned_words=("hello",)), 400, "content_filter"),
        (AIEngineSiteConfig(text_input_max_length=3), 400, "message_too_long"),
        (AIEngineSiteConfig(faults=("limit",)), 429, "rate_limit_exceeded"),
        (AIEngineSiteConfig(faults=("bad_nonce",)), 502, "upstream_failed"),
    ],
)
async def test_refusals_get_openai_s_statuses(
    serve_app: ServeApp, config: AIEngineSiteConfig, status: int, code: str
) -> None:
    async with LocalSite(config) as site:
        routes = {"default": [{"provider": "AIEngine", "site_url": site}]}
        async with serve_app(routes=routes) as url, aiohttp.ClientSession() as session:
            got, _, body = await post(session, url, {"model": "default", "messages": USER})
    assert (got, body["error"]["code"]) == (status, code), body


def test_serve_site_finds_an_ai_engine_site(spawn_server: object) -> None:
    import asyncio

    from openai import OpenAI

    async def main() -> None:
        async with LocalSite(AIEngineSiteConfig(generation="2.4", permalinks="plain")) as site:
            served = spawn_server("--site", site)  # type: ignore[operator]
            assert "the site " in " ".join(served.lines)  # what it serves, on its start lines
            client = OpenAI(base_url=f"{served.url}/v1", api_key="none")
            reply = await asyncio.to_thread(
                client.chat.completions.create, model="default", messages=USER
            )
            assert (reply.choices[0].message.content or "").startswith("[local AI Engine site]")

    asyncio.run(main())


async def test_a_request_may_name_a_site_of_either_plugin(serve_app: ServeApp) -> None:
    routes = {"default": [{"provider": "AIPower", "site_url": "http://127.0.0.1:9"}]}
    async with LocalSite(AIEngineSiteConfig()) as site:
        async with serve_app(routes, allow_site_url=True, allow_private_sites=True) as url:
            async with aiohttp.ClientSession() as session:
                body = {"model": "x", "messages": USER, "site_url": site}
                status, _, reply = await post(session, url, body)
    assert status == 200, reply
    assert reply["choices"][0]["message"]["content"].startswith("[local AI Engine site] Echo:")
