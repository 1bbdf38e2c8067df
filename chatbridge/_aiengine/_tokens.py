"""A site's chat settings and REST nonce: discovery, caching, refreshing (protocol 1–2).

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
import math
from urllib.parse import urljoin

import aiohttp

from .._constants import STATE_REFRESH_LOCK_TTL
from .._exceptions import NotAIEngineSiteError, ResponseError
from .._http._call import Call
from .._http._guard import endpoint_allowed
from .._http._pages import (
    candidate_pages,
    cut_page_error,
    fetch_page,
    origin_of,
    parse_off_loop,
)
from .._http._session import StreamSession
from .._json import json_object
from .._state import StateStore
from .._state._singleflight import SharedFetch
from ._call import EngineCall, SiteStats
from ._page import ChatConfig, parse_page
from ._replies import rest_error
from ._shared import SiteTokens, decode_tokens, encode_tokens
from ._target import SiteTarget

__all__ = ["START_SESSION", "NonceCache"]

START_SESSION = "/mwai/v1/start_session"


class NonceCache:
    """The tokens of one site and the cookie jar its pages were fetched with."""

    def __init__(
        self,
        target: SiteTarget,
        stats: SiteStats,
        store: StateStore | None = None,
        *,
        lock_ttl: float = STATE_REFRESH_LOCK_TTL,
    ) -> None:
        self.target = target
        self.stats = stats
        self.shared: SharedFetch[SiteTokens] = SharedFetch(
            f"aiengine:tokens:{target.key}",
            store,
            encode=encode_tokens,
            decode=decode_tokens,
            is_fresh=self._fresh_since,
            same=lambda a, b: a.nonce == b.nonce,
            trust=self._trusted,
            lock_ttl=lock_ttl,
        )
        #: Origins this site's pages are on: the site's own, and where its pages were found.
        self._pages = {origin_of(target.base)}
        if target.chat_page:
            self._pages.add(origin_of(urljoin(target.base, target.chat_page)))
        #: The page's settings, once read (kept across nonce refreshes on G3).
        self.config: ChatConfig | None = None
        self._jar: aiohttp.CookieJar | None = None
        self._no_jar: aiohttp.DummyCookieJar | None = None

    @property
    def tokens(self) -> SiteTokens | None:
        return self.shared.value

    @property
    def jar(self) -> aiohttp.CookieJar:
        """Cookies the site set while its pages were fetched (Cloudflare, security plugins)."""
        if self._jar is None:
            self._jar = aiohttp.CookieJar(unsafe=True)
        return self._jar

    @property
    def no_jar(self) -> aiohttp.DummyCookieJar:
        """A jar that keeps nothing: for requests whose cookies are not kept (start_session)
        or are kept by name (a conversation's session)."""
        if self._no_jar is None:
            self._no_jar = aiohttp.DummyCookieJar()
        return self._no_jar

    def _fresh_since(self, fetched_at: float, now: float) -> bool:
        tick = self.target.nonce_tick
        ticks_passed = math.floor(now / tick) - math.floor(fetched_at / tick)
        return now - fetched_at < self.target.refresh_age and ticks_passed < 2

    def prime(self, config: ChatConfig, call: Call) -> None:
        """Settings read from a page fetched for another reason (finding the site's plugin):
        one page fetch serves both. They obey the page rule as fetched ones do."""
        self._check_endpoint(config, call)
        self._pages.add(origin_of(config.page_url))
        if self.config is None:
            self.config = config

    def _trusted(self, tokens: SiteTokens) -> bool:
        """Tokens read back from the shared store obey the page rule too: the page on this
        site's origin, the REST root on the page's (or a configured) origin."""
        config = tokens.config
        return origin_of(config.page_url) in self._pages and endpoint_allowed(
            config.rest_url, config.page_url, self.target.endpoint_origins
        )

    def distrust(self, tokens: SiteTokens) -> None:
        """A chat failed with ``tokens``: if another process gave them, drop them."""
        self.shared.distrust(tokens)

    def _check_endpoint(self, config: ChatConfig, call: Call) -> None:
        """The page's REST root must be on the page's origin (or a configured one): the
        nonce and the conversation's session go there."""
        if not endpoint_allowed(config.rest_url, config.page_url, self.target.endpoint_origins):
            where = origin_of(config.rest_url)
            raise ResponseError(
                f"The page {config.page_url} names a REST API on another origin "
                f"({where[0]}://{where[1]}:{where[2]}): not used (a target's endpoint_origins "
                "lists the origins it may use)",
                url=config.page_url,
                provider=call.provider,
            )

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
        target = self.target
        for page in candidate_pages(target.base, target.chat_page):
            self.stats.page_fetches += 1
            fetched = await fetch_page(session, call, page, self.jar, busted=bust)
            if fetched is None:
                continue
            text, final = fetched
            config = await parse_off_loop(parse_page, text, final, target.bot_id)
            if config is not None:
                self._check_endpoint(config, call)
                self._pages.add(origin_of(final))
                return config
            cut = cut_page_error(text, final, call.provider)
            if cut is not None:
                raise cut
        raise NotAIEngineSiteError(
            f"No chat found: {target.url} is not an AI Engine site (no "
            "div.mwai-chatbot-container with data-system in its pages)",
            url=target.url,
            provider=call.provider,
        )

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
