"""Proxy credentials never leave the server: not in errors, /health/ready, /metrics or its
log; and the server's default proxy comes from its own variable, not the standard ones."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiohttp

from chatbridge.upstream import LocalUpstream
from tests.conftest import free_port
from tests.proxies import forward_proxy
from tests.server.conftest import USER, ServeApp, Served, post


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


async def test_serve_goes_through_its_own_proxy_variable_and_never_shows_its_login(
    spawn_server: Callable[..., Served],
) -> None:
    """``chatbridge serve`` as a process (with --debug): ``CHATBRIDGE_PROXY`` is its default
    proxy and ``HTTP_PROXY`` is not read; a dead proxy fails its target with a
    ``ProxyError`` without counting against the site's breaker; no login shows in answers,
    errors, /health/ready, /metrics or the log. ``upstream.test`` resolves only at the
    proxy, so an answer from it went through the proxy."""
    dead = f"http://carol:dead-s3cret@127.0.0.1:{free_port()}"
    hosts = {"upstream.test": "127.0.0.1"}
    async with (
        forward_proxy("carol", "good-s3cret", hosts=hosts) as live,
        forward_proxy(hosts=hosts) as standard,
        LocalUpstream() as url,
    ):
        far = url.replace("127.0.0.1", "upstream.test")
        target = f'provider = "OpenAICompatible", base_url = "{far}", model = "m"'
        config = (
            f'[routes.r]\ntargets = [{{ {target}, name = "t" }}]\n'
            f'[routes.down]\ntargets = [{{ {target}, name = "d", proxies = ["{dead}"] }}]\n'
        )
        good = live.url.replace("http://", "http://carol:good-s3cret@")
        env = {"CHATBRIDGE_PROXY": good, "HTTP_PROXY": standard.url, "http_proxy": standard.url}
        served = await asyncio.to_thread(spawn_server, "--debug", config=config, env=env)
        async with aiohttp.ClientSession() as session:
            status, _, answer = await post(session, served.url, {"model": "r", "messages": USER})
            refusals = [
                await post(session, served.url, {"model": "down", "messages": USER})
                for _ in range(3)
            ]
            async with session.get(served.url + "/health/ready") as response:
                ready = await response.json()
            async with session.get(served.url + "/metrics") as response:
                metrics = await response.text()
        assert served.stop() == 0
    assert status == 200 and live.carried and not standard.carried
    assert [refused for refused, _, _ in refusals] == [502] * 3
    assert all("ProxyError" in str(error) for _, _, error in refusals)
    site = ready["routes"]["down"]["d"]
    assert (site["state"], site["consecutive_failures"]) == ("closed", 0)  # the proxy's fault
    (proxy,) = site["proxies"]
    assert proxy["cooling_for"] > 0
    log = served.stderr()
    assert log.count(" 502 ") == 3, log
    for text in (str(answer), str(refusals), str(ready), metrics, log):
        assert "s3cret" not in text and "carol" not in text, text
