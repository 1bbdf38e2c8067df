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
