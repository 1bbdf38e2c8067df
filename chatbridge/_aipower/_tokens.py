"""Page tokens of one site: discovery, caching with the fetch time, and refreshing (rules
1–6, 30–32, 37–40). Every fetch is single-flight per event loop and, given a shared state
store (Redis), fleet-wide (``chatbridge._state._singleflight``): concurrent callers that need
tokens, or a refresh of the same rejected nonce, share one request, and the tokens and their
fetch time are shared by every process.
"""

from __future__ import annotations

import dataclasses
import math
import secrets
from urllib.parse import urljoin

import aiohttp

from .._constants import STATE_REFRESH_LOCK_TTL
from .._exceptions import NotAIPowerSiteError, ResponseError
from .._http._call import Call
from .._http._guard import endpoint_allowed
from .._http._pages import (
    candidate_pages,
    cut_page_error,
    fetch_page,
    origin_of,
    parse_off_loop,
    refuse_login_wall,
)
from .._http._session import StreamSession
from .._state import StateStore
from .._state._singleflight import SharedFetch
from ._call import ClientStats, _Call
from ._page import PageTokens, parse_page
from ._replies import json_object
from ._shared import decode_tokens, encode_tokens, site_key
from ._target import SiteTarget

__all__ = ["TokenCache", "parse_page_off_loop", "refuse_login_wall"]


async def parse_page_off_loop(
    page: str, page_url: str, bot_id: int | str | None
) -> PageTokens | None:
    """:func:`parse_page`, off the event loop for a large page."""
    return await parse_off_loop(parse_page, page, page_url, bot_id)


