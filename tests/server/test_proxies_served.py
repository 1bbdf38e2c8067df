"""Proxy credentials never leave the server: not in errors, /health/ready or /metrics."""

from __future__ import annotations

import aiohttp

from chatbridge.upstream import LocalUpstream
from tests.conftest import free_port
from tests.proxies import forward_proxy
from tests.server.conftest import USER, ServeApp, post


async def test_proxy_credentials_are_not_served(serve_app: ServeApp) -> None:
    dead = f"http://carol:dead-s3cret@127.0.0.1:{free_port()}"
    async with forward_proxy("carol", "good-s3cret") as live, LocalUpstream() as url:
        good = live.url.replace("http://", "http://carol:good-s3cret@")
        target = {"provider": "OpenAICompatible", "base_url": url, "model": "m", "name": "t"}
        routes = {
            "r": [{**target, "proxies": [dead, good]}],
            "down": [{**target, "name": "d", "proxies": [dead]}],
        }
        async with serve_app(routes) as served, aiohttp.ClientSession() as session:
            status, _, answer = await post(session, served, {"model": "r", "messages": USER})
            refused, _, error = await post(session, served, {"model": "down", "messages": USER})
            async with session.get(served + "/health/ready") as response:
                ready = await response.text()
            async with session.get(served + "/metrics") as response:
                metrics = await response.text()
    assert status == 200 and live.carried
    assert refused == 502 and "ProxyError" in str(error)
    for text in (str(answer), str(error), ready, metrics):
        assert "s3cret" not in text and "carol" not in text, text
    assert f"127.0.0.1:{dead.rsplit(':', 1)[1]}" in ready  # the proxy is shown, bare
