"""``site_url`` as a request's extension field: only when the config allows it, and never a
loopback, link-local, private or otherwise special address unless that is allowed too.

Every address the host name resolves to is checked here, so a public-looking name that
points inward is refused at once with a 400. This is the first look only: the call itself
runs under ``no_inward_addresses`` (``chatbridge._http._guard``), which checks the address
of every connection it makes (redirects, the page's chat endpoint, a second DNS answer).
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from yarl import URL

from .._http._guard import is_inward
from ._errors import ApiError

__all__ = ["check_site", "is_inward"]


def _refuse(message: str) -> ApiError:
    return ApiError(400, message, "invalid_request_error", "site_not_allowed", "site_url")


async def check_site(url: Any, *, allowed: bool, private_allowed: bool) -> str:
    """The checked ``site_url``, or an :class:`ApiError` (400) saying why not."""
    if not allowed:
        raise _refuse("this server does not accept site_url (set allow_site_url in [server])")
    if not isinstance(url, str):
        raise _refuse("site_url must be a string")
    try:
        parsed = URL(url)
    except (ValueError, TypeError):
        raise _refuse("site_url is not a URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host or parsed.user is not None:
        raise _refuse("site_url must be an http(s) URL with a host and no credentials")
    if private_allowed:
        return url
    host = parsed.host.strip("[]")
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, parsed.port, type=socket.SOCK_STREAM
        )
    except (OSError, UnicodeError):
        raise _refuse(f"site_url: cannot resolve {host!r}") from None
    addresses = {str(info[4][0]) for info in infos}
    if not addresses or any(is_inward(address) for address in addresses):
        raise _refuse(
            "site_url points to a loopback, link-local or private address, which this "
            "server does not allow"
        )
    return url
