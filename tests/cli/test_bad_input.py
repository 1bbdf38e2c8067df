"""Bad input: one clear line on stderr, a distinct exit code, never a traceback."""

from __future__ import annotations

import argparse
import json
import re
import socket
from pathlib import Path

import pytest

from chatbridge._cli._errors import UsageError
from chatbridge._cli._options import Destination, check_site_url, positive_seconds
from chatbridge._providers._registry import list_providers
from chatbridge.site import LocalSite, SiteConfig
from chatbridge.site._main import add_arguments, port_number
from tests.conftest import MALFORMED, free_port, raw_reply_server

from .conftest import Result, run_cli


def assert_one_line_error(result: Result, code: int, *fragments: str) -> None:
    assert result.code == code, result.err
    assert len(result.err_lines) == 1, result.err
    assert result.err.startswith("chatbridge: error: ")
    assert "Traceback" not in result.err
    for fragment in fragments:
        assert fragment in result.err


async def test_no_site_suggests_url_and_demo() -> None:
    result = await run_cli("chat", "hello")

    assert_one_line_error(result, 2, "--url", "chatbridge demo")


async def test_generic_provider_without_url_suggests_url() -> None:
    result = await run_cli("chat", "--provider", "AIPower", "hello")

    assert_one_line_error(result, 2, "AIPower has no site of its own", "--url")


async def test_unknown_provider(site_url: str) -> None:
    result = await run_cli("chat", "--provider", "NoSuchBot", "--url", site_url, "hi")

    assert_one_line_error(result, 3, "Unknown provider 'NoSuchBot'", "ChatGptt")


async def test_unknown_model(site_url: str) -> None:
    result = await run_cli(
        "chat", "--provider", "ChatGptt", "--model", "gpt-9", "--url", site_url, "hi"
    )

    assert_one_line_error(result, 3, "gpt-9")


@pytest.mark.parametrize("url", ["example.org", "ftp://example.org", "http://", "https://[::1"])
async def test_malformed_url(url: str) -> None:
    result = await run_cli("chat", "--url", url, "hi")

    assert_one_line_error(result, 2, f"--url {url!r}", "needs http:// or https://")


async def test_url_with_an_invalid_port_says_so() -> None:
    result = await run_cli("chat", "--url", "http://127.0.0.1:99999", "hi")

    assert_one_line_error(result, 2, "--url 'http://127.0.0.1:99999' has an invalid port")


@pytest.mark.parametrize("url", ["http://host:99999", "http://host:0", "http://host:x"])
def test_invalid_ports_are_named_as_such(url: str) -> None:
    with pytest.raises(UsageError, match="has an invalid port") as caught:
        check_site_url(url)
    assert "needs http://" not in str(caught.value)
    assert check_site_url("http://host:65535/") == "http://host:65535"


async def test_site_refuses_an_invalid_port() -> None:
    result = await run_cli("site", "--port", "99999")

    assert result.code == 2, result.err
    assert "error: argument --port: must be 0 to 65535: '99999'" in result.err_lines[-1]
    assert "Traceback" not in result.err


@pytest.mark.parametrize("port", ["65536", "-1", "http", "1.5"])
def test_port_validator(port: str) -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert [parser.parse_args(["--port", ok]).port for ok in ("0", "65535")] == [0, 65535]
    with pytest.raises(argparse.ArgumentTypeError):
        port_number(port)


async def test_unreachable_socks_proxy(site_url: str) -> None:
    pytest.importorskip("aiohttp_socks")
    proxy = f"socks5://127.0.0.1:{free_port()}"  # nothing listens there
    result = await run_cli("chat", "--url", site_url, "--proxy", proxy, "hi")

    assert_one_line_error(result, 5, "proxy")


async def test_provider_whose_seed_site_is_gone_suggests_url() -> None:
    result = await run_cli("chat", "--provider", "ChatGptt", "hello")

    assert_one_line_error(result, 2, "https://chatgptt.me is gone", "--url", "chatbridge demo")


