"""Fixtures shared by every test: real servers on 127.0.0.1, started and stopped by the tests."""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import (
    AbstractAsyncContextManager,
    AsyncExitStack,
    asynccontextmanager,
    contextmanager,
    suppress,
)
from typing import Any

import pytest
from aiohttp import web

from chatbridge import close_pool
from chatbridge._aiengine._site_client import _clients as _engine_sites
from chatbridge._aipower._site_client import _clients as _power_sites
from chatbridge._client._core import _BOOKS as _health_books
from chatbridge._providers._family import _finders as _family_finders
from chatbridge.upstream import LocalUpstream, UpstreamConfig

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: A reply whose status line nobody can read.
MALFORMED = b"HTTP/1.1 abc nonsense\r\nContent-Length: 0\r\n\r\n"


@asynccontextmanager
async def serve_app(app: web.Application) -> AsyncIterator[str]:
    """Run ``app`` on a free loopback port; yields its base URL (no trailing slash)."""
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    sockets = site._server.sockets if site._server is not None else []  # type: ignore[union-attr]
    port = sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
def app_server() -> Callable[[web.Application], AsyncIterator[str]]:
    return serve_app  # type: ignore[return-value]


@pytest.fixture(autouse=True)
async def _close_connection_pool() -> AsyncIterator[None]:
    """Each test's loop gets its own pool; close it explicitly at the end of the test."""
    yield
    await close_pool()


@contextmanager
def in_thread(server: AbstractAsyncContextManager[str]) -> Iterator[str]:
    """A local server (``async with server as url``) on its own loop in a thread, so a
    blocking caller (the synchronous client) cannot stall it; yields its URL."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    url = asyncio.run_coroutine_threadsafe(server.__aenter__(), loop).result(10)
    try:
        yield url
    finally:
        asyncio.run_coroutine_threadsafe(server.__aexit__(None, None, None), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture(autouse=True)
def _forget_sites() -> Iterator[None]:
    """Each test starts with no site known: the process-wide site registry (token caches,
    conversations) and the shared breakers are keyed by URL, and a later test's server can
    get an earlier one's port (under load it does): it must not inherit that site's nonce,
    generation or breaker."""
    yield
    for registry in (_power_sites, _engine_sites, _family_finders):  # (which plugin, too)
        registry._clients.clear()
    _health_books.clear()


def default_sigint() -> None:
    """``preexec_fn`` for a child that a test interrupts: SIGINT back to its default. A
    background job (``pytest ... &``) starts with SIGINT ignored, and a child inherits that:
    Python then never raises KeyboardInterrupt and Ctrl-C does nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def wait_closed(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with suppress(ConnectionError, OSError):
        await writer.wait_closed()


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy bytes from ``reader`` to ``writer`` until end of stream, then close ``writer``."""
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        await wait_closed(writer)


@asynccontextmanager
async def raw_reply_server(reply: bytes) -> AsyncIterator[str]:
    """A server on loopback that answers every request with ``reply``, byte for byte (a
    malformed status line, say), then closes; yields its base URL."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with suppress(asyncio.IncompleteReadError, ConnectionError):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(reply)
            await writer.drain()
        await wait_closed(writer)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


@asynccontextmanager
async def local_proxy() -> AsyncIterator[tuple[str, list[str]]]:
    """A forward HTTP proxy on loopback; yields its URL and the request targets it saw.

    Each client connection is tied to one upstream connection: the first request line is
    rewritten to origin form, then bytes are piped both ways (servers accept the absolute
    form of later requests on the same connection).
    """
    seen: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            await wait_closed(writer)
            return
        request_line, _, rest = head.partition(b"\r\n")
        method, target, version = request_line.decode().split(" ")
        seen.append(target)
        scheme_host, _, path = target.partition("://")[2].partition("/")
        host, _, port = scheme_host.partition(":")
        up_reader, up_writer = await asyncio.open_connection(host, int(port or 80))
        up_writer.write(f"{method} /{path} {version}\r\n".encode() + rest)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def local_upstream() -> AsyncIterator[Callable[..., Awaitable[tuple[LocalUpstream, str]]]]:
    """``upstream, base_url = await local_upstream(api_key="sk-test", usage=False)``: the
    fake OpenAI-compatible upstream, stopped at the end of the test."""
    async with AsyncExitStack() as stack:

        async def start(**options: Any) -> tuple[LocalUpstream, str]:
            clock = options.pop("clock", None)
            extra = {"clock": clock} if clock is not None else {}
            upstream = LocalUpstream(UpstreamConfig(**options), **extra)
            url = await stack.enter_async_context(upstream)
            return upstream, url

        yield start
