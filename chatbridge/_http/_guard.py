"""Two rules for sites a caller names (a server request's ``site_url``), shared by every
protocol engine.

**No inward addresses.** Inside :func:`no_inward_addresses`, every connection any session
makes for the call goes through a connector whose resolver drops loopback, link-local,
private, unique-local, multicast, unspecified and reserved addresses (IPv4-mapped forms
included), and whose socket factory refuses them again for the exact address about to be
dialled, IP literals included (aiohttp resolves those without the resolver). So a redirect,
a page-given endpoint or a DNS answer that changes between two lookups (rebinding) can
never make the call connect inward: the checked address is the dialled one.

**Page-given endpoints stay on the page's origin.** :func:`endpoint_allowed` is the rule a
page's chat endpoint (and tokens read back from a shared store) must pass: the page's own
scheme, host and port (an upgrade from http to https on the same host too), or an origin
the configuration lists.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

__all__ = [
    "GuardedResolver",
    "InwardAddressError",
    "endpoint_allowed",
    "guarded",
    "guarded_socket",
    "is_inward",
    "no_inward_addresses",
    "origin",
]

_GUARDED: ContextVar[bool] = ContextVar("chatbridge_no_inward_addresses", default=False)
_WHY = "a loopback, link-local, private or otherwise special address"


class InwardAddressError(OSError):
    """A connection for a caller-named site would have gone to an inward address."""


def is_inward(address: str) -> bool:
    """An address a caller may not send this process to: loopback, link-local, private
    (unique-local included), unspecified, multicast or reserved, IPv4-mapped IPv6 too."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_link_local
        or ip.is_private
        or ip.is_unspecified
        or ip.is_multicast
        or ip.is_reserved
        or not ip.is_global
    )


@contextmanager
def no_inward_addresses() -> Iterator[None]:
    """Every connection made inside (by this task, and by tasks it starts) is checked."""
    token = _GUARDED.set(True)
    try:
        yield
    finally:
        _GUARDED.reset(token)


def guarded() -> bool:
    """Is the current call under :func:`no_inward_addresses`?"""
    return _GUARDED.get()


class GuardedResolver(AbstractResolver):
    """A resolver that keeps only addresses that are not inward; none left is an error."""

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self._inner = inner or DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        allowed = [result for result in found if not is_inward(result["host"])]
        if not allowed:
            raise InwardAddressError(f"{host} resolves to {_WHY}, which this call may not reach")
        return allowed

    async def close(self) -> None:
        await self._inner.close()


def guarded_socket(addr_info: tuple[Any, ...]) -> socket.socket:
    """The connector's socket factory: the last check, on the address about to be dialled."""
    family, kind, proto, _, address = addr_info
    if is_inward(str(address[0])):
        raise InwardAddressError(f"{address[0]} is {_WHY}, which this call may not reach")
    return socket.socket(family=family, type=kind, proto=proto)


def origin(url: str | URL) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` of a URL, lower-cased, the port made explicit."""
    parsed = url if isinstance(url, URL) else URL(url)
    return (parsed.scheme.lower(), (parsed.host or "").lower().rstrip("."), parsed.port)


def endpoint_allowed(endpoint: str, page: str, allowed: Sequence[str] = ()) -> bool:
    """May a page at ``page`` send its chat to ``endpoint``? On the page's own origin (or
    the same host upgraded from http to https), or on an origin in ``allowed`` (``"*"``:
    any)."""
    try:
        there, here = origin(endpoint), origin(page)
    except (ValueError, TypeError):
        return False
    if there[0] not in ("http", "https") or not there[1]:
        return False
    if there == here or (here[0] == "http" and there == ("https", here[1], 443) and here[2] == 80):
        return True
    if "*" in allowed:
        return True
    listed = set()
    for item in allowed:
        try:
            listed.add(origin(item))
        except (ValueError, TypeError):
            continue
    return there in listed