def test_every_provider_that_is_not_working_needs_a_url() -> None:
    gone = [provider for provider in list_providers() if provider.url and not provider.working]
    assert gone  # the seed sites
    for provider in gone:
        with pytest.raises(UsageError, match="is gone"):
            Destination.resolve(provider.get_name(), None, None)
        assert Destination.resolve(provider.get_name(), "http://a.test", None).url == "http://a.test"


async def test_malformed_proxy(site_url: str) -> None:
    result = await run_cli("chat", "--url", site_url, "--proxy", "localhost", "hi")

    assert_one_line_error(result, 2, "--proxy 'localhost'")


async def test_empty_stdin(site_url: str) -> None:
    result = await run_cli("chat", "--url", site_url, stdin="  \n")

    assert_one_line_error(result, 2, "empty")


async def test_unreachable_host() -> None:
    result = await run_cli("chat", "--url", f"http://127.0.0.1:{free_port()}", "hi")

    assert_one_line_error(
        result, 5, "Cannot connect", "connection refused", "is the site running", "URL right"
    )


async def test_a_maintenance_page_says_so_and_when_to_retry() -> None:
    async with LocalSite(SiteConfig(faults=("maintenance",))) as url:
        result = await run_cli("chat", "--url", url, "hi")

    assert_one_line_error(result, 10, "down for maintenance", "try again in 10 minutes")


async def test_a_timeout_says_how_long_it_waited_and_names_the_option() -> None:
    # The site answers after 4 s (its shutdown then waits for that handler): far past 1 s.
    async with LocalSite(SiteConfig(faults=("slow",), slow_seconds=4)) as url:
        result = await run_cli("chat", "--url", url, "--timeout", "1", "hi")

    assert_one_line_error(result, 5, "give --timeout SECONDS (now 1 s)")
    # How long the chat request waited: what the page fetch left of the 1 s (on a busy
    # machine the fetch takes a while: "within 0.9 s"), never more.
    waited = re.search(r"No complete reply from \S+ within (\d+(?:\.\d+)?) s", result.err)
    assert waited is not None and 0 < float(waited.group(1)) <= 1.0, result.err


async def test_a_route_s_timeout_names_the_deadline_its_policy_set(tmp_path: Path) -> None:
    """With --config and no --timeout, the route's [policy] timeout applies, not a
    provider's default: the message says which deadline ran out."""
    async with LocalSite(SiteConfig(faults=("slow",), slow_seconds=4)) as url:
        config = tmp_path / "routes.toml"
        config.write_text(
            f'[routes.default]\ntargets = [{{ provider = "AIPower", site_url = "{url}" }}]\n'
            "[policy]\ntimeout = 1\n"
        )
        result = await run_cli("chat", "--config", str(config), "--no-stream", "hi")

    assert_one_line_error(
        result, 5, "give --timeout SECONDS (now 1 s, the route's [policy] timeout)"
    )


@pytest.mark.parametrize("url", ["http://exa mple.org", " http://example.org/a b", "http://a\tb/"])
async def test_a_url_with_a_blank_inside_is_a_usage_error(url: str) -> None:
    result = await run_cli("chat", "--url", url, "hi")

    assert_one_line_error(result, 2, "has a space (or another blank) inside")


async def test_a_reply_whose_headers_cannot_be_read_is_not_unreachable() -> None:
    """The host answered (with a status line nobody can read): exit 10, not 5."""
    async with raw_reply_server(MALFORMED) as url:
        result = await run_cli("chat", "--url", url, "hi")

    assert_one_line_error(result, 10, "cannot be read")


async def test_a_site_of_neither_plugin_is_one_error_naming_both(plain_url: str) -> None:
    result = await run_cli("chat", "--url", plain_url, "hi")

    assert_one_line_error(
        result,
        6,
        "neither an AI Power site nor an AI Engine site",
        f"chatbridge check --url {plain_url}",
        "--chat-page /chat/",  # issue 22 item 9: the chat may be on another page
    )


async def test_a_named_provider_says_its_own_plugin_is_missing(plain_url: str) -> None:
    power = await run_cli("chat", "--provider", "AIPower", "--url", plain_url, "hi")
    engine = await run_cli("chat", "--provider", "AIEngine", "--url", plain_url, "hi")

    assert_one_line_error(power, 6, "not an AI Power site")
    assert_one_line_error(engine, 6, "not an AI Engine site", "mwai-chatbot-container")


