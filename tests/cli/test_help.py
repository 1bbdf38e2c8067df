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
    assert "\n\nexit codes:\n" in result.out  # a blank line between the examples and codes


def listed_codes(help_text: str) -> set[int]:
    table = help_text.split("exit codes:\n", 1)[1]
    return {int(m) for m in re.findall(r"^  (\d+) ", table, re.MULTILINE)}


@pytest.mark.parametrize(
    ("command", "codes"),
    [
        (None, {0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 130}),  # the whole table
        ("chat", {0, 2, 3, 5, 6, 7, 8, 9, 10, 11, 130}),
        ("check", {0, 1, 2, 3, 11, 130}),  # a failed site is exit 1; its own code is reported
        ("demo", {0, 2, 11, 130}),
        ("providers", {0, 2, 11, 130}),
        ("site", {2, 11, 130}),  # serves until stopped
    ],
)
def test_each_command_lists_only_the_exit_codes_it_can_return(
    command: str | None, codes: set[int]
) -> None:
    from chatbridge._cli._main import build_parser

    parser = build_parser()
    if command is not None:
        parser = parser.parse_args([command]).command_parser

    assert listed_codes(parser.format_help()) == codes


async def test_providers_help_lists_no_code_it_cannot_return() -> None:
    result = await run_cli("providers", "--help")

    assert listed_codes(result.out) == {0, 2, 11, 130}


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


async def test_version_prints_the_package_version() -> None:
    from chatbridge import __version__

    result = await run_cli("--version")

    assert result.code == 0
    assert result.out == f"chatbridge {__version__}\n"


async def test_timeout_help_gives_each_providers_own_default_and_the_routes() -> None:
    from chatbridge import AIPower, Chatgpt4o, ChatGptt, Policy
    from chatbridge._cli._options import default_timeout
    from chatbridge._constants import AIPOWER_TIMEOUT, CHATGPT4O_TIMEOUT
    from chatbridge._providers._registry import list_providers

    result = await run_cli("chat", "--help")

    assert default_timeout(AIPower) == default_timeout(ChatGptt) == AIPOWER_TIMEOUT
    assert default_timeout(Chatgpt4o) == CHATGPT4O_TIMEOUT
    help_text = " ".join(result.out.split())  # argparse wraps the help
    # With --config the route's policy sets the deadline, not a provider's default.
    route = f"with --config, the route's [policy] timeout, {Policy().timeout:g} s unless"
    assert "--timeout SECONDS deadline of each question" in help_text
    assert route in help_text, help_text
    shown = re.search(r"--timeout SECONDS .*?; else the provider's: (.*?)\)", help_text)
    assert shown is not None, help_text
    said = {}  # provider name -> seconds, as the help groups them
    for group in shown.group(1).split(", "):
        seconds, names = group.split(" s for ")
        said.update(dict.fromkeys(names.split(" and "), float(seconds)))
    expected = {p.get_name(): default_timeout(p) for p in list_providers()}
    assert said == {name: seconds for name, seconds in expected.items() if seconds is not None}
    assert said["ChatGptt"] == 240 and said["Chatgpt4o"] == 120  # what the issue measured
    check = " ".join((await run_cli("check", "--help")).out.split())
    assert "deadline of each site's probe (default: 30 s)" in check


async def test_providers_lists_every_provider_in_a_pipe() -> None:
    result = await run_cli("providers")

    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].split() == ["name", "site", "working", "streaming", "models"]
    assert [line.split()[0] for line in lines[1:]] == [
        "AIEngine",
        "AIPower",
        "AnySite",
        "Chatgpt4o",
        "ChatGptt",
        "OpenAICompatible",
    ]
