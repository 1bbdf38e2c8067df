"""Requests that carry their own cookie jars, with redirects followed hop by hop.

aiohttp's per-request ``cookies=`` go to every host a redirect leads to, and cookies copied
between jars lose their domain, path and expiry. Here each hop asks the jars for the cookies
of *that* hop's URL (domain, path, Secure and expiry honoured by the jar), and the cookies a
hop sets are stored with that hop's URL, so they keep their scope.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from http.cookies import BaseCookie
from typing import Any

import aiohttp
from yarl import URL

from .._constants import DEFAULT_MAX_REDIRECTS
from .._exceptions import TransportError

__all__ = ["Jar", "JarToBe", "Jars", "request_with_jars"]


class JarToBe:
    """A request's keeping jar before it exists: it sends nothing, and ``make()`` makes it
    when a reply first sets a cookie (which it then keeps, scoped as any jar's). A
    conversation whose site sets no cookie (most chat replies) never makes one."""

    __slots__ = ("make",)

    def __init__(self, make: Callable[[], aiohttp.abc.AbstractCookieJar]) -> None:
        self.make = make

    def __len__(self) -> int:
        return 0  # no cookie to send

    def filter_cookies(self, request_url: URL) -> BaseCookie[str]:
        return BaseCookie()


Jar = aiohttp.abc.AbstractCookieJar | JarToBe
#: A request's jars: one, or several (the first keeps what the site sets; all supply theirs).
Jars = Jar | Sequence[Jar]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_SET_COOKIE = "Set-Cookie"


def _cookies_for(jars: Sequence[Jar], url: URL) -> dict[str, str]:
    """The cookies the jars hold for ``url``; the first jar wins a name they share."""
    cookies: dict[str, str] = {}
    for jar in reversed(jars):
        if len(jar):
            cookies.update({key: morsel.value for key, morsel in jar.filter_cookies(url).items()})
    return cookies


def _next_method(status: int, method: str) -> str:
    """RFC 9110 §15.4 as browsers apply it: 303 turns anything but HEAD into GET; 301/302
    turn a POST into GET; 307/308 repeat the request as it was."""
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        return "GET"
    return method


def _time_left(timeout: aiohttp.ClientTimeout, left: float) -> aiohttp.ClientTimeout:
    if left <= 0:
        raise TimeoutError
    return aiohttp.ClientTimeout(
        total=left,
        connect=timeout.connect,
        sock_connect=timeout.sock_connect,
        sock_read=timeout.sock_read,
    )


def _drop_body(kwargs: dict[str, Any]) -> None:
    """A redirect that turns the request into a GET: no body, no Content-Type."""
    for body in ("data", "json"):
        kwargs.pop(body, None)
    kwargs["headers"] = {
        key: value
        for key, value in (kwargs.get("headers") or {}).items()
        if key.lower() != "content-type"
    }


async def request_with_jars(
    client: aiohttp.ClientSession,
    method: str,
    url: str,
    kwargs: dict[str, Any],
    jars: Jars,
) -> aiohttp.ClientResponse:
    """``client.request`` whose cookies come from ``jars`` (the first one also keeps what the
    site sets). ``cookies=`` given by the caller go to the first URL's origin only.
    Foreign exceptions are left to the caller to translate."""
    jar_list = [jars] if isinstance(jars, aiohttp.abc.AbstractCookieJar | JarToBe) else list(jars)
    follow = kwargs.pop("allow_redirects", True)
    hops_left = kwargs.pop("max_redirects", DEFAULT_MAX_REDIRECTS)
    given: Mapping[str, str] = kwargs.pop("cookies", None) or {}
    timeout: aiohttp.ClientTimeout = kwargs.get("timeout") or client.timeout
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout.total if timeout.total else None
    target = URL(url)
    origin = target.origin() if given else None
    hop = 0
    while True:
        cookies = _cookies_for(jar_list, target)
        if given and target.origin() == origin:
            cookies.update(given)
        if deadline is not None and hop:  # one total for every hop (the first has it whole)
            kwargs["timeout"] = _time_left(timeout, deadline - loop.time())
        raw = await client.request(
            method, target, allow_redirects=False, cookies=cookies or None, **kwargs
        )
        keeper = jar_list[0]
        # Parsed only when there is something to keep: a jar that keeps none, or a reply
        # that sets none (most chat replies), costs no parsing.
        if not isinstance(keeper, aiohttp.DummyCookieJar) and _SET_COOKIE in raw.headers:
            if isinstance(keeper, JarToBe):
                keeper = jar_list[0] = keeper.make()
            keeper.update_cookies(raw.cookies, raw.url)
        location = raw.headers.get("Location")
        if not follow or raw.status not in _REDIRECTS or not location:
            return raw
        raw.release()
        hop += 1
        if hops_left <= 0:
            raise TransportError(f"Too many redirects from {url}", url=url)
        hops_left -= 1
        target = raw.url.join(URL(location))
        if target.scheme not in ("http", "https"):
            raise TransportError(f"{url} redirected to a non-HTTP URL: {location}", url=url)
        new_method = _next_method(raw.status, method)
        if new_method != method:
            _drop_body(kwargs)
        method = new_method
        kwargs.pop("params", None)  # already part of the Location the site gave
