"""What one provider call brings to the engine: options, the shared session, the counters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from .._constants import AIPOWER_READ_GAP, AIPOWER_TIMEOUT
from .._http._pool import shared
from .._http._session import StreamSession

__all__ = ["ClientStats", "_Call"]


@dataclass
class ClientStats:
    """What went over the wire for one site (for the demo summary and the benchmarks)."""

    page_fetches: int = 0
    chat_requests: int = 0
    nonce_refreshes: int = 0
    rediscoveries: int = 0
    messages: int = 0


@dataclass
class _Call:
    """Per-call options a provider passes through."""

    proxy: str | None = None
    timeout: float | None = AIPOWER_TIMEOUT
    read_gap: float | None = AIPOWER_READ_GAP
    cookies: dict[str, str] | None = None
    headers: dict[str, str] | None = None
    provider: str | None = None
    #: The site's page-fetch jar, once the engine knows the site (see ``request_options``).
    site_jar: aiohttp.abc.AbstractCookieJar | None = None

    async def session(self) -> StreamSession:
        """The loop's shared session for these options. It keeps no cookies of its own:
        every request names the jar it uses (``cookie_jar=``): the site's for discovery, the
        conversation's for messages."""
        headers = tuple(sorted((self.headers or {}).items()))
        key = ("aipower", self.proxy, self.timeout, self.read_gap, headers)

        async def make() -> StreamSession:
            session = StreamSession(
                headers=self.headers,
                proxy=self.proxy,
                timeout=self.timeout,
                read_gap=self.read_gap,
                cookie_jar=aiohttp.DummyCookieJar(),
            )
            await session.open()
            return session

        return await shared(key, make)

    def request_options(self, jar: aiohttp.abc.AbstractCookieJar) -> dict[str, Any]:
        """``cookie_jar=``: ``jar`` keeps what the site sets; the site's page jar (when set
        and different) supplies its cookies too, each scoped by its own jar."""
        site_jar = self.site_jar
        jars = (jar, site_jar) if site_jar is not None and site_jar is not jar else jar
        options: dict[str, Any] = {"cookie_jar": jars}
        if self.cookies:
            options["cookies"] = self.cookies
        return options
