"""What one provider call brings to a protocol engine: options, one deadline, the shared session.

Both plugin engines (AI Power, AI Engine) run a call the same way: a deadline for the whole
call counted from :meth:`Call.start`, every request and every wait on another call's shared
fetch bounded by what is left of it, one pooled :class:`StreamSession` per set of options,
and per-request cookie jars (``request_options``) so cookies stay scoped to their site.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import aiohttp

from .._checks import check_connections, check_timeout
from .._constants import (
    DEFAULT_MAX_LINE_BYTES,
    DEFAULT_READ_GAP,
    DEFAULT_TIMEOUT,
    SITE_CONNECTIONS_PER_HOST,
)
from .._exceptions import RequestTimeoutError
from .._types import HistoryListener, HistoryTrimmed
from ._cookies import Jar
from ._pool import shared
from ._session import StreamSession

__all__ = ["Call"]

T = TypeVar("T")


@dataclass
class Call:
    """Per-call options a provider passes through. ``timeout`` is the deadline of the whole
    call, counted from :meth:`start`: every request (page, refreshes, chat, stream) and every
    wait on another call's shared token fetch gets only what is left of it. Subclasses set
    their engine's defaults and ``namespace`` (which keeps their pooled sessions apart)."""

    #: Names this engine's pooled sessions (one per set of options and engine).
    namespace: ClassVar[str] = "site"
    #: The longest line a reply may hold (an SSE event, a JSON body read by lines).
    max_line_bytes: ClassVar[int] = DEFAULT_MAX_LINE_BYTES

    proxy: str | None = None
    timeout: float | None = DEFAULT_TIMEOUT
    read_gap: float | None = DEFAULT_READ_GAP
    cookies: dict[str, str] | None = None
    headers: dict[str, str] | None = None
    provider: str | None = None
    #: Requests to the site in flight at once from this process (more wait their turn);
    #: ``None``: ``SITE_CONNECTIONS_PER_HOST`` (a WordPress site runs few PHP workers).
    connections_per_host: int | None = None
    #: The site's page-fetch jar, once the engine knows the site (see ``request_options``).
    site_jar: aiohttp.abc.AbstractCookieJar | None = None
    #: Told what the site was not sent of the conversation (:meth:`left_out`), once.
    on_history: HistoryListener | None = None
    #: What the message being sent leaves out of the conversation (``None``: nothing).
    trimmed: HistoryTrimmed | None = None

    _deadline: float | None = field(default=None, repr=False)
    _told: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        self.timeout = check_timeout(self.timeout)
        self.connections_per_host = check_connections(
            self.connections_per_host, SITE_CONNECTIONS_PER_HOST
        )

    def left_out(self, trimmed: HistoryTrimmed | None, site: str) -> None:
        """The message about to be sent leaves ``trimmed`` out of the conversation (``None``:
        nothing): a warning in the engine's log (once per call, however often the engine
        sends the message again); ``on_history`` hears of it before the answer's text
        (:meth:`tell`)."""
        if trimmed is not None and trimmed != self.trimmed:
            log = logging.getLogger(f"chatbridge.{self.namespace}")
            log.warning("%s: %s", site, trimmed.message)
        self.trimmed = trimmed

    def tell(self) -> None:
        """The answer begins (or ended without text): tell ``on_history`` what the message
        it answers left out, once per call."""
        if not self._told and self.trimmed is not None and self.on_history is not None:
            self._told = True
            self.on_history(self.trimmed)

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
        key = (self.namespace, self.proxy, self.read_gap, headers)

        async def make() -> StreamSession:
            session = StreamSession(
                headers=self.headers,
                proxy=self.proxy,
                timeout=None,  # each request gets what is left of the call's deadline
                read_gap=self.read_gap,
                max_line_bytes=self.max_line_bytes,
                cookie_jar=aiohttp.DummyCookieJar(),
            )
            await session.open()
            return session

        return await shared(key, make)

    def request_options(self, jar: Jar) -> dict[str, Any]:
        """Options of one request, made just before it: ``cookie_jar=`` (``jar`` keeps what
        the site sets, or, while there is none yet, a :class:`JarToBe` that makes it; the
        site's page jar, when set and different, supplies its cookies too, each scoped by its
        own jar), ``timeout=`` (what is left of the deadline) and ``connections_per_host=``."""
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
