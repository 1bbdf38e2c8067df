"""``chat --config/--model`` and ``check --config``: routes from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from chatbridge.site import LocalSite, SiteConfig
from chatbridge.upstream import LocalUpstream, UpstreamConfig, expected_answer

from ..conftest import free_port
from .conftest import run_cli


def routes_file(tmp_path: Path, *routes: tuple[str, list[str]]) -> str:
    lines = []
    for name, targets in routes:
        lines += [f"[routes.{name}]", "targets = [", *(f"  {t}," for t in targets), "]", ""]
    path = tmp_path / "chatbridge.toml"
    path.write_text("\n".join(lines))
    return str(path)


async def test_chat_fails_over_along_a_route(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    async with LocalSite() as site:
        config = routes_file(
            tmp_path,
            (
                "default",
                [
                    f'{{ provider = "AIPower", site_url = "{dead}", name = "dead" }}',
                    f'{{ provider = "AIPower", site_url = "{site}" }}',
                ],
            ),
        )
        result = await run_cli("chat", "--config", config, "--json", "hello", "there")
    assert result.code == 0, result.err
    reply = json.loads(result.out)
    assert reply["route"] == "default" and reply["site"] == site
    assert "Echo: hello there" in reply["answer"]


async def test_chat_names_a_route_and_reaches_an_openai_compatible_target(tmp_path: Path) -> None:
    async with LocalUpstream(UpstreamConfig(models=("llama",))) as base:
        config = routes_file(
            tmp_path,
            ("one", ['{ provider = "AIPower", site_url = "http://127.0.0.1:9" }']),
            (
                "local",
                [f'{{ provider = "OpenAICompatible", base_url = "{base}", model = "llama" }}'],
            ),
        )
        result = await run_cli("chat", "--config", config, "--model", "local", "hi")
        no_route = await run_cli("chat", "--config", config, "hi")
        unknown = await run_cli("chat", "--config", config, "--model", "nope", "hi")
    expected = "".join(expected_answer([{"role": "user", "content": "hi"}]))
    assert result.code == 0 and result.out.strip() == expected
    assert (
        no_route.code == 2 and "several routes (one, local): pick one with --model" in no_route.err
    )
    assert unknown.code == 3 and "has no route 'nope'" in unknown.err


async def test_config_mistakes_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[routes.r]\ntargets = [{ provider = "Nope" }]\n')
    result = await run_cli("chat", "--config", str(bad), "hi")
    mixed = await run_cli("chat", "--config", str(bad), "--url", "http://127.0.0.1:9", "hi")
    assert result.code == 2 and len(result.err_lines) == 1
    assert f"{bad}, route 'r', target 1, field 'provider'" in result.err
    assert mixed.code == 2 and "use one" in mixed.err


async def test_every_target_failing_exits_with_the_last_reason(tmp_path: Path) -> None:
    async with LocalSite(SiteConfig(faults=("cloudflare",), fault_target="all")) as site:
        config = routes_file(
            tmp_path, ("default", [f'{{ provider = "AIPower", site_url = "{site}" }}'])
        )
        result = await run_cli("chat", "--config", config, "hi")
    assert result.code == 7 and "Every target of route 'default' failed" in result.err


async def test_check_probes_every_target_and_shows_breakers(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    async with LocalSite() as site, LocalUpstream() as base:
        config = routes_file(
            tmp_path,
            (
                "default",
                [
                    f'{{ provider = "AIPower", site_url = "{dead}", name = "dead" }}',
                    f'{{ provider = "AIPower", site_url = "{site}", tools = "emulate" }}',
                ],
            ),
            ("local", [f'{{ provider = "OpenAICompatible", base_url = "{base}", model = "m" }}']),
        )
        table = await run_cli("check", "--config", config)
        as_json = await run_cli("check", "--config", config, "--json")
    assert table.code == 1
    assert "closed (1 failure in a row)" in table.out and "2 of 3 targets answered" in table.out
    probes = json.loads(as_json.out)
    assert [(p["route"], p["target"], p["answered"]) for p in probes] == [
        ("default", "dead", False),
        ("default", f"AIPower {site}", True),
        ("local", f"OpenAICompatible {base} m", True),
    ]
    assert probes[0]["breaker"]["consecutive_failures"] == 1 and probes[0]["exit_code"] == 5
    assert probes[2]["breaker"]["state"] == "closed"
    assert probes[1]["generation"].startswith("legacy")
    # Which targets take a request with tools, and how.
    assert [p["tools"] for p in probes] == ["none", "emulate", "native"]
    assert "tools" in table.out and "emulate" in table.out and "native" in table.out


async def test_check_goes_the_way_chat_would_and_takes_a_named_bot(tmp_path: Path) -> None:
    dead_proxy = f"http://127.0.0.1:{free_port()}"
    async with LocalSite() as site:
        config = routes_file(
            tmp_path,
            (
                "default",
                [
                    f'{{ provider = "AIPower", site_url = "{site}", proxy = "{dead_proxy}" }}',
                    f'{{ provider = "AIPower", site_url = "{site}", bot_id = "support-bot" }}',
                ],
            ),
        )
        result = await run_cli("check", "--config", config, "--json")
    probes = json.loads(result.out)
    assert result.code == 1 and len(probes) == 2
    assert not probes[0]["answered"] and "proxy" in probes[0]["error"].lower()
    assert probes[1]["error"] is None or "int()" not in probes[1]["error"]


async def test_check_shows_each_targets_share_and_the_fleets_load(tmp_path: Path) -> None:
    """The planned share by the route's strategy; with the fleet's Redis named in the file,
    the fleet's calls in flight and latency estimate for each target."""
    from chatbridge._client._balance import Balancer
    from chatbridge._client._config import load_config
    from chatbridge._client._health import HealthBook
    from chatbridge._state._redis import RedisStore
    from chatbridge.server._run import deployment_namespace
    from chatbridge.server._settings import parse_settings
    from tests.redisd import RedisServer

    with RedisServer() as redis:
        async with LocalUpstream() as a, LocalUpstream() as b:
            path = tmp_path / "chatbridge.toml"
            path.write_text(
                '[routes.r]\nstrategy = "weighted"\ntargets = [\n'
                f'  {{ provider = "OpenAICompatible", base_url = "{a}", model = "m", '
                "weight = 3 },\n"
                f'  {{ provider = "OpenAICompatible", base_url = "{b}", model = "m", '
                "max_concurrent = 5 },\n]\n"
                '[routes.fast]\nstrategy = "latency"\ntargets = [\n'
                f'  {{ provider = "OpenAICompatible", base_url = "{a}", model = "f" }},\n]\n'
                f'[server]\nredis_url = "{redis.url}"\n'
            )
            config = load_config(path)
            namespace = deployment_namespace(config, None, parse_settings(config.server), "x")
            store = RedisStore(redis.url, namespace=namespace)  # a serving process
            route, fast = config.routes["r"], config.routes["fast"]
            balancer = Balancer(HealthBook(state=store))
            await store.open_slot(balancer._busy_key(route.targets[1]), 5, 60)
            await store.tally({balancer._answers_key(route): {"0": 2, "1": 6}}, 60)
            await store.average(balancer._latency_key(fast.targets[0]), 0.042, 0.3, 60)
            await store.close()
            result = await run_cli("check", "--config", str(path), "--json")
            table = await run_cli("check", "--config", str(path))
    probes = json.loads(result.out)
    assert [(p["share"], p["strategy"], p["in_flight"], p["fleet_share"]) for p in probes] == [
        (0.75, "weighted", None, 0.25),  # not counted in Redis (no cap, not least busy)
        (0.25, "weighted", 1, 0.75),  # planned 1:3, while the fleet answered 2:6 so far
        (None, "latency", None, 0.0),  # by load; nothing answered yet
    ]
    assert probes[2]["latency_estimate"] == 0.042
    assert "75% (weighted)" in table.out and "25% (weighted)" in table.out
    assert "42 ms" in table.out


async def test_a_cut_stream_on_a_route_says_which_target_and_names_no_stream(
    tmp_path: Path,
) -> None:
    async with LocalSite(SiteConfig(faults=("truncate",))) as cutting, LocalSite() as healthy:
        config = routes_file(
            tmp_path,
            (
                "default",
                [
                    f'{{ provider = "AIPower", site_url = "{cutting}", name = "cutter" }}',
                    f'{{ provider = "AIPower", site_url = "{healthy}", name = "healthy" }}',
                ],
            ),
        )
        question = ("chat", "--config", config, "one two three four five six")
        streamed = await run_cli(*question)
        whole = await run_cli(*question, "--no-stream")
    assert streamed.code == 10
    error = streamed.err.splitlines()[-1]
    assert error.startswith("chatbridge: error: The answer was cut off and no target could")
    assert "cutter broke off after" in error and error.endswith("(here: --no-stream)")
    assert whole.code == 0, whole.err
    assert "Echo: one two three four five six" in whole.out