class TokenCache:
    """The tokens of one site and the site-level cookie jar used to fetch them."""

    def __init__(
        self,
        target: SiteTarget,
        stats: ClientStats,
        store: StateStore | None = None,
        *,
        lock_ttl: float = STATE_REFRESH_LOCK_TTL,
    ) -> None:
        self.target = target
        self.stats = stats
        self.shared: SharedFetch[PageTokens] = SharedFetch(
            f"tokens:{site_key(target)}",
            store,
            encode=encode_tokens,
            decode=decode_tokens,
            is_fresh=self._fresh_since,
            same=lambda a, b: a.nonce == b.nonce,
            trust=self._trusted,
            lock_ttl=lock_ttl,
        )
        #: Origins this site's pages are on: the site's own, and where its pages were
        #: found when this process fetched them (a redirect to https or to www, say).
        self._pages = {origin_of(target.base)}
        if target.chat_page:
            self._pages.add(origin_of(urljoin(target.base, target.chat_page)))
        self._jar: aiohttp.CookieJar | None = None

    @property
    def tokens(self) -> PageTokens | None:
        return self.shared.value

    @tokens.setter
    def tokens(self, value: PageTokens | None) -> None:
        self.shared.value = value

    @property
    def fetched_at(self) -> float:
        return self.shared.fetched_at

    @fetched_at.setter
    def fetched_at(self, value: float) -> None:
        self.shared.fetched_at = value

    @property
    def adopted(self) -> bool:
        """Whether the tokens came from the shared store (another process fetched them)."""
        return self.shared.adopted

    def _trusted(self, tokens: PageTokens) -> bool:
        """Tokens read back from the shared store obey the page rule too: the page on this
        site's origin, the endpoint on the page's (or a configured) origin."""
        return origin_of(tokens.page_url) in self._pages and endpoint_allowed(
            tokens.ajax_url, tokens.page_url, self.target.endpoint_origins
        )

    def distrust(self, tokens: PageTokens) -> None:
        """A chat failed with ``tokens``: if another process gave them, drop them (and never
        adopt them again); the next call fetches the page itself."""
        self.shared.distrust(tokens)

    @property
    def jar(self) -> aiohttp.CookieJar:
        """Cookies the site set while its pages were fetched (Cloudflare, security plugins)."""
        if self._jar is None:
            self._jar = aiohttp.CookieJar(unsafe=True)
        return self._jar

    def fresh(self, now: float) -> bool:
        """Rule 31: younger than the refresh age, and fewer than two tick boundaries ago."""
        return self.shared.fresh(now)

    def _fresh_since(self, fetched_at: float, now: float) -> bool:
        tick = self.target.nonce_tick
        ticks_passed = math.floor(now / tick) - math.floor(fetched_at / tick)
        return now - fetched_at < self.target.refresh_age and ticks_passed < 2

    async def prime(self, tokens: PageTokens, call: Call) -> None:
        """Tokens read from a page fetched for another reason (finding the site's plugin),
        kept (and shared with the fleet) unless this process already has some: one page fetch
        serves both. They obey the page rule as fetched ones do."""
        self._check_endpoint(tokens, call)
        self._pages.add(origin_of(tokens.page_url))
        if self.tokens is None:
            await self.shared.publish(tokens)

    async def get(self, call: _Call) -> PageTokens:
        """Cached tokens while fresh; otherwise one shared (re)fetch."""
        return await self.shared.get(call.wait, lambda stale: self._fetch_site(call, stale))

    async def refresh(self, call: _Call, stale: PageTokens) -> PageTokens:
        """New tokens after ``stale`` was rejected; a refresh some other caller already did
        (or is doing) for the same nonce is reused."""
        return await self.shared.refresh(
            call.wait, lambda old: self._fetch_site(call, old), stale
        )

    async def _fetch_site(self, call: _Call, stale: PageTokens | None) -> PageTokens:
        refreshing = self.tokens is not None
        if refreshing:
            self.stats.nonce_refreshes += 1
        session = await call.session()
        if stale is not None and stale.generation == "aipkit":
            tokens = await self._aipkit_nonce(session, call, stale)
            if tokens is not None:
                return tokens
        tokens = await self._discover(session, call, bust=refreshing)
        if stale is not None and tokens.nonce == stale.nonce:
            tokens = await self._past_page_cache(session, call, tokens)
        return tokens

    async def _discover(self, session: StreamSession, call: _Call, *, bust: bool) -> PageTokens:
        target = self.target
        for page in candidate_pages(target.base, target.chat_page):
            self.stats.page_fetches += 1
            fetched = await fetch_page(session, call, page, self.jar, busted=bust)
            if fetched is None:
                continue
            text, final = fetched
            tokens = await parse_page_off_loop(text, final, target.bot_id)
            if tokens is not None:
                self._check_endpoint(tokens, call)
                self._pages.add(origin_of(final))
                return tokens
            cut = cut_page_error(text, final, call.provider)
            if cut is not None:
                raise cut
        raise NotAIPowerSiteError(
            f"No nonce found: {target.url} is not an AI Power site (no chat container, "
            "no wpaicgParams script, no AIPKit data-config in its pages)",
            url=target.url,
            provider=call.provider,
        )

    def _check_endpoint(self, tokens: PageTokens, call: Call) -> None:
        """The page's chat endpoint must be on the page's origin (or a configured one)."""
        if not endpoint_allowed(tokens.ajax_url, tokens.page_url, self.target.endpoint_origins):
            where = origin_of(tokens.ajax_url)
            raise ResponseError(
                f"The page {tokens.page_url} names a chat endpoint on another origin "
                f"({where[0]}://{where[1]}:{where[2]}): not used (a target's endpoint_origins "
                "lists the origins it may use)",
                url=tokens.page_url,
                provider=call.provider,
            )

    async def _past_page_cache(
        self, session: StreamSession, call: _Call, tokens: PageTokens
    ) -> PageTokens:
        """The re-fetched page held the same, rejected nonce: a page cache. Ask URLs that
        caches do not hold (rule 30): the post by id, and a page that does not exist."""
        candidates = [f"/?p={tokens.post_id}"] if tokens.post_id else []
        candidates.append(f"/chatbridge-{secrets.token_hex(4)}/")
        options = call.request_options(self.jar)
        for path in candidates:
            self.stats.page_fetches += 1
            async with session.get(urljoin(self.target.base, path), **options) as response:
                if response.status >= 500:
                    continue
                text = await response.text()
            fresh = await parse_page_off_loop(text, tokens.page_url, self.target.bot_id)
            if fresh is not None and fresh.nonce != tokens.nonce:
                return dataclasses.replace(tokens, nonce=fresh.nonce)
        return tokens

    async def _aipkit_nonce(
        self, session: StreamSession, call: _Call, stale: PageTokens
    ) -> PageTokens | None:
        """AIPKit 2.3.41+ hands out a fresh nonce on request; older versions answer 400."""
        form = {"action": "aipkit_get_frontend_chat_nonce", "bot_id": stale.bot_id}
        options = call.request_options(self.jar)
        async with session.post(stale.ajax_url, data=form, **options) as response:
            body = await response.text()
        try:
            data = json_object(body)
        except ValueError:
            return None
        payload = data.get("data") if isinstance(data, dict) else None
        if isinstance(data, dict) and data.get("success") and isinstance(payload, dict):
            nonce = payload.get("nonce")
            if isinstance(nonce, str) and nonce and nonce != stale.nonce:
                return dataclasses.replace(stale, nonce=nonce)
        return None
