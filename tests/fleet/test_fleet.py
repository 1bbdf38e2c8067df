"""Four server processes, one Redis: what one process learns, every process knows."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from chatbridge.site import AIEngineSiteConfig, LocalSite, SiteConfig
from tests.fleet.conftest import Fleet, answer, ask
from tests.providers.test_generations import history_turns
from tests.redisd import RedisServer, free_port
from tests.server.conftest import running


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def routes(*urls: str, policy: str = "", server: str = "", provider: str = "AIPower") -> str:
    targets = ", ".join(f'{{ provider = "{provider}", site_url = "{url}" }}' for url in urls)
    return f"[routes.default]\ntargets = [{targets}]\n{policy}\n{server}\n"


async def test_one_page_fetch_per_site_after_a_nonce_rotation(fleet: Fleet) -> None:
    site = LocalSite(SiteConfig(generation="2.2"))
    async with site as url:
        servers = await fleet(routes(url))
        async with aiohttp.ClientSession() as session:
            first = await asyncio.gather(
                *(ask(session, s, [user(f"hi {i}")]) for i, s in enumerate(servers))
            )
            assert [status for status, _ in first] == [200] * 4
            assert site.stats.page_fetches == 1  # discovery: one fetch for the fleet
            site.advance_ticks(2)  # every process holds a dead nonce now
            after = await asyncio.gather(
                *(ask(session, s, [user(f"after {i}")]) for i, s in enumerate(servers))
            )
        assert all(status == 200 and "Echo: after" in answer(body) for status, body in after)
        assert site.stats.page_fetches == 2  # one fetch per site per rotation, not four


async def test_one_start_session_per_ai_engine_site_per_rotation(fleet: Fleet) -> None:
    site = LocalSite(AIEngineSiteConfig())
    async with site as url:
        servers = await fleet(routes(url, provider="AnySite"))  # its plugin found once, too
        async with aiohttp.ClientSession() as session:
            first = await asyncio.gather(
                *(ask(session, s, [user(f"hi {i}")]) for i, s in enumerate(servers))
            )
            assert [status for status, _ in first] == [200] * 4
            assert (site.stats.page_fetches, site.stats.session_starts) == (1, 1)
            site.advance_ticks(2)  # every process holds a dead nonce now
            after = await asyncio.gather(
                *(ask(session, s, [user(f"after {i}")]) for i, s in enumerate(servers))
            )
        assert all(status == 200 and "Echo: after" in answer(body) for status, body in after)
        assert (site.stats.page_fetches, site.stats.session_starts) == (1, 2)


async def test_a_site_failing_for_one_process_is_skipped_by_all(fleet: Fleet) -> None:
    hits = 0

    async def broken(request: web.Request) -> web.Response:
        nonlocal hits
        hits += 1
        return web.Response(status=500, text="database error")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", broken)
    policy = "[policy]\nfailure_threshold = 1\ncooldown = 60\ncooldown_max = 60\n"
    async with running(app) as dead, LocalSite(SiteConfig(generation="2.2")) as live:
        servers = await fleet(routes(dead, live, policy=policy))
        async with aiohttp.ClientSession() as session:
            status, body = await ask(session, servers[0], [user("first")])
            assert status == 200 and "Echo: first" in answer(body)
            seen = hits
            assert seen >= 1
            for i, served in enumerate(servers[1:] * 2):
                status, body = await ask(session, served, [user(f"then {i}")])
                assert status == 200 and "Echo: then" in answer(body)
    assert hits == seen  # the open breaker was open in every process


async def test_a_key_limit_holds_fleet_wide(fleet: Fleet) -> None:
    server = '[server]\napi_keys = ["sk-fleet"]\nrequests_per_minute = 4\n'
    async with LocalSite(SiteConfig(generation="2.2")) as url:
        servers = await fleet(routes(url, server=server))
        headers = {"Authorization": "Bearer sk-fleet"}
        async with aiohttp.ClientSession() as session:
            statuses = [
                (await ask(session, s, [user("x")], headers=headers))[0] for s in servers * 2
            ]
    assert sorted(statuses) == [200] * 4 + [429] * 4, statuses


@pytest.mark.parametrize(
    "config", [SiteConfig(generation="aipkit"), AIEngineSiteConfig()], ids=["aipkit", "ai-engine"]
)
async def test_a_three_turn_conversation_alternating_between_processes(
    fleet: Fleet, config: SiteConfig | AIEngineSiteConfig
) -> None:
    async with LocalSite(config) as url:
        servers = await fleet(routes(url, provider="AnySite"))
        messages = [user("first question")]
        async with aiohttp.ClientSession() as session:
            for turn, served in enumerate(servers[:3], start=1):
                status, body = await ask(session, served, messages)
                assert status == 200, body
                text = answer(body)
                assert history_turns(text) == 2 * (turn - 1), (turn, text)  # the site held it
                messages += [{"role": "assistant", "content": text}, user(f"question {turn + 1}")]


async def test_redis_killed_mid_run_loses_no_request(
    fleet: Fleet, redis_server: RedisServer
) -> None:
    async with LocalSite(SiteConfig(generation="2.2")) as url:
        servers = await fleet(routes(url))
        async with aiohttp.ClientSession() as session:

            async def round_of(tag: str) -> list[tuple[int, Any]]:
                return await asyncio.gather(
                    *(ask(session, s, [user(f"{tag} {i}")]) for i, s in enumerate(servers * 3))
                )

            assert {status for status, _ in await round_of("before")} == {200}
            redis_server.kill()
            down = await round_of("down")
            async with session.get(servers[0].url + "/metrics") as response:
                metrics = await response.text()
            assert "chatbridge_state_shared 0.0" in metrics
            assert "chatbridge_state_outages 1.0" in metrics
            assert {status for status, _ in down} == {200}
            assert all("Echo: down" in answer(body) for _, body in down)
            redis_server.start()  # back, on the same port
            await asyncio.sleep(1.1)  # the processes try Redis again after their back-off (1 s)
            assert {status for status, _ in await round_of("back")} == {200}
            async with session.get(servers[0].url + "/metrics") as response:
                assert "chatbridge_state_shared 1.0" in await response.text()
    for served in servers:
        assert served.stop() == 0
        log = served.stderr()
        assert log.count(" is unavailable (") == 1, log  # one warning, not one per request
        assert log.count("is back") == 1, log


async def test_a_redis_call_may_take_the_state_timeout_given(
    fleet: Fleet, redis_server: RedisServer
) -> None:
    """``[state] timeout`` (5 s in the fleet's configs): a Redis that stalls past the default
    0.25 s, but not past the limit given, holds the request and is no outage."""
    import os
    import signal

    async with LocalSite(SiteConfig(generation="2.2")) as url:
        [served] = await fleet(routes(url), n=1)
        assert redis_server.process is not None
        pid = redis_server.process.pid
        async with aiohttp.ClientSession() as session:
            assert (await ask(session, served, [user("warm")]))[0] == 200
            os.kill(pid, signal.SIGSTOP)  # alive, but answers nothing
            try:
                asking = asyncio.create_task(ask(session, served, [user("held")]))
                done, _ = await asyncio.wait({asking}, timeout=1.0)
                assert not done  # waiting for Redis, past the default limit
            finally:
                os.kill(pid, signal.SIGCONT)
            status, body = await asking
            async with session.get(served.url + "/metrics") as response:
                metrics = await response.text()
    assert status == 200 and "Echo: held" in answer(body)
    assert "chatbridge_state_outages 0.0" in metrics and "chatbridge_state_shared 1.0" in metrics
    assert " is unavailable (" not in served.stderr()


async def test_redis_unreachable_at_start_serves_from_memory(fleet: Fleet) -> None:
    nothing = f"redis://127.0.0.1:{free_port()}/0"  # no Redis runs there
    async with LocalSite(SiteConfig(generation="2.2")) as url:
        [served] = await fleet(routes(url), n=1, redis_url=nothing)
        async with aiohttp.ClientSession() as session:
            results = [await ask(session, served, [user(f"q{i}")]) for i in range(3)]
    assert [status for status, _ in results] == [200] * 3
    assert served.stop() == 0
    assert served.stderr().count(" is unavailable (") == 1


async def test_every_key_is_namespaced_and_expires(fleet: Fleet, redis_server: RedisServer) -> None:
    import redis.asyncio as aioredis

    server = '[server]\napi_keys = ["sk-k"]\nrequests_per_minute = 100\nconcurrent_streams = 5\n'
    dead = f"http://127.0.0.1:{free_port()}"  # refuses connections: breaker records
    async with LocalSite(SiteConfig(generation="aipkit")) as url:
        servers = await fleet(routes(dead, url, server=server), n=2)
        headers = {"Authorization": "Bearer sk-k"}
        async with aiohttp.ClientSession() as session:
            status, body = await ask(session, servers[0], [user("one")], headers=headers)
            assert status == 200
            follow = [user("one"), {"role": "assistant", "content": answer(body)}, user("two")]
            streamed = {"model": "default", "messages": follow, "stream": True}
            async with session.post(
                servers[1].url + "/v1/chat/completions", json=streamed, headers=headers
            ) as response:
                assert response.status == 200
                await response.read()
    client = aioredis.Redis.from_url(redis_server.url)
    try:
        keys = [key.decode() async for key in client.scan_iter(count=1000)]
        assert keys, "the fleet wrote nothing to Redis"
        namespaces = {key.split(":")[2] for key in keys}  # one deployment: one namespace
        assert len(namespaces) == 1 and namespaces.pop().startswith("auto-"), keys
        kinds = {key.split(":")[3] for key in keys}
        assert {"tokens", "rpm", "conv", "health"} <= kinds, kinds
        for key in keys:
            assert key.startswith("chatbridge:v1:"), key
            assert await client.pttl(key) > 0, key  # every key expires
    finally:
        await client.aclose()