async def test_challenge_page() -> None:
    async with LocalSite(SiteConfig(faults=("cloudflare",), fault_target="all")) as url:
        result = await run_cli("chat", "--url", url, "hi")

    assert_one_line_error(result, 7, "challenge")


async def test_expired_nonce_that_cannot_be_refreshed(expired_nonce_url: str) -> None:
    result = await run_cli("chat", "--url", expired_nonce_url, "hi")

    assert_one_line_error(result, 8, "nonce")


async def test_plugin_error_has_its_own_code() -> None:
    config = SiteConfig(upstream_error="You exceeded your current quota.")
    async with LocalSite(config) as url:
        result = await run_cli("chat", "--url", url, "hi")

    assert_one_line_error(result, 10, "quota")


async def test_debug_shows_the_traceback() -> None:
    result = await run_cli("--debug", "chat", "--url", f"http://127.0.0.1:{free_port()}", "hi")
    after = await run_cli("chat", "--debug", "--url", f"http://127.0.0.1:{free_port()}", "hi")

    for run in (result, after):
        assert run.code == 5
        assert "Traceback" in run.err
        assert run.err.splitlines()[-1].startswith("chatbridge: error: Cannot connect")


async def test_site_on_a_taken_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = await run_cli("site", "--port", str(port))

    assert_one_line_error(result, 2, f"cannot listen on 127.0.0.1:{port}")


async def test_json_failure_prints_a_json_error_too() -> None:
    result = await run_cli("chat", "--json", "--url", f"http://127.0.0.1:{free_port()}", "hi")

    assert_one_line_error(result, 5, "Cannot connect")
    data = json.loads(result.out)
    assert data == {"error": result.err.removeprefix("chatbridge: error: ").strip(), "exit_code": 5}


@pytest.mark.parametrize(
    "args",
    [
        ["check", "--json", "--url", "not a url"],  # refused by the command
        ["chat", "--json", "--timeout", "0", "hi"],  # refused by argparse
    ],
)
async def test_json_usage_error_prints_a_json_error_too(args: list[str]) -> None:
    result = await run_cli(*args)

    assert result.code == 2
    assert "Traceback" not in result.err
    [line] = result.out.splitlines()
    data = json.loads(line)
    assert data["exit_code"] == 2 and data["error"] in result.err


async def test_without_json_a_failure_leaves_stdout_empty() -> None:
    result = await run_cli("chat", "--url", f"http://127.0.0.1:{free_port()}", "hi")

    assert result.code == 5 and result.out == ""


async def test_timeout_inf_is_a_usage_error() -> None:
    result = await run_cli("chat", "--url", "http://127.0.0.1:9", "--timeout", "inf", "hi")

    assert_one_line_error(result, 2, "argument --timeout", "'inf'")
    assert result.out == ""


@pytest.mark.parametrize("timeout", ["inf", "-inf", "nan", "0", "-1", "soon"])
def test_timeout_must_be_a_finite_positive_number(timeout: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=re.escape(repr(timeout))):
        positive_seconds(timeout)
    assert positive_seconds("1e300") == 1e300


async def test_usage_errors_are_one_line_that_points_at_help() -> None:
    result = await run_cli("chat", "--no-such-option", "hi")

    assert_one_line_error(result, 2, "unrecognized arguments: --no-such-option")
    assert "`chatbridge chat --help`" in result.err


async def test_page_options_are_checked() -> None:
    result = await run_cli("chat", "--url", "http://127.0.0.1:9", "--chat-page", "chat", "hi")

    assert_one_line_error(result, 2, "argument --chat-page", "'chat'")


@pytest.mark.parametrize(
    ("option", "value"), [("--chat-page", "ftp://x/"), ("--chat-page", "//x"), ("--bot-id", "x")]
)
def test_page_option_values(option: str, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    from chatbridge._cli._main import build_parser

    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["chat", option, value])
    assert exited.value.code == 2
    assert f"argument {option}" in capsys.readouterr().err
    args = build_parser().parse_args(["chat", "--chat-page", "/chat/", "--bot-id", "3"])
    assert (args.chat_page, args.bot_id) == ("/chat/", 3)
