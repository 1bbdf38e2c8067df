"""Every command has --help with an example and the exit codes; bare `chatbridge` shows help."""

from __future__ import annotations

import re

import pytest

from .conftest import run_cli

COMMANDS = ["demo", "chat", "providers", "check", "site"]


@pytest.mark.parametrize("command", [*COMMANDS, None])
async def test_help_has_an_example_and_the_exit_codes(command: str | None) -> None:
    result = await run_cli(*([command] if command else []), "--help")

    assert result.code == 0
    assert "example" in result.out
    assert f"chatbridge {command or 'demo'}" in result.out  # the example uses the command
    assert "exit codes:" in result.out
    assert "8    the site rejected its nonce even after a refresh" in result.out
    assert "\n\nexit codes:\n" in result.out  # a blank line between the examples and codes


async def test_exit_code_table_is_aligned() -> None:
    result = await run_cli("chat", "--help")

    table = result.out.split("exit codes:\n", 1)[1].splitlines()
    rows = [re.match(r"  (\d+) +(\S)", line) for line in table]
    assert all(rows), table
    assert {row.start(2) for row in rows if row} == {7}  # every meaning starts in one column
    assert [row.group(1) for row in rows if row][-2:] == ["11", "130"]


async def test_no_command_prints_help_and_fails() -> None:
    result = await run_cli()

    assert result.code == 2
    assert "usage: chatbridge" in result.err and "COMMAND" in result.err


async def test_providers_lists_every_provider_in_a_pipe() -> None:
    result = await run_cli("providers")

    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].split() == ["name", "site", "working", "streaming", "models"]
    assert [line.split()[0] for line in lines[1:]] == [
        "AIPower",
        "Chatgpt4o",
        "ChatGptt",
        "OpenAICompatible",
    ]
