"""What one provider call brings to the engine: options, the shared session, the counters."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp

from .._checks import check_connections, check_timeout
from .._constants import AIPOWER_CONNECTIONS_PER_HOST, AIPOWER_READ_GAP, AIPOWER_TIMEOUT
from .._exceptions import RequestTimeoutError
from .._http._pool import shared
from .._http._session import StreamSession

__all__ = ["CallOptions", "ClientStats"]

T = TypeVar("T")


@dataclass
class ClientStats:
    """What went over the wire for one site (for the demo summary and the benchmarks)."""

    page_fetches: int = 0
    chat_requests: int = 0
    nonce_refreshes: int = 0
    rediscoveries: int = 0
    messages: int = 0


@dataclass
class CallOptions:
    """Per-call options a provider passes through. ``timeout`` is the deadline of the whole
    call, counted from :meth:`start`: every request (page, refreshes, chat, stream) and every
    wait on another call's shared token fetch gets only what is left of it."""

    proxy: str | None = None
    timeout: float | None = AIPOWER_TIMEOUT
    read_gap: float | None = AIPOWER_READ_GAP
    cookies: dict[str, str] | None = None
    headers: dict[str, str] | None = None
    provider: str | None = None
    #: Requests to the site in flight at once from this process (more wait their turn).
    connections_per_host: int = AIPOWER_CONNECTIONS_PER_HOST
    #: The site's page-fetch jar, once the engine knows the site (see ``request_options``).
    site_jar: aiohttp.abc.AbstractCookieJar | None = None

    _deadline: float | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.timeout = check_timeout(self.timeout)
        self.connections_per_host = check_connections(
            self.connections_per_host, AIPOWER_CONNECTIONS_PER_HOST
        )

    def start(self) -> None:
        """Start the clock (once; later calls keep the first deadline)."""
        if self._deadline is None and self.timeout is not None:
            self._deadline = asyncio.get_running_loop().time() + self.timeout

    def remaining(self) -> float | None:
        """Seconds left before the deadline (``None``: no deadline); raises the timeout
        error once it has passed. The clock starts here if :meth:`start` was not called."""
        self.start()
        if self._deadline is None:
            return None
        left = self._deadline - asyncio.get_running_loop().time()
        if left <= 0:
            raise RequestTimeoutError(
                f"The call's {self.timeout:g} s deadline passed", provider=self.provider
            )
        return left

    async def wait(self, awaitable: Awaitable[T]) -> T:
        """``awaitable``, bounded by what is left of the deadline."""
        left = self.remaining()
        if left is None:
            return await awaitable
        try:
            return await asyncio.wait_for(awaitable, left)
        except TimeoutError:
            raise RequestTimeoutError(
                f"The call's {self.timeout:g} s deadline passed while waiting for the page",
                provider=self.provider,
            ) from None

    async def session(self) -> StreamSession:
        """The loop's shared session for these options. It keeps no cookies of its own:
        every request names the jar it uses (``cookie_jar=``): the site's for discovery, the
        conversation's for messages."""
        headers = tuple(sorted((self.headers or {}).items()))
        key = ("aipower", self.proxy, self.read_gap, headers)

        async def make() -> StreamSession:
            session = StreamSession(
                headers=self.headers,
                proxy=self.proxy,
                timeout=None,  # each request gets what is left of the call's deadline
                read_gap=self.read_gap,
                cookie_jar=aiohttp.DummyCookieJar(),
            )
            await session.open()
            return session

        return await shared(key, make)

    def request_options(self, jar: aiohttp.abc.AbstractCookieJar) -> dict[str, Any]:
        """Options of one request, made just before it: ``cookie_jar=`` (``jar`` keeps what
        the site sets; the site's page jar, when set and different, supplies its cookies
        too, each scoped by its own jar) and ``timeout=`` (what is left of the deadline)."""
        site_jar = self.site_jar
        jars = (jar, site_jar) if site_jar is not None and site_jar is not jar else jar
        options: dict[str, Any] = {
            "cookie_jar": jars,
            "connections_per_host": self.connections_per_host,
        }
        left = self.remaining()
        if left is not None:
            options["timeout"] = left
        if self.cookies:
            options["cookies"] = self.cookies
        return options
