"""Bad input: one clear line on stderr, a distinct exit code, never a traceback."""

from __future__ import annotations

import socket

import pytest

from chatbridge.site import LocalSite, SiteConfig
from tests.conftest import free_port

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


@pytest.mark.parametrize(
    "url", ["example.org", "ftp://example.org", "http://", "https://[::1", "http://host:99999"]
)
async def test_malformed_url(url: str) -> None:
    result = await run_cli("chat", "--url", url, "hi")

    assert_one_line_error(result, 2, f"--url {url!r}")


async def test_malformed_proxy(site_url: str) -> None:
    result = await run_cli("chat", "--url", site_url, "--proxy", "localhost", "hi")

    assert_one_line_error(result, 2, "--proxy 'localhost'")


async def test_empty_stdin(site_url: str) -> None:
    result = await run_cli("chat", "--url", site_url, stdin="  \n")

    assert_one_line_error(result, 2, "empty")


async def test_unreachable_host() -> None:
    result = await run_cli("chat", "--url", f"http://127.0.0.1:{free_port()}", "hi")

    assert_one_line_error(result, 5, "Cannot connect")


async def test_not_an_ai_power_site(plain_url: str) -> None:
    result = await run_cli("chat", "--url", plain_url, "hi")

    assert_one_line_error(result, 6, "not an AI Power site")


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
