"""``chatbridge demo``: the README's main command, offline and in seconds."""

from __future__ import annotations

import re

import pytest

from .conftest import run_cli


@pytest.mark.parametrize("generation", ["2.2", "aipkit"])
async def test_demo_holds_a_conversation_through_both_providers(generation: str) -> None:
    result = await run_cli("demo", "--generation", generation)

    assert result.code == 0, result.err
    assert result.err == ""
    assert f"(plugin {generation}, streaming)" in result.out
    answers = [line for line in result.out.splitlines() if "Echo:" in line]
    assert [line.split()[0] for line in answers] == ["Chatgpt4o"] * 3 + ["ChatGptt"] * 3
    # History grows turn by turn, and every answer stays on one line in a pipe.
    turns = [int(m) for m in re.findall(r"history turns: (\d+)", result.out)]
    assert turns == [0, 2, 4, 0, 2, 4]
    assert "messages answered:       6" in result.out
    assert "nonces the site refused: 2" in result.out
    seconds = float(re.search(r"finished in ([\d.]+) s", result.out).group(1))  # type: ignore[union-attr]
    assert seconds < 10


async def test_demo_without_streaming_still_answers() -> None:
    result = await run_cli("demo", "--no-stream")

    assert result.code == 0, result.err
    assert "(plugin 2.2, JSON replies)" in result.out
    assert result.out.count("Echo:") == 6


@pytest.mark.parametrize(
    ("options", "header"),
    [
        (["--generation", "1.7"], "(plugin 1.7, JSON replies)"),  # 1.7 cannot stream
        (["--generation", "1.7", "--no-stream"], "(plugin 1.7, JSON replies)"),
    ],
)
async def test_demo_header_says_what_the_site_does(options: list[str], header: str) -> None:
    result = await run_cli("demo", *options)

    assert result.code == 0, result.err
    assert result.out.splitlines()[0].startswith(f"Local AI Power site {header} at ")
    assert result.out.count("Echo:") == 6


async def test_demo_refuses_no_stream_on_aipkit_and_says_why() -> None:
    result = await run_cli("demo", "--generation", "aipkit", "--no-stream")

    assert result.code == 2
    assert result.out == ""  # refused before the site started
    [line] = result.err_lines
    assert line.startswith("chatbridge: error: --no-stream: an AIPKit site")
    assert "always streams" in line and "--generation 1.7, 1.8 or 2.2" in line
