"""Page tokens of one site: discovery, caching with the fetch time, and refreshing
(docs/protocol-ai-power.md, "Finding the chat", "Nonce lifetime", "Refreshing a nonce" and
"The page cache"). Every fetch is single-flight per event loop and, given a shared state
store (Redis), fleet-wide (``chatbridge._state._singleflight``): concurrent callers that need
tokens, or a refresh of the same rejected nonce, share one request, and the tokens and their
fetch time are shared by every process.
"""

from __future__ import annotations

import dataclasses
import secrets
from urllib.parse import urljoin

from .._constants import STATE_REFRESH_LOCK_TTL
from .._exceptions import NotAIPowerSiteError
from .._http._call import Call
from .._http._pages import (
    parse_off_loop,
    refuse_login_wall,
)
from .._http._session import StreamSession
from .._state import StateStore
from .._wordpress import SiteCache
from ._call import CallOptions, ClientStats
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


class TokenCache(SiteCache[PageTokens]):
    """The tokens of one site and the site-level cookie jar used to fetch them."""

    def __init__(
        self,
        target: SiteTarget,
        stats: ClientStats,
        store: StateStore | None = None,
        *,
        lock_ttl: float = STATE_REFRESH_LOCK_TTL,
    ) -> None:
        super().__init__(
            target,
            f"tokens:{site_key(target)}",
            store,
            encode=encode_tokens,
            decode=decode_tokens,
            places=lambda tokens: (tokens.ajax_url, tokens.page_url),
            what="a chat endpoint",
            lock_ttl=lock_ttl,
        )
        self.stats = stats

    async def prime(self, tokens: PageTokens, call: Call) -> None:
        """Tokens read from a page fetched for another reason (finding the site's plugin),
        kept (and shared with the fleet) unless this process already has some: one page fetch
        serves both. They obey the page rule as fetched ones do."""
        self.accept_page(tokens.ajax_url, tokens.page_url, call.provider)
        if self.tokens is None:
            await self.shared.publish(tokens)

    async def get(self, call: CallOptions) -> PageTokens:
        """Cached tokens while fresh; otherwise one shared (re)fetch."""
        return await self.shared.get(call.wait, lambda stale: self._fetch_site(call, stale))

    async def refresh(self, call: CallOptions, stale: PageTokens) -> PageTokens:
        """New tokens after ``stale`` was rejected; a refresh some other caller already did
        (or is doing) for the same nonce is reused."""
        return await self.shared.refresh(call.wait, lambda old: self._fetch_site(call, old), stale)

    async def _fetch_site(self, call: CallOptions, stale: PageTokens | None) -> PageTokens:
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

    async def _discover(
        self, session: StreamSession, call: CallOptions, *, bust: bool
    ) -> PageTokens:
        tokens = await self.read_pages(
            session,
            call,
            parse_page,
            lambda found: found.ajax_url,
            bust=bust,
            stats=self.stats,
        )
        if tokens is None:
            raise NotAIPowerSiteError(
                f"No nonce found: {self.target.url} is not an AI Power site (no chat "
                "container, no wpaicgParams script, no AIPKit data-config in its pages)",
                url=self.target.url,
                provider=call.provider,
            )
        return tokens

    async def _past_page_cache(
        self, session: StreamSession, call: CallOptions, tokens: PageTokens
    ) -> PageTokens:
        """The re-fetched page held the same, rejected nonce: a page cache. Ask URLs that
        caches do not hold (docs/protocol-ai-power.md, "The page cache"): the post by id, and
        a page that does not exist."""
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
        self, session: StreamSession, call: CallOptions, stale: PageTokens
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
