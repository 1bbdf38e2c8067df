"""A site's chat settings and REST nonce: discovery, caching, refreshing
(docs/protocol-ai-engine.md, "Finding the chat", "Getting a nonce" and "Nonce rotation").

G3 (2.4.4+): the page holds no nonce for a guest; ``POST {restUrl}/mwai/v1/start_session``
hands one out (its cookies are not kept: the nonce is WordPress's ``wp_rest`` nonce for user
0, the same for every guest and bound to no cookie). G2: the nonce is in the page, so a
refresh fetches the page again, past any page cache. Either way a reply that carries
``new_token`` replaces the nonce at once (:meth:`NonceCache.adopt`), for every conversation
and, through the store, every process.

Every fetch is single-flight per event loop and fleet-wide (``chatbridge._state._singleflight``):
however many conversations wait, one ``start_session`` (or page) per site per rotation.
"""

from __future__ import annotations

import dataclasses

import aiohttp

from .._constants import STATE_REFRESH_LOCK_TTL
from .._exceptions import NotAIEngineSiteError, ResponseError
from .._http._call import Call
from .._http._session import StreamSession
from .._json import json_object
from .._state import StateStore
from .._wordpress import SiteCache
from ._call import EngineCall, SiteStats
from ._page import ChatConfig, parse_page
from ._replies import rest_error
from ._shared import SiteTokens, decode_tokens, encode_tokens
from ._target import SiteTarget

__all__ = ["START_SESSION", "NonceCache"]

START_SESSION = "/mwai/v1/start_session"


class NonceCache(SiteCache[SiteTokens]):
    """The tokens of one site and the cookie jar its pages were fetched with."""

    def __init__(
        self,
        target: SiteTarget,
        stats: SiteStats,
        store: StateStore | None = None,
        *,
        lock_ttl: float = STATE_REFRESH_LOCK_TTL,
    ) -> None:
        super().__init__(
            target,
            f"aiengine:tokens:{target.key}",
            store,
            encode=encode_tokens,
            decode=decode_tokens,
            places=lambda tokens: (tokens.config.rest_url, tokens.config.page_url),
            what="a REST API",
            lock_ttl=lock_ttl,
        )
        self.target: SiteTarget = target
        self.stats = stats
        #: The page's settings, once read (kept across nonce refreshes on G3).
        self.config: ChatConfig | None = None
        self._no_jar: aiohttp.DummyCookieJar | None = None

    @property
    def no_jar(self) -> aiohttp.DummyCookieJar:
        """A jar that keeps nothing: for requests whose cookies are not kept (start_session)
        or are kept by name (a conversation's session)."""
        if self._no_jar is None:
            self._no_jar = aiohttp.DummyCookieJar()
        return self._no_jar

    def prime(self, config: ChatConfig, call: Call) -> None:
        """Settings read from a page fetched for another reason (finding the site's plugin):
        one page fetch serves both. They obey the page rule as fetched ones do (the nonce and
        the conversation's session go to the REST root)."""
        self.accept_page(config.rest_url, config.page_url, call.provider)
        if self.config is None:
            self.config = config

    async def get(self, call: EngineCall) -> SiteTokens:
        """Cached tokens while fresh; otherwise one shared fetch."""
        return await self.shared.get(call.wait, lambda stale: self._fetch(call, stale))

    async def refresh(self, call: EngineCall, stale: SiteTokens) -> SiteTokens:
        """A new nonce after ``stale`` was refused; one some other caller already fetched
        (or is fetching) is reused."""
        return await self.shared.refresh(call.wait, lambda old: self._fetch(call, old), stale)

    async def rediscover(self, call: EngineCall, stale: SiteTokens) -> SiteTokens:
        """The page again (its chat moved, or the plugin changed), then a nonce."""
        self.stats.rediscoveries += 1
        return await self.shared.refresh(
            call.wait, lambda old: self._fetch(call, old, page=True), stale
        )

    async def adopt(self, used: SiteTokens, new_token: str) -> None:
        """A reply sent with ``used`` carried ``new_token``: it is the nonce from now on,
        unless the nonce already moved on."""
        current = self.shared.value
        if new_token == used.nonce or (current is not None and current.nonce != used.nonce):
            return
        self.stats.new_tokens += 1
        await self.shared.publish(dataclasses.replace(used, nonce=new_token))

    async def _fetch(
        self, call: EngineCall, stale: SiteTokens | None, *, page: bool = False
    ) -> SiteTokens:
        """New tokens; the page is read again when asked (``page``), when its settings are
        not known (not even from the fleet's tokens), or for G2's nonce."""
        current = self.shared.value
        refreshing = current is not None or stale is not None
        if refreshing:
            self.stats.nonce_refreshes += 1
        session = await call.session()
        call.site_jar = self.jar
        known = stale or current  # tokens adopted from the fleet carry the page's settings
        config = None if page else self.config or (known.config if known else None)
        if config is None or (config.generation == "g2" and refreshing):
            config = self.config = await self._discover(session, call, bust=refreshing)
        if config.generation == "g2" and config.nonce is not None:
            return SiteTokens(config, config.nonce)
        return SiteTokens(config, await self._start_session(session, call, config))

    async def _discover(
        self, session: StreamSession, call: EngineCall, *, bust: bool
    ) -> ChatConfig:
        config = await self.read_pages(
            session, call, parse_page, lambda found: found.rest_url, bust=bust, stats=self.stats
        )
        if config is None:
            raise NotAIEngineSiteError(
                f"No chat found: {self.target.url} is not an AI Engine site (no "
                "div.mwai-chatbot-container with data-system in its pages)",
                url=self.target.url,
                provider=call.provider,
            )
        return config

    async def _start_session(
        self, session: StreamSession, call: EngineCall, config: ChatConfig
    ) -> str:
        """G3's nonce for a guest. Its cookies are dropped: the nonce needs none, and each
        conversation gets its own site session from its first reply."""
        self.stats.session_starts += 1
        url = config.endpoint(START_SESSION)
        options = call.request_options(self.no_jar)
        headers = {"Accept": "application/json", "Referer": config.page_url}
        async with session.post(url, headers=headers, allow_redirects=False, **options) as reply:
            body = await reply.text()
            status, reply_headers = reply.status, reply.headers
        error = rest_error(status, reply_headers, body, url=url)
        if error is not None:
            raise error
        try:
            data = json_object(body)
        except ValueError:
            data = None
        nonce = None
        if isinstance(data, dict) and data.get("success") is True:
            nonce = data.get("new_token") or data.get("restNonce")
        if not isinstance(nonce, str) or not 0 < len(nonce) <= 64:
            raise ResponseError(
                "The site's start_session reply holds no REST nonce",
                url=url,
                status=status,
                body=body,
            )
        return nonce
