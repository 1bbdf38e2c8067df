"""Fetching a site's front-end pages, as both plugin engines (and the plugin finder) do:
the chat page, then the home page; a 404 is "not here", a redirect to ``wp-login.php`` a
login wall, a page that stops before ``</html>`` a cut reply; large pages are parsed off the
event loop."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urljoin, urlsplit

import aiohttp

from .._constants import PARSE_IN_THREAD_CHARS
from .._exceptions import CUT_OFF, BlockedError, TruncatedStreamError
from ._guard import origin

if TYPE_CHECKING:
    from ._call import Call
    from ._session import StreamResponse, StreamSession

__all__ = [
    "bust",
    "candidate_pages",
    "cut_page_error",
    "fetch_page",
    "origin_of",
    "parse_off_loop",
    "refuse_login_wall",
]

T = TypeVar("T")


def bust(url: str) -> str:
    """``url`` with a random query parameter, which page caches do not hold."""
    return f"{url}{'&' if '?' in url else '?'}_={secrets.token_hex(6)}"


def candidate_pages(base: str, chat_page: str | None) -> list[str]:
    """Where a site's chat may be: the chat page when one is named, then the home page."""
    pages = [urljoin(base, chat_page)] if chat_page else []
    pages.append(base)
    return list(dict.fromkeys(pages))


def origin_of(url: str) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` of ``url`` (``_guard.origin``); an empty one for text that is
    not a URL: no page is on it."""
    try:
        return origin(url)
    except (ValueError, TypeError):
        return ("", "", None)


def refuse_login_wall(response: StreamResponse) -> None:
    """A redirect to ``wp-login.php`` means the site wants a login: blocked."""
    location = response.headers.get("Location", "")
    if "wp-login.php" in urlsplit(str(response.url)).path or "wp-login.php" in location:
        raise BlockedError(
            "The site redirected to its login page (a login wall)", url=str(response.url)
        )


def cut_page_error(text: str, page_url: str, provider: str | None) -> TruncatedStreamError | None:
    """The error for an HTML page that never reached its end tag (WordPress always prints
    ``</html>``), or ``None`` for a page that is whole."""
    head = text[:1024].lower()
    if ("<html" in head or "<!doctype" in head) and "</html>" not in text[-4096:].lower():
        return TruncatedStreamError(
            f"{CUT_OFF}: the page {page_url} ended before </html>, without its chat tokens",
            url=page_url,
            provider=provider,
        )
    return None


async def parse_off_loop(parse: Callable[..., T], page: str, *args: Any) -> T:
    """``parse(page, *args)``, in a worker thread for a large page: parsing is linear, but a
    few megabytes still take tens of milliseconds that other conversations on the loop need."""
    if len(page) < PARSE_IN_THREAD_CHARS:
        return parse(page, *args)
    return await asyncio.to_thread(parse, page, *args)


async def fetch_page(
    session: StreamSession,
    call: Call,
    url: str,
    jar: aiohttp.abc.AbstractCookieJar,
    *,
    busted: bool = False,
) -> tuple[str, str] | None:
    """The text of the page at ``url`` and its final URL (after redirects, without the
    cache-busting query when ``busted``), or ``None`` when the site has no such page (404)."""
    options = call.request_options(jar)
    async with session.get(bust(url) if busted else url, **options) as response:
        if response.status == 404:
            return None
        await response.raise_for_status()
        refuse_login_wall(response)
        text = await response.text()
        final = str(response.url.with_query(None)) if busted else str(response.url)
    return text, final
