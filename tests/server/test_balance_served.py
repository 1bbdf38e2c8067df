"""A balanced route through the server: readiness and the metrics show each target's share,
calls in flight and latency estimate."""

from __future__ import annotations

import aiohttp

from chatbridge.upstream import LocalUpstream
from tests.server.conftest import USER, ServeApp, post


async def test_readiness_and_metrics_show_each_targets_share(serve_app: ServeApp) -> None:
    async with LocalUpstream() as a, LocalUpstream() as b:
        targets = [
            {"provider": "OpenAICompatible", "base_url": url, "model": name, "name": name}
            for url, name in ((a, "one"), (b, "two"))
        ]
        routes = {"r": {"targets": targets, "strategy": "round_robin"}}
        async with serve_app(routes) as url, aiohttp.ClientSession() as session:
            for _ in range(4):
                status, _, _ = await post(session, url, {"model": "r", "messages": USER})
                assert status == 200
            async with session.get(url + "/health/ready") as response:
                ready = await response.json()
            async with session.get(url + "/metrics") as response:
                metrics = await response.text()
    shown = ready["routes"]["r"]
    assert {name: (s["share"], s["in_flight"]) for name, s in shown.items()} == {
        "one": (0.5, 0),
        "two": (0.5, 0),
    }
    assert all(s["latency"] is not None and s["latency"] >= 0 for s in shown.values())
    assert 'chatbridge_target_share{route="r",target="one"} 0.5' in metrics
    assert 'chatbridge_target_in_flight{route="r",target="two"} 0.0' in metrics
    assert 'chatbridge_target_latency_seconds{route="r",target="one"}' in metrics
