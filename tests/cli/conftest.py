"""The CLI runs as a real subprocess (``python -m chatbridge``) against real local sites."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

import pytest
from aiohttp import web

from chatbridge.site import LocalSite, SiteConfig

CLI = (sys.executable, "-m", "chatbridge")
#: The subprocesses inherit no terminal and no colour settings from whoever runs pytest.
ENV = {
    **{k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR", "COLUMNS")},
    "PYTHONUNBUFFERED": "1",
}
#: An AI Power 1.8+ shortcode page whose nonce never works (used for "cannot refresh").
EXPIRED_PAGE = (
    "<!DOCTYPE html><html><head><title>Chat</title></head><body>"
    '<div class="wpaicg-chat-shortcode" data-nonce="0123456789" data-post-id="2" '
    'data-bot-id="0" data-openai_stream_nav="1"></div></body></html>'
)


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


async def run_cli(*args: str, stdin: str = "", timeout: float = 20) -> Result:
    """Run ``chatbridge ARGS`` with ``stdin`` piped in; never a terminal, so never a spinner."""
    process = await asyncio.create_subprocess_exec(
        *CLI,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=ENV,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), timeout)
    assert process.returncode is not None
    return Result(process.returncode, out.decode(), err.decode())


@pytest.fixture
async def site_url() -> AsyncIterator[str]:
    """A healthy local AI Power site (plugin 2.2, streaming) in this test's event loop."""
    async with LocalSite(SiteConfig()) as url:
        yield url


@pytest.fixture
async def expired_nonce_url(
    app_server: Callable[[web.Application], AbstractAsyncContextManager[str]],
) -> AsyncIterator[str]:
    """A site with an AI Power page whose every chat POST is refused as an expired nonce,
    however often the page is fetched again: a nonce that cannot be refreshed."""

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=EXPIRED_PAGE, content_type="text/html")

    async def ajax(request: web.Request) -> web.Response:
        return web.Response(status=403, text="The link you followed has expired.")

    app = web.Application()
    app.add_routes([web.post("/wp-admin/admin-ajax.php", ajax), web.get("/{tail:.*}", page)])
    async with app_server(app) as url:
        yield url


@pytest.fixture
async def plain_url(
    app_server: Callable[[web.Application], AbstractAsyncContextManager[str]],
) -> AsyncIterator[str]:
    """A web site that is not an AI Power site."""

    async def page(request: web.Request) -> web.Response:
        return web.Response(
            text="<html><body><h1>Just a blog</h1></body></html>", content_type="text/html"
        )

    app = web.Application()
    app.add_routes([web.get("/{tail:.*}", page)])
    async with app_server(app) as url:
        yield url


@pytest.fixture
def spawn_site() -> Iterator[Callable[..., str]]:
    """``spawn_site(*options)`` runs ``chatbridge site --port 0 --quiet OPTIONS`` as a
    subprocess and returns its URL from the first stdout line (for tests that block, like
    pexpect's)."""
    processes: list[subprocess.Popen[str]] = []

    def spawn(*options: str) -> str:
        process = subprocess.Popen(
            [*CLI, "site", "--port", "0", "--quiet", *options],
            stdout=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        processes.append(process)
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, line
        return line.rsplit(" ", 1)[-1].strip()

    yield spawn
    for process in processes:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
