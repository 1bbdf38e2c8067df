"""The command line against the local AI Engine site: chat, check, demo and site."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from chatbridge.site import AIEngineSiteConfig, LocalSite, SiteConfig
from chatbridge.site._main import add_arguments, config_from_args

from .conftest import run_cli
from .test_routes import routes_file


@pytest.fixture
async def engine_url() -> AsyncIterator[str]:
    async with LocalSite(AIEngineSiteConfig()) as url:
        yield url


async def test_chat_with_only_a_url_finds_an_ai_engine_site(engine_url: str) -> None:
    plain = await run_cli("chat", "--url", engine_url, "hello", "there")
    whole = await run_cli("chat", "--url", engine_url, "--no-stream", "--json", "hi")

    assert plain.code == 0, plain.err
    assert plain.out == (
        "[local AI Engine site] Echo: hello there | history turns: 0 (user 0, assistant 0)\n"
    )
    assert whole.code == 0, whole.err
    reply = json.loads(whole.out)
    assert (reply["provider"], reply["site"]) == ("AIEngine", engine_url)  # what the page showed
    assert reply["streamed"] is False and reply["answer"].startswith("[local AI Engine site]")


async def test_chat_keeps_one_conversation_on_an_ai_engine_site(engine_url: str) -> None:
    result = await run_cli("chat", "--provider", "AIEngine", "--url", engine_url, stdin="hi\n")
    assert result.code == 0, result.err  # (a pipe: one message)
    assert "Echo: hi" in result.out


async def test_a_message_over_the_bot_s_cap_is_refused_before_sending() -> None:
    async with LocalSite(AIEngineSiteConfig(text_input_max_length=5)) as url:
        result = await run_cli("chat", "--url", url, "a long message")
    assert result.code != 0 and len(result.err_lines) == 1
    assert "at most 5 (its textInputMaxLength)" in result.err


async def test_check_names_the_plugin_and_its_generation(engine_url: str) -> None:
    result = await run_cli("check", "--url", engine_url)

    assert result.code == 0, result.out + result.err
    row = next(line for line in result.out.splitlines() if line.startswith("AIEngine"))
    assert row.split()[:9] == [
        "AIEngine",
        engine_url,
        "yes",
        "AI",
        "Engine",
        "G3",
        "3.5.2+",
        "yes",
        "yes",
    ]


async def test_check_reports_a_refused_nonce_refreshed_on_an_ai_engine_site() -> None:
    # 2.4 keeps its nonce in the page, and a page cache serves the first one rendered until
    # the URL has a query string: two ticks later that nonce is dead.
    local = LocalSite(AIEngineSiteConfig(generation="2.4", page_cache=True))
    async with local as url, aiohttp.ClientSession() as session:
        async with session.get(f"{url}/") as page:
            assert page.status == 200
        local.advance_ticks(2)
        result = await run_cli("check", "--url", url, "--json")
    [probe] = json.loads(result.out)
    assert result.code == 0, result.err
    assert (probe["nonce_accepted"], probe["nonce_refreshed"]) == (True, True)


async def test_check_of_a_site_that_is_neither() -> None:
    async with LocalSite(AIEngineSiteConfig(chat_path="/chat/")) as url:
        result = await run_cli("check", "--url", url, "--json")
    [probe] = json.loads(result.out)
    assert result.code == 1
    assert (probe["reachable"], probe["plugin"], probe["exit_code"]) == (True, None, 6)
    assert "neither an AI Power site nor an AI Engine site" in probe["error"]


async def test_check_of_a_route_names_the_plugin_of_each_site_target(tmp_path: Path) -> None:
    async with LocalSite(AIEngineSiteConfig()) as engine, LocalSite() as power:
        config = routes_file(
            tmp_path,
            (
                "default",
                [
                    f'{{ provider = "AIEngine", site_url = "{engine}" }}',
                    f'{{ site_url = "{power}" }}',  # the page tells the plugin
                ],
            ),
        )
        result = await run_cli("check", "--config", config, "--json")
    probes = json.loads(result.out)
    assert result.code == 0, result.err
    assert [(p["plugin"], p["generation"], p["answered"]) for p in probes] == [
        ("AI Engine", "G3 3.5.2+", True),
        ("AI Power", "legacy 1.9.4–2.2", True),
    ]


@pytest.mark.parametrize("generation", ["3.6", "2.4"])
async def test_the_demo_shows_an_ai_engine_site(generation: str) -> None:
    result = await run_cli("demo", "--plugin", "ai-engine", "--generation", generation)

    assert result.code == 0, result.err
    assert result.out.startswith(f"Local AI Engine site (plugin {generation}, ")
    assert result.out.count("AIEngine [local AI Engine site] Echo:") == 3
    assert "messages answered:         3" in result.out
    starts = 2 if generation == "3.6" else 0  # the first nonce, and the one after expiry
    assert f"start_session calls:       {starts}" in result.out
    assert "nonces the site refused:   1" in result.out


async def test_the_demo_refuses_the_other_plugin_s_generation() -> None:
    result = await run_cli("demo", "--plugin", "ai-engine", "--generation", "aipkit")
    assert result.code == 2 and "AI Engine's generations are 2.4, 3.6" in result.err


def parse(*args: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(args)


def test_site_options_make_an_ai_engine_site() -> None:
    config = config_from_args(
        parse(
            "--plugin",
            "ai-engine",
            "--generation",
            "2.4",
            "--permalinks",
            "plain",
            "--bot-id",
            "support",
            "--extra-bot",
            "sales",
            "--text-input-max-length",
            "0",
            "--max-messages",
            "4",
            "--fault",
            "thinking",
            "--fault",
            "http500",
            "--no-discussions",
            "--usage-accuracy",
            "estimated",
        )
    )
    assert config == AIEngineSiteConfig(
        generation="2.4",
        permalinks="plain",
        bot_id="support",
        extra_bots=("sales",),
        text_input_max_length=None,
        max_messages=4,
        faults=("thinking", "http500"),
        discussions=False,
        usage_accuracy="estimated",
    )
    assert config_from_args(parse("--plugin", "ai-engine")) == AIEngineSiteConfig()
    assert config_from_args(parse()) == SiteConfig()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ("--plugin", "ai-engine", "--placement", "widget"),
            "--placement: not an option of an AI Engine",
        ),
        (("--plugin", "ai-engine", "--generation", "2.2"), "AI Engine's are 2.4 and 3.6"),
        (
            (
                "--permalinks",
                "plain",
            ),
            "--permalinks: not an option of an AI Power",
        ),
        (
            (
                "--fault",
                "no_end",
            ),
            "AI Engine faults (use --plugin ai-engine)",
        ),
        (
            (
                "--generation",
                "3.6",
            ),
            "an AI Engine generation (use --plugin ai-engine)",
        ),
        (
            (
                "--bot-id",
                "support",
            ),
            "an AI Power bot id is a whole number",
        ),
    ],
)
def test_site_options_of_the_other_plugin_are_refused_by_name(
    args: tuple[str, ...], says: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        config_from_args(parse(*args))


async def test_the_site_command_serves_an_ai_engine_site() -> None:
    import asyncio
    import sys

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "chatbridge",
        "site",
        "--plugin",
        "ai-engine",
        "--permalinks",
        "plain",
        "--quiet",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        assert line.startswith("AI Engine site (generation 3.6, plain permalinks) listening on ")
        url = line.split()[-1]
        result = await run_cli("chat", "--url", url, "hi")
        assert result.out.startswith("[local AI Engine site] Echo: hi"), result.err
    finally:
        process.terminate()
        await process.wait()
