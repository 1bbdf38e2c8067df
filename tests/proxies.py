"""Real proxies on 127.0.0.1 for the tests: a forward HTTP proxy and a SOCKS5 proxy, each
with optional credentials, counting what they carried. Each request (HTTP) or connection
(SOCKS) is its own upstream connection; ``hosts`` maps names only the proxy can resolve
(``upstream.test``) to addresses, so a request that reaches them went through the proxy."""

from __future__ import annotations

import asyncio
import base64
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tests.conftest import pipe, wait_closed

__all__ = ["Proxy", "forward_proxy", "socks5_proxy"]


@dataclass
class Proxy:
    url: str = ""
    #: What it carried: request targets (HTTP) or destinations (SOCKS).
    carried: list[str] = field(default_factory=list)
    #: Requests it refused for their credentials.
    refused: int = 0
    hosts: dict[str, str] = field(default_factory=dict)


@asynccontextmanager
async def _serving(proxy: Proxy, scheme: str, handle: object) -> AsyncIterator[Proxy]:
    server = await asyncio.start_server(handle, "127.0.0.1", 0)  # type: ignore[arg-type]
    port = server.sockets[0].getsockname()[1]
    proxy.url = f"{scheme}://127.0.0.1:{port}"
    try:
        yield proxy
    finally:
        server.close()
        await server.wait_closed()


def _expected(user: str | None, password: str | None) -> str | None:
    if user is None:
        return None
    return "Basic " + base64.b64encode(f"{user}:{password or ''}".encode()).decode()


@asynccontextmanager
async def forward_proxy(
    user: str | None = None, password: str | None = None, hosts: dict[str, str] | None = None
) -> AsyncIterator[Proxy]:
    """A forward HTTP proxy (absolute-form requests); with ``user``, a request without the
    right ``Proxy-Authorization`` gets a 407."""
    proxy = Proxy(hosts=dict(hosts or {}))
    wanted = _expected(user, password)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            first, *lines = head.decode("latin-1").split("\r\n")
            method, target, version = first.split(" ")
            headers = [line for line in lines if line]
            named = {line.split(":", 1)[0].strip().lower(): line.split(":", 1)[1].strip()
                     for line in headers}  # fmt: skip
            if wanted is not None and named.get("proxy-authorization") != wanted:
                proxy.refused += 1
                writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                             b"Proxy-Authenticate: Basic\r\nContent-Length: 0\r\n"
                             b"Connection: close\r\n\r\n")  # fmt: skip
                await writer.drain()
                return
            body = await reader.readexactly(int(named.get("content-length", "0")))
            parts = urlsplit(target)
            host = proxy.hosts.get(parts.hostname or "", parts.hostname or "")
            up_reader, up_writer = await asyncio.open_connection(host, parts.port or 80)
            kept = [
                line for line in headers
                if line.split(":", 1)[0].strip().lower()
                not in ("proxy-authorization", "connection", "keep-alive")
            ]  # fmt: skip
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            request = [f"{method} {path} {version}", *kept, "Connection: close", "", ""]
            up_writer.write("\r\n".join(request).encode("latin-1") + body)
            proxy.carried.append(target)
            await pipe(up_reader, writer)
            await wait_closed(up_writer)
        except (asyncio.IncompleteReadError, ConnectionError, OSError, ValueError):
            pass
        finally:
            await wait_closed(writer)

    async with _serving(proxy, "http", handle) as started:
        yield started


async def _socks_login(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, wanted: tuple[str, str] | None
) -> bool:
    _, count = await reader.readexactly(2)
    methods = await reader.readexactly(count)
    if wanted is None:
        writer.write(b"\x05\x00")
        return True
    if 2 not in methods:
        writer.write(b"\x05\xff")
        return False
    writer.write(b"\x05\x02")
    _, size = await reader.readexactly(2)
    user = (await reader.readexactly(size)).decode()
    size = (await reader.readexactly(1))[0]
    password = (await reader.readexactly(size)).decode()
    ok = (user, password) == wanted
    writer.write(b"\x01\x00" if ok else b"\x01\x01")
    return ok


async def _socks_destination(reader: asyncio.StreamReader) -> tuple[str, int]:
    _, _, _, kind = await reader.readexactly(4)
    if kind == 1:
        host = socket.inet_ntoa(await reader.readexactly(4))
    elif kind == 3:
        host = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
    else:
        host = socket.inet_ntop(socket.AF_INET6, await reader.readexactly(16))
    return host, int.from_bytes(await reader.readexactly(2), "big")


@asynccontextmanager
async def socks5_proxy(
    user: str | None = None,
    password: str | None = None,
    hosts: dict[str, str] | None = None,
    *,
    stall: bool = False,
) -> AsyncIterator[Proxy]:
    """A SOCKS5 proxy (CONNECT only); with ``user``, username/password login; with
    ``stall``, one that never answers its handshake."""
    proxy = Proxy(hosts=dict(hosts or {}))
    wanted = (user, password or "") if user is not None else None

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if stall:
                await reader.read()  # say nothing until the client gives up
                return
            if not await _socks_login(reader, writer, wanted):
                proxy.refused += 1
                return
            host, port = await _socks_destination(reader)
            up_reader, up_writer = await asyncio.open_connection(proxy.hosts.get(host, host), port)
            writer.write(b"\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00")
            proxy.carried.append(f"{host}:{port}")
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            with suppress(Exception):
                await wait_closed(writer)

    async with _serving(proxy, "socks5", handle) as started:
        yield started
