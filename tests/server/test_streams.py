"""SSE framing, the in-band error and ``[DONE]`` rules, fail-over through the server, the
5xx mapping, disconnect cancellation, metrics, readiness and the access log."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web

from chatbridge import Policy
from chatbridge.site import LocalSite, SiteConfig
from tests.server.conftest import ECHO, USER, ServeApp, post, running, sse_events, watched_site


@asynccontextmanager
async def limited_site() -> AsyncIterator[str]:
    """Every request is answered 429 with Retry-After: 3."""

    async def limited(request: web.Request) -> web.Response:
        return web.Response(status=429, text="slow down", headers={"Retry-After": "3"})

    app = web.Application()
    app.add_routes([web.route("*", "/{tail:.*}", limited)])
    async with running(app) as url:
        yield url


async def test_sse_framing_usage_and_done(serve_app: ServeApp, site_url: str) -> None:
    routes = {"default": [{"provider": "AIPower", "site_url": site_url}]}
    async with serve_app(routes) as url, aiohttp.ClientSession() as session:
        body = {"model": "default", "messages": USER, "stream": True}
        status, headers, text = await post(session, url, body)
        assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
        events = sse_events(text)
        assert events[-1] == "[DONE]" and events.count("[DONE]") == 1
        chunks = [json.loads(event) for event in events[:-1]]
        assert all(c["object"] == "chat.completion.chunk" for c in chunks)
        assert len({c["id"] for c in chunks}) == 1
        assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
        assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
        assert chunks[-1]["choices"][0]["delta"] == {}
        text_out = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
        assert text_out.startswith(ECHO)
        # The same request unstreamed gives the same text.
        status, _, whole = await post(session, url, {**body, "stream": False})
        assert status == 200 and whole["object"] == "chat.completion"
        assert whole["choices"][0]["message"]["content"] == text_out


async def test_failure_after_the_first_byte_is_one_in_band_error_and_no_done(
    serve_app: ServeApp,
) -> None:
    config = SiteConfig(faults=("truncate",), fault_target="chat", fault_every=1)
    async with LocalSite(config) as site:
        routes = {"default": [{"provider": "AIPower", "site_url": site}]}
        async with serve_app(routes) as url, aiohttp.ClientSession() as session:
            body = {"model": "default", "messages": USER, "stream": True}
            status, _, text = await post(session, url, body)
    assert status == 200
    events = sse_events(text)
    assert "[DONE]" not in events
    assert len(events) >= 2  # some text went out before the cut
    last = json.loads(events[-1])
    assert set(last) == {"error"} and last["error"]["code"] == "stream_truncated"
    assert all("error" not in json.loads(event) for event in events[:-1])
    for event in events[:-1]:  # no chunk claims a finish
        assert json.loads(event)["choices"][0]["finish_reason"] is None


async def test_fail_over_is_invisible_before_the_first_byte(serve_app: ServeApp) -> None:
    broken = SiteConfig(faults=("http500",), fault_target="all", fault_every=1)
    async with LocalSite(broken) as bad, LocalSite(SiteConfig()) as good:
        routes = {
            "default": [
                {"provider": "AIPower", "site_url": bad, "name": "broken"},
                {"provider": "AIPower", "site_url": good, "name": "healthy"},
            ]
        }
        async with serve_app(routes) as url, aiohttp.ClientSession() as session:
            for stream in (False, True):
                body = {"model": "default", "messages": USER, "stream": stream}
                status, _, reply = await post(session, url, body)
                assert status == 200
                if stream:
                    events = sse_events(reply)
                    assert events[-1] == "[DONE]"
                    reply = json.loads(events[-2])
                info = reply["chatbridge"]
                assert info["target"] == "healthy"
                assert [a["outcome"] for a in info["attempts"]][-1] == "answered"
                assert any(a["target"] == "broken" for a in info["attempts"])
            async with session.get(url + "/metrics") as response:
                metrics = await response.text()
    assert 'chatbridge_failovers_total{route="default"} 2.0' in metrics
    assert 'chatbridge_attempts_total{outcome="answered",target="healthy"} 2.0' in metrics
    requests = 'chatbridge_requests_total{endpoint="chat_completions",route="default",status="200"}'
    assert f"{requests} 2.0" in metrics
    assert "chatbridge_time_to_first_token_seconds_count" in metrics


async def test_every_target_failed_maps_to_429_502_503_504(serve_app: ServeApp) -> None:
    slow = SiteConfig(faults=("slow",), fault_target="chat", fault_every=1, slow_seconds=2)
    policy = Policy(first_token_timeout=0.3, timeout=0.6, failure_threshold=1, cooldown=30)
    async with limited_site() as limited, LocalSite(slow) as slow_url:
        routes = {
            "limited": [{"provider": "AIPower", "site_url": limited, "name": "busy-site"}],
            "slow": [{"provider": "AIPower", "site_url": slow_url, "name": "slow-site"}],
            "dead": [{"provider": "AIPower", "site_url": "http://127.0.0.1:9", "name": "gone"}],
        }
        async with serve_app(routes, policy=policy) as url, aiohttp.ClientSession() as session:
            limited_call = {"model": "limited", "messages": USER}
            status, headers, reply = await post(session, url, limited_call)
            assert status == 429 and headers["Retry-After"] == "3", reply
            assert "busy-site" in reply["error"]["message"]
            status, _, reply = await post(session, url, {"model": "slow", "messages": USER})
            assert status == 504 and "slow-site" in reply["error"]["message"], reply
            status, _, reply = await post(session, url, {"model": "dead", "messages": USER})
            assert status == 502 and "gone" in reply["error"]["message"], reply
            # Its breaker is open now: nothing can be asked, and readiness says so. The server
            # stays ready (200) while other routes can answer: "degraded" names the dead one.
            status, headers, reply = await post(session, url, {"model": "dead", "messages": USER})
            assert status == 503 and reply["error"]["code"] == "upstream_unavailable", reply
            async with session.get(url + "/health/ready") as response:
                assert response.status == 200
                ready = await response.json()
            assert ready["status"] == "degraded" and ready["answering"]["dead"] is False
            assert ready["routes"]["dead"]["gone"]["state"] == "open"
            async with session.get(url + "/metrics") as response:
                metrics = await response.text()
            breaker = 'chatbridge_breaker_state{route="dead",state="open",target="gone"} 1.0'
            assert breaker in metrics


@pytest.mark.parametrize("stream", [False, True])
async def test_a_client_that_leaves_cancels_the_upstream_within_a_second(
    serve_app: ServeApp, stream: bool
) -> None:
    config = SiteConfig(faults=("slow",), fault_target="chat", fault_every=1, slow_seconds=20)
    async with watched_site(config) as site:
        routes = {"default": [{"provider": "AIPower", "site_url": site.url}]}
        async with serve_app(routes) as url:
            async with aiohttp.ClientSession() as session:
                body = {"model": "default", "messages": USER, "stream": stream}
                call = asyncio.create_task(post(session, url, body))
                await site.began.wait()
                await asyncio.sleep(0.1)
                call.cancel()
                left = asyncio.get_running_loop().time()
                with pytest.raises(asyncio.CancelledError):
                    await call
            async with asyncio.timeout(1):
                await site.finished.wait()
            assert site.disconnected == 1
            assert site.ended_at[-1] - left < 1.0


async def test_access_log_line_has_no_text_or_key(
    serve_app: ServeApp, site_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    routes = {"default": [{"provider": "AIPower", "site_url": site_url, "name": "the-site"}]}
    caplog.set_level(logging.INFO, logger="chatbridge.server.access")
    async with serve_app(routes, api_keys=("secret-key-1",)) as url:
        async with aiohttp.ClientSession() as session:
            auth = {"Authorization": "Bearer secret-key-1"}
            for stream in (False, True):
                body = {"model": "default", "messages": USER, "stream": stream}
                assert (await post(session, url, body, headers=auth))[0] == 200
            unknown = {"model": "x", "messages": USER}
            assert (await post(session, url, unknown, headers=auth))[0] == 404
    lines = [r.getMessage() for r in caplog.records if r.name == "chatbridge.server.access"]
    assert len(lines) == 3
    for line in lines[:2]:
        assert line.startswith('POST /v1/chat/completions 200 route="default"')
        assert 'target="the-site"' in line and "attempts=1" in line
        assert "ttft=" in line and "ttft=-" not in line and "duration=" in line
    assert "stream=no" in lines[0] and "stream=yes" in lines[1]
    assert " 404 " in lines[2] and "error=model_not_found" in lines[2]
    text = "\n".join(lines)
    assert "Hello" not in text and "secret-key-1" not in text and "key-" in text


async def test_readiness_is_503_only_when_no_route_can_answer(serve_app: ServeApp) -> None:
    policy = Policy(failure_threshold=1, cooldown=30, retry_backoff=0.0)
    routes = {"only": [{"provider": "AIPower", "site_url": "http://127.0.0.1:9", "name": "gone"}]}
    async with serve_app(routes, policy=policy) as url, aiohttp.ClientSession() as session:
        async with session.get(url + "/health/ready") as response:
            assert response.status == 200 and (await response.json())["status"] == "ready"
        status, _, _ = await post(session, url, {"model": "only", "messages": USER})
        assert status == 502
        async with session.get(url + "/health/ready") as response:
            assert response.status == 503
            assert (await response.json())["status"] == "unavailable"


async def test_metrics_count_token_refreshes_per_site(serve_app: ServeApp) -> None:
    site = LocalSite(SiteConfig())
    async with site as site_url:
        routes = {"default": [{"provider": "AIPower", "site_url": site_url}]}
        async with serve_app(routes) as url, aiohttp.ClientSession() as session:
            assert (await post(session, url, {"model": "default", "messages": USER}))[0] == 200
            site.advance_ticks(2)  # the nonce rotates: the next call refreshes it
            assert (await post(session, url, {"model": "default", "messages": USER}))[0] == 200
            async with session.get(url + "/metrics") as response:
                metrics = await response.text()
    assert f'chatbridge_token_refreshes_total{{site="{site_url}"}} 1.0' in metrics
    assert f'chatbridge_page_fetches_total{{site="{site_url}"}} 2.0' in metrics
