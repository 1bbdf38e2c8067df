"""Two deployments, one Redis: two ``chatbridge serve`` processes with different configs
share a real ``redis-server`` and keep their limits (and everything else) apart; a named
``[state] namespace`` joins them on purpose."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiohttp
import pytest

from chatbridge.site import LocalSite, SiteConfig
from tests.redisd import RedisServer
from tests.server.conftest import Served, post

Spawn = Callable[..., Served]
LIMIT = "[server]\nrequests_per_minute = 3\n"


def _config(name: str, url: str, state: str = "") -> str:
    target = f'{{ provider = "AIPower", site_url = "{url}" }}'
    return f"[routes.{name}]\ntargets = [{target}]\n{LIMIT}{state}"


async def _statuses(
    session: aiohttp.ClientSession, served: Served, route: str, n: int
) -> list[int]:
    body = {"model": route, "messages": [{"role": "user", "content": "hi"}]}
    return [(await post(session, served.url, body))[0] for _ in range(n)]


async def test_two_configs_on_one_redis_keep_their_limits_apart(
    spawn_server: Spawn, redis_server: RedisServer
) -> None:
    async with LocalSite(SiteConfig()) as one, LocalSite(SiteConfig()) as two:
        blog = await asyncio.to_thread(
            spawn_server, "--redis", redis_server.url, config=_config("blog", one)
        )
        shop = await asyncio.to_thread(
            spawn_server, "--redis", redis_server.url, config=_config("shop", two)
        )
        async with aiohttp.ClientSession() as session:
            assert await _statuses(session, blog, "blog", 4) == [200, 200, 200, 429]
            # The old code counted both deployments' anonymous callers in one window.
            assert await _statuses(session, shop, "shop", 3) == [200, 200, 200]
            assert await _statuses(session, shop, "shop", 1) == [429]
    assert blog.stop() == 0 and shop.stop() == 0


async def test_a_named_namespace_is_shared_on_purpose(
    spawn_server: Spawn, redis_server: RedisServer
) -> None:
    state = '[state]\nnamespace = "one-team"\n'
    async with LocalSite(SiteConfig()) as site:
        first = await asyncio.to_thread(
            spawn_server, "--redis", redis_server.url, config=_config("a", site, state)
        )
        second = await asyncio.to_thread(
            spawn_server, "--redis", redis_server.url, config=_config("b", site, state)
        )
        async with aiohttp.ClientSession() as session:
            assert await _statuses(session, first, "a", 3) == [200, 200, 200]
            assert await _statuses(session, second, "b", 1) == [429]
    assert first.stop() == 0 and second.stop() == 0
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_server.url)
    try:
        keys = [key.decode() async for key in client.scan_iter(count=1000)]
    finally:
        await client.aclose()
    assert keys and all(key.startswith("chatbridge:v1:one-team:") for key in keys), keys


@pytest.mark.parametrize(
    ("state", "says"),
    [
        ('[state]\nnamespace = "a b"\n', "namespace': wants 1 to 64"),
        ("[state]\nnamespace = 5\n", "namespace': wants 1 to 64"),
        ('[state]\nname = "x"\n', "[state]: unknown field(s) name"),
        ("[state]\ntimeout = 0\n", "timeout': wants seconds > 0"),
        ('[state]\ntimeout = "1"\n', "timeout': wants seconds > 0"),
        ("[state]\ntimeout = 31\n", "timeout': at most 30 s"),
    ],
)
def test_a_bad_state_table_is_a_start_up_error(tmp_path: object, state: str, says: str) -> None:
    import subprocess
    from pathlib import Path

    from tests.server.conftest import CLI, ENV

    path = Path(str(tmp_path)) / "bad.toml"
    path.write_text(_config("x", "http://127.0.0.1:9", state))
    result = subprocess.run(
        [*CLI, "serve", "--port", "0", "--config", str(path)],
        capture_output=True, text=True, env=ENV, timeout=30,
    )  # fmt: skip
    assert result.returncode == 2 and says in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1


def test_a_bad_namespace_stops_the_workers_parent_too(tmp_path: object) -> None:
    import subprocess
    from pathlib import Path

    from tests.server.conftest import CLI, ENV

    path = Path(str(tmp_path)) / "bad.toml"
    path.write_text(_config("x", "http://127.0.0.1:9", '[state]\nnamespace = "a/b"\n'))
    result = subprocess.run(
        [*CLI, "serve", "--port", "0", "--workers", "2", "--config", str(path)],
        capture_output=True, text=True, env=ENV, timeout=30,
    )  # fmt: skip
    assert result.returncode == 2 and "namespace" in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and result.stdout == ""
