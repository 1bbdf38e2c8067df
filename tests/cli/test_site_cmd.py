"""``chatbridge site``: every option explained, bad values refused by name, requests logged."""

from __future__ import annotations

import asyncio
import re

import aiohttp
import pytest

from chatbridge._cli._main import build_parser

from .conftest import CLI, ENV, run_cli


def test_every_site_option_has_help() -> None:
    parser = build_parser().parse_args(["site"]).command_parser
    undocumented = [
        action.option_strings[0]
        for action in parser._actions
        if action.option_strings and not (action.help or "").strip()
    ]
    assert undocumented == []


async def test_site_help_says_what_each_fault_does() -> None:
    from chatbridge.site._config import FAULT_KINDS

    result = await run_cli("site", "--help")

    assert result.code == 0
    faults = result.out.split("faults (--fault KIND", 1)[1]
    for kind in FAULT_KINDS:
        assert re.search(rf"^  {kind} +\S", faults, re.MULTILINE), kind
    assert "Faults hit every eligible request unless --fault-rate" in result.out


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--fault-rate", "2", "must be from 0 to 1"),
        ("--fault-rate", "nan", "finite"),
        ("--slow-seconds", "-1", "must be 0 or more seconds"),
        ("--upstream", "notaurl", "not an http:// or https:// URL"),
        ("--chat-path", "nope", "a path starting with /"),
        ("--chat-path", "/wp-admin/", "the site's own endpoints"),
        ("--tick-seconds", "0", "must be more than 0 seconds"),
        ("--fault-every", "0", "must be 1 or more"),
        ("--bot-id", "-3", "must be 0 or more"),
    ],
)
def test_site_refuses_bad_values_by_their_option_name(
    option: str, value: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["site", f"{option}={value}"])

    assert exited.value.code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"chatbridge: error: argument {option}: ")
    assert says in line
    assert not re.search(r"[a-z]_[a-z]", line)  # no internal field name such as tick_seconds


async def test_site_refuses_a_fault_rate_above_one() -> None:
    result = await run_cli("site", "--fault-rate", "2")

    assert result.code == 2
    assert result.err_lines == [
        "chatbridge: error: argument --fault-rate: must be from 0 to 1 (0.25 faults one request "
        "in four): '2' (see `chatbridge site --help`)"
    ]


async def test_site_refuses_impossible_combinations_by_option_name() -> None:
    result = await run_cli("site", "--generation", "aipkit", "--misconfigured")

    assert result.code == 2
    assert result.err_lines == [
        "chatbridge: error: --misconfigured: legacy generations only, not aipkit"
    ]


async def _site_log(*options: str) -> list[str]:
    """Run ``chatbridge site OPTIONS``, fetch its page, send one chat request (no nonce: the
    site refuses it), stop it, and return what it wrote on stderr."""
    process = await asyncio.create_subprocess_exec(
        *CLI,
        "site",
        "--port",
        "0",
        *options,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=ENV,
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        first = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        url = first.rsplit(" ", 1)[-1].strip()
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/") as page:
                assert page.status == 200
            form = {"action": "wpaicg_chat_shortcode_message", "_wpnonce": "0", "message": "hi"}
            async with http.post(f"{url}/wp-admin/admin-ajax.php", data=form) as chat:
                assert chat.status == 403  # plugin 2.2 refuses a bad nonce with 403
    finally:
        process.terminate()
        err = await asyncio.wait_for(process.stderr.read(), 20)
        await process.wait()
    return err.decode().splitlines()


async def test_site_logs_one_line_per_request_unless_quiet() -> None:
    lines = await _site_log()

    assert len(lines) == 2, lines
    assert re.fullmatch(r"GET / - 200 \d+\.\d ms", lines[0]), lines
    assert re.fullmatch(
        r"POST /wp-admin/admin-ajax\.php wpaicg_chat_shortcode_message 403 \d+\.\d ms", lines[1]
    ), lines
    assert await _site_log("--quiet") == []
