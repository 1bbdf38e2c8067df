"""Per-key quotas and the usage ledger through the server: 429 ``insufficient_quota`` with
``Retry-After`` at the window's end, tokens counted from reported usage only, ``GET
/v1/usage`` for a key and for an admin, per-key metrics under the fingerprint, and the
start-up refusal of a token quota no target can count."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from chatbridge import AsyncClient
from chatbridge._client._health import HealthBook
from chatbridge._state import MemoryStore
from chatbridge.server import build_app, parse_settings
from chatbridge.server._quotas import windows
from chatbridge.server._record import key_id
from chatbridge.server._usage import Usage
from chatbridge.upstream import Behaviour, LocalUpstream
from tests.server.conftest import CLI, ENV, USER, listening, post

#: 2026-12-07 22:00:00 UTC: two hours to the day's end, 24 days and two hours to the month's.
NOON = dt.datetime(2026, 12, 7, 22, tzinfo=dt.UTC).timestamp()


@asynccontextmanager
async def served(upstream_url: str, server: dict[str, Any]) -> AsyncIterator[str]:
    routes = {
        "r": [{"provider": "OpenAICompatible", "base_url": upstream_url, "model": "m", "name": "t"}]
    }
    settings = parse_settings(server, "test")
    client = AsyncClient(routes=routes, health=HealthBook())
    usage = Usage(MemoryStore(), settings, clock=lambda: NOON)
    async with client, listening(build_app(client, settings, usage=usage), settings) as url:
        yield url
        await usage.drain()


def refused_start(config: Path) -> subprocess.CompletedProcess[str]:
    """``chatbridge serve --config CONFIG``, which must refuse to start (exit code 2)."""
    done = subprocess.run(
        [*CLI, "serve", "--port", "0", "--config", str(config)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
    )
    assert done.returncode == 2, (done.stdout, done.stderr)
    return done


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_over_its_quota_a_key_gets_insufficient_quota_until_the_day_ends() -> None:
    server = {
        "api_keys": ["k1", "k2"],
        "quotas": {"default": {"requests_per_day": 2}, "k2": {"requests_per_day": 5}},
    }
    async with LocalUpstream() as upstream, served(upstream, server) as url:
        async with aiohttp.ClientSession() as session:
            statuses = []
            for _ in range(3):
                status, headers, body = await post(
                    session, url, {"model": "r", "messages": USER}, headers=bearer("k1")
                )
                statuses.append(status)
            other, _, _ = await post(
                session, url, {"model": "r", "messages": USER}, headers=bearer("k2")
            )
    assert statuses == [200, 200, 429] and other == 200
    assert body["error"]["code"] == body["error"]["type"] == "insufficient_quota"
    assert "2 requests per day" in body["error"]["message"]
    assert headers["Retry-After"] == str(2 * 3600)  # the UTC day's end


async def test_tokens_count_from_reported_usage_and_the_month_resets_it() -> None:
    server = {"api_keys": ["k1"], "quotas": {"default": {"tokens_per_month": 100}}}
    async with LocalUpstream() as upstream, served(upstream, server) as url:
        async with aiohttp.ClientSession() as session:
            body = {"model": "r", "messages": USER, "stream": True}  # no usage asked for
            first, _, text = await post(session, url, body, headers=bearer("k1"))
            second, _, _ = await post(session, url, body, headers=bearer("k1"))
            third, headers, refused = await post(session, url, body, headers=bearer("k1"))
    assert (first, second, third) == (200, 200, 429)
    assert '"usage"' not in text  # counted, not sent: the caller did not ask for it
    assert "100 tokens per month" in refused["error"]["message"]
    assert headers["Retry-After"] == str(round(windows(NOON).month_ends_in))


async def test_the_ledger_by_key_and_for_an_admin() -> None:
    server = {"api_keys": ["k1", "k2"], "admin_keys": ["boss"]}
    upstream = LocalUpstream()
    async with upstream as upstream_url, served(upstream_url, server) as url:
        async with aiohttp.ClientSession() as session:
            await post(session, url, {"model": "r", "messages": USER}, headers=bearer("k1"))
            upstream.set_plan([Behaviour("status", status=400)])
            await post(session, url, {"model": "r", "messages": USER}, headers=bearer("k1"))
            upstream.reset()
            await post(session, url, {"model": "r", "messages": USER}, headers=bearer("k2"))
            await post(session, url, {"model": "r", "messages": USER}, headers=bearer("boss"))

            async def get(path: str, key: str) -> tuple[int, Any]:
                async with session.get(url + path, headers=bearer(key)) as response:
                    return response.status, await response.json()

            own = await get("/v1/usage?days=2", "k1")
            nosy = await get(f"/v1/usage?key={key_id('k2')}", "k1")
            everyone = await get("/v1/usage", "boss")
            bad = await get("/v1/usage?days=0", "k1")
            async with session.get(url + "/metrics", headers=bearer("k1")) as response:
                metrics = await response.text()
    assert own[0] == 200 and [entry["key"] for entry in own[1]["keys"]] == [key_id("k1")]
    # a request the upstream refused (its 400 is the answer) has no target that answered
    refused, row = own[1]["keys"][0]["days"]
    assert (refused["target"], refused["requests"], refused["errors"]) == ("-", 1, 1)
    assert (row["date"], row["route"], row["target"]) == ("2026-12-07", "r", "t")
    assert (row["requests"], row["errors"]) == (1, 0)
    assert row["total_tokens"] == row["prompt_tokens"] + row["completion_tokens"] > 0
    assert nosy[0] == 403 and bad[0] == 400
    assert [entry["key"] for entry in everyone[1]["keys"]] == [key_id("k1"), key_id("k2")]
    assert f'chatbridge_key_requests_total{{key="{key_id("k1")}"}} 2.0' in metrics
    assert 'kind="prompt"' in metrics and "k1" not in metrics.replace(key_id("k1"), "")


def test_a_token_quota_no_target_can_count_is_refused_at_start_up(tmp_path: Path) -> None:
    config = tmp_path / "quota.toml"
    config.write_text(
        '[routes.site]\ntargets = [{ provider = "AIPower", site_url = "https://a.example" }]\n'
        '[server]\napi_keys = ["k1"]\n[server.quotas]\ndefault = { tokens_per_day = 10 }\n'
    )
    done = refused_start(config)
    assert "route 'site' has no target that reports usage" in done.stderr


@pytest.mark.parametrize(
    "quotas, names",
    [
        ({"default": {"requests_per_hour": 1}}, "unknown field 'requests_per_hour'"),
        ({"default": {"requests_per_day": -1}}, "wants a whole number"),
        ({"stranger": {"requests_per_day": 1}}, "not one of the API keys"),
    ],
)
def test_quota_mistakes_are_one_line(tmp_path: Path, quotas: dict[str, Any], names: str) -> None:
    lines = ['[routes.r]\ntargets = [{ provider = "AIPower", site_url = "https://a.example" }]']
    lines.append('[server]\napi_keys = ["k1"]\n[server.quotas]')
    for name, fields in quotas.items():
        inner = ", ".join(f"{field} = {value}" for field, value in fields.items())
        lines.append(f'"{name}" = {{ {inner} }}')
    config = tmp_path / "quota.toml"
    config.write_text("\n".join(lines) + "\n")
    done = refused_start(config)
    assert names in done.stderr, done.stderr
    assert "k1" not in done.stderr


async def test_a_fleet_shares_quotas_and_its_ledger_survives_a_redis_restart() -> None:
    """Two servers over one real Redis (every write on disk): a key's quota holds across
    them; Redis killed and restarted mid-way, every request served is in the ledger once."""
    from chatbridge._state import FallbackStore
    from chatbridge._state._redis import RedisStore
    from tests.redisd import RedisServer

    settings = parse_settings(
        {"api_keys": ["k1"], "quotas": {"default": {"requests_per_day": 6}}}, "test"
    )
    with RedisServer(persist=True) as redis:
        stores = [
            FallbackStore(RedisStore(redis.url), retry_after=0.05, retry_after_max=0.1)
            for _ in range(2)
        ]
        usages = [Usage(store, settings, clock=lambda: NOON) for store in stores]
        async with LocalUpstream() as upstream_url:
            routes = {
                "r": [{"provider": "OpenAICompatible", "base_url": upstream_url, "model": "m"}]
            }
            client = AsyncClient(routes=routes, health=HealthBook())
            async with (
                listening(build_app(client, settings, usage=usages[0]), settings) as one,
                listening(build_app(client, settings, usage=usages[1]), settings) as two,
                aiohttp.ClientSession() as session,
            ):

                async def ask(url: str) -> int:
                    status, _, _ = await post(
                        session, url, {"model": "r", "messages": USER}, headers=bearer("k1")
                    )
                    return status

                statuses = [await ask(one), await ask(two)]
                redis.kill()
                statuses += [await ask(one), await ask(two)]  # each counts on its own
                redis.start()
                for store, usage in zip(stores, usages, strict=True):
                    await usage.drain()
                    for _ in range(100):  # Redis is tried again after its back-off
                        if await store.settle():
                            break
                        await asyncio.sleep(0.05)
                    assert not store.owed
                statuses += [await ask(one), await ask(two), await ask(one)]
                for usage in usages:
                    await usage.drain()
                report = await usages[1].report([key_id("k1")], 1)
        for store in stores:
            await store.close()
    assert statuses == [200] * 6 + [429]
    (row,) = report[0]["days"]
    assert row["requests"] == 6 and report[0]["quota"]["requests_per_day"]["used"] == 6


async def test_every_door_refuses_over_quota_in_its_own_shape_and_counts_tokens(
    spawn_server: Any,
) -> None:
    """``chatbridge serve`` as a process, a quota of one request a day per key: the second
    request of a key gets the 429 ``insufficient_quota`` in the shape of the door it came
    through (OpenAI's at chat completions and Responses, Anthropic's at Messages), with
    ``Retry-After``; the first is in the ledger with the tokens the upstream reported,
    whichever door it came through (a stream that did not ask for usage included)."""
    doors = {
        "k-chat": ("/v1/chat/completions", {"messages": USER, "stream": True}),
        "k-resp": ("/v1/responses", {"input": "Hello", "stream": True}),
        "k-msg": ("/v1/messages", {"messages": USER, "max_tokens": 100}),
    }
    async with LocalUpstream() as upstream:
        target = f'{{ provider = "OpenAICompatible", base_url = "{upstream}", model = "m" }}'
        keys = ", ".join(f'"{key}"' for key in doors)
        config = (
            f"[routes.r]\ntargets = [{target}]\n[server]\napi_keys = [{keys}]\n"
            '[server.quotas]\ndefault = { requests_per_day = 1, tokens_per_day = 100000 }\n'
        )
        served = await asyncio.to_thread(spawn_server, config=config)
        async with aiohttp.ClientSession() as session:
            answers = {}
            for key, (path, body) in doors.items():
                for _ in range(2):
                    async with session.post(
                        served.url + path, json={"model": "r", **body}, headers=bearer(key)
                    ) as response:
                        status, headers = response.status, dict(response.headers)
                        text = await response.text()
                answers[key] = (status, headers, json.loads(text))
            ledger = {}
            for key in doors:
                async with session.get(served.url + "/v1/usage", headers=bearer(key)) as reply:
                    ledger[key] = (await reply.json())["keys"][0]
    assert served.stop() == 0
    for key, (status, headers, refusal) in answers.items():
        assert status == 429 and 0 < int(headers["Retry-After"]) <= 86400, (key, refusal)
        if key == "k-msg":  # Anthropic's error shape
            assert refusal["type"] == "error" and refusal["error"]["type"] == "rate_limit_error"
            assert "1 requests per day" in refusal["error"]["message"]
        else:
            assert refusal["error"]["code"] == "insufficient_quota", refusal
        (row,) = ledger[key]["days"]
        assert (row["requests"], row["errors"]) == (1, 0)
        assert row["total_tokens"] == row["prompt_tokens"] + row["completion_tokens"] > 0, key
        assert ledger[key]["quota"]["requests_per_day"]["used"] == 1
