"""One connection pool per event loop, shared by every session on that loop.

Sessions are cheap and per call (each has its own cookie jar and headers); connections are
expensive and shared, so a provider that opens a session per message still reuses its
keep-alive connections. SOCKS proxies need a connector of their own, one per proxy URL.
The connectors set no limit of their own: how many connections a host gets at once is the
target's to say, per request, and is kept in the loop's :class:`~._slots.Slots`.

Closing: a pool closes with its loop. ``asyncio.run`` (and any runner) calls
``loop.shutdown_asyncgens()`` before closing the loop; each pool parks a small async
generator on its loop whose ``finally`` closes the connectors, so nothing is left open and
no "Unclosed connector" warning fires. ``close_pool()`` does the same on demand.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable, Hashable
from typing import Any, Protocol, TypeVar

import aiohttp

from .._constants import install_hint
from .._exceptions import TransportError
from ._guard import GuardedResolver, guarded, guarded_socket
from ._proxy import public_proxy
from ._slots import Slots

__all__ = ["close_pool", "get_connector", "get_slots", "shared"]

T = TypeVar("T", bound="Closable")


class Closable(Protocol):
    async def close(self) -> None: ...


def _connector(**options: Any) -> aiohttp.TCPConnector:
    return aiohttp.TCPConnector(limit=0, limit_per_host=0, enable_cleanup_closed=False, **options)


class _LoopPool:
    def __init__(self) -> None:
        self.direct = _connector()
        #: For calls under ``no_inward_addresses`` (made when first needed).
        self.guarded: aiohttp.TCPConnector | None = None
        self.socks: dict[str, aiohttp.BaseConnector] = {}
        self.sessions: dict[Hashable, Closable] = {}
        self.guard: AsyncGenerator[None, None] | None = None
        self.slots = Slots()

    def guarded_connector(self) -> aiohttp.TCPConnector:
        if self.guarded is None or self.guarded.closed:
            self.guarded = _connector(resolver=GuardedResolver(), socket_factory=guarded_socket)
        return self.guarded

    def connectors(self) -> list[aiohttp.BaseConnector]:
        extra = [self.guarded] if self.guarded is not None else []
        return [self.direct, *extra, *self.socks.values()]

    async def close(self) -> None:
        sessions = list(self.sessions.values())
        self.sessions.clear()
        for session in sessions:
            await session.close()
        connectors = self.connectors()
        self.socks.clear()
        for connector in connectors:
            await connector.close()


_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopPool] = (
    weakref.WeakKeyDictionary()
)


async def _close_with_loop(
    loop: asyncio.AbstractEventLoop, pool: _LoopPool
) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        # The pool's connectors refer to the loop: leaving the entry would keep both alive.
        if _pools.get(loop) is pool:
            del _pools[loop]
        await pool.close()


async def _pool() -> _LoopPool:
    loop = asyncio.get_running_loop()
    pool = _pools.get(loop)
    if pool is None or pool.direct.closed:
        pool = _LoopPool()
        _pools[loop] = pool
        pool.guard = _close_with_loop(loop, pool)
        await pool.guard.__anext__()  # registers it with the loop's asyncgen shutdown
    return pool


def _socks_connector(proxy: str) -> aiohttp.BaseConnector:
    try:
        from aiohttp_socks import ProxyConnector
    except ImportError as exc:
        raise TransportError(
            f"SOCKS proxy {public_proxy(proxy)} needs the optional extra: {install_hint('socks')}"
        ) from exc
    connector: aiohttp.BaseConnector = ProxyConnector.from_url(proxy, limit=0, limit_per_host=0)
    return connector


async def get_connector(proxy: str | None) -> tuple[aiohttp.BaseConnector, str | None]:
    """The shared connector for this loop, and the per-request ``proxy`` to pass to aiohttp.

    HTTP(S) proxies go per request on the direct pool; SOCKS proxies get their own pool.
    Under ``no_inward_addresses`` the pool is one whose every address is checked (a SOCKS
    proxy, which dials for us, is refused there: its addresses cannot be checked).
    """
    pool = await _pool()
    if guarded():
        if proxy and proxy.lower().startswith(("socks4", "socks5")):
            raise TransportError("a caller-named site cannot be reached through a SOCKS proxy")
        return pool.guarded_connector(), proxy or None
    if proxy and proxy.lower().startswith(("socks4", "socks5")):
        connector = pool.socks.get(proxy)
        if connector is None or connector.closed:
            connector = pool.socks[proxy] = _socks_connector(proxy)
        return connector, None
    return pool.direct, proxy or None


async def get_slots() -> Slots:
    """This loop's connection slots per host (see ``_slots``)."""
    return (await _pool()).slots


async def close_pool() -> None:
    """Close this loop's pooled connections now (they also close with the loop)."""
    loop = asyncio.get_running_loop()
    pool = _pools.pop(loop, None)
    if pool is not None:
        guard, pool.guard = pool.guard, None
        if guard is not None:
            await guard.aclose()


async def shared(key: Hashable, make: Callable[[], Awaitable[T]]) -> T:
    """A long-lived object (a session) for this loop, made once per ``key`` (and apart
    under ``no_inward_addresses``: its connections are checked); it is closed with the
    pool, before the connectors."""
    pool = await _pool()
    key = (key, guarded())
    found = pool.sessions.get(key)
    if found is None:
        made = await make()
        found = pool.sessions.setdefault(key, made)
        if found is not made:  # another caller made one while we awaited
            await made.close()
    return found  # type: ignore[return-value]
