"""Page tokens of one site: discovery, caching with the fetch time, and refreshing
(docs/protocol-ai-power.md, "Finding the chat", "Nonce lifetime", "Refreshing a nonce" and
"The page cache"). Every fetch is single-flight per event loop: concurrent callers that
need tokens, or a refresh of the same rejected nonce, share one request.

Given a shared state store (Redis), the tokens and their fetch time are shared by every
process, and a fetch is single-flight fleet-wide: the process that takes the site's refresh
lock (``SET NX`` with a lifetime) fetches and publishes the tokens; the others poll the shared
tokens every few milliseconds (bounded by their call's deadline) and take them as they
appear. Polling, not pub/sub: a wait happens once per site per rotation and lasts one page
fetch, and it needs no subscriber connection or task per process. A holder that dies frees
the lock when its lifetime passes; a waiter then takes it and fetches.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import secrets
import time
import weakref
from urllib.parse import urljoin, urlsplit

import aiohttp

from .._constants import (
    PARSE_IN_THREAD_CHARS,
    STATE_REFRESH_LOCK_TTL,
    STATE_REFRESH_POLL,
    STATE_TOKENS_TTL,
)
from .._exceptions import BlockedError, NotAIPowerSiteError, ResponseError, TruncatedStreamError
from .._http._guard import endpoint_allowed, origin
from .._http._session import StreamResponse, StreamSession
from .._state import StateStore
from ._call import CallOptions, ClientStats
from ._page import PageTokens, parse_page
from ._replies import CUT_OFF, json_object
from ._shared import decode_tokens, encode_tokens, site_key
from ._target import SiteTarget

__all__ = ["TokenCache", "parse_page_off_loop", "refuse_login_wall"]


async def parse_page_off_loop(
    page: str, page_url: str, bot_id: int | str | None
) -> PageTokens | None:
    """:func:`parse_page`, in a worker thread for a large page: parsing is linear, but a few
    megabytes still take tens of milliseconds that other conversations on the loop need."""
    if len(page) < PARSE_IN_THREAD_CHARS:
        return parse_page(page, page_url, bot_id)
    return await asyncio.to_thread(parse_page, page, page_url, bot_id)


def _cut_page(text: str) -> bool:
    """An HTML page that never reached its end tag (WordPress always prints ``</html>``)."""
    head = text[:1024].lower()
    return ("<html" in head or "<!doctype" in head) and "</html>" not in text[-4096:].lower()


def _origin_of(url: str) -> tuple[str, str, int | None]:
    try:
        return origin(url)
    except (ValueError, TypeError):
        return ("", "", None)  # not a URL: no page is on it


def _bust(url: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}_={secrets.token_hex(6)}"


def refuse_login_wall(response: StreamResponse) -> None:
    """A redirect to ``wp-login.php`` means the site wants a login: blocked."""
    location = response.headers.get("Location", "")
    if "wp-login.php" in urlsplit(str(response.url)).path or "wp-login.php" in location:
        raise BlockedError(
            "The site redirected to its login page (a login wall)", url=str(response.url)
        )


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
        self._fleet = store if store is not None and store.shared else None
        self._key = f"tokens:{site_key(target)}"
        self._lock_ttl = lock_ttl
        self.tokens: PageTokens | None = None
        self.fetched_at = 0.0
        #: Whether ``tokens`` came from the shared store (another process fetched them).
        self.adopted = False
        #: Tokens a chat failed with after they were adopted: never adopted again.
        self._distrusted: PageTokens | None = None
        #: Origins this site's pages are on: the site's own, and where its pages were
        #: found when this process fetched them (a redirect to https or to www, say).
        self._pages = {_origin_of(target.base)}
        if target.chat_page:
            self._pages.add(_origin_of(urljoin(target.base, target.chat_page)))
        self._jar: aiohttp.CookieJar | None = None
        self._inflight: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, asyncio.Future[PageTokens]
        ] = weakref.WeakKeyDictionary()

    @property
    def jar(self) -> aiohttp.CookieJar:
        """Cookies the site set while its pages were fetched (Cloudflare, security plugins)."""
        if self._jar is None:
            self._jar = aiohttp.CookieJar(unsafe=True)
        return self._jar

    def fresh(self, now: float) -> bool:
        """Younger than the refresh age, and fewer than two tick boundaries ago
        (docs/protocol-ai-power.md, "Nonce lifetime")."""
        return self.tokens is not None and self._fresh_since(self.fetched_at, now)

    def _fresh_since(self, fetched_at: float, now: float) -> bool:
        tick = self.target.nonce_tick
        ticks_passed = math.floor(now / tick) - math.floor(fetched_at / tick)
        return now - fetched_at < self.target.refresh_age and ticks_passed < 2

    async def get(self, call: CallOptions) -> PageTokens:
        """Cached tokens while fresh; otherwise one shared (re)fetch."""
        if self.tokens is not None and self.fresh(time.time()):
            return self.tokens
        if self._fleet is not None:
            adopted = await self._adopt(None)
            if adopted is not None:
                return adopted
        return await self._shared(call, stale=None)

    async def _adopt(self, stale: PageTokens | None) -> PageTokens | None:
        """The fleet's tokens, if fresh (and not the ``stale`` nonce): now this process's."""
        assert self._fleet is not None
        found = decode_tokens(await self._fleet.get(self._key))
        if found is None:
            return None
        tokens, fetched_at = found
        if not self._fresh_since(fetched_at, time.time()):
            return None
        if stale is not None and tokens.nonce == stale.nonce:
            return None
        if tokens == self._distrusted or not self._trusted(tokens):
            return None  # refetched by this process instead
        if self.tokens is None or fetched_at >= self.fetched_at:
            self.tokens, self.fetched_at, self.adopted = tokens, fetched_at, True
        return tokens

    def _trusted(self, tokens: PageTokens) -> bool:
        """Tokens read back from the shared store obey the page rule too: the page on this
        site's origin, the endpoint on the page's (or a configured) origin."""
        return _origin_of(tokens.page_url) in self._pages and endpoint_allowed(
            tokens.ajax_url, tokens.page_url, self.target.endpoint_origins
        )

    def distrust(self, tokens: PageTokens) -> None:
        """A chat failed with ``tokens``: if another process gave them, drop them (and never
        adopt them again); the next call fetches the page itself."""
        if self.adopted and tokens == self.tokens:
            self._distrusted, self.tokens, self.fetched_at = tokens, None, 0.0
            self.adopted = False

    async def refresh(self, call: CallOptions, stale: PageTokens) -> PageTokens:
        """New tokens after ``stale`` was rejected; a refresh some other caller already did
        (or is doing) for the same nonce is reused."""
        pending = self._pending()
        if pending is not None:
            result = await call.wait(asyncio.shield(pending))
            if result.nonce != stale.nonce:
                return result
        elif self.tokens is not None and self.tokens.nonce != stale.nonce:
            return self.tokens
        if self._fleet is not None:
            adopted = await self._adopt(stale)
            if adopted is not None:
                return adopted
        return await self._shared(call, stale=stale)

    def _pending(self) -> asyncio.Future[PageTokens] | None:
        pending = self._inflight.get(asyncio.get_running_loop())
        return pending if pending is not None and not pending.done() else None

    async def _shared(self, call: CallOptions, stale: PageTokens | None) -> PageTokens:
        pending = self._pending()
        if pending is None:
            loop = asyncio.get_running_loop()
            pending = loop.create_task(self._fetch_tokens(call, stale))
            self._inflight[loop] = pending
            # Drop the entry when done: a future keeps its loop alive, and the dictionary
            # would otherwise keep both for ever.
            pending.add_done_callback(lambda _: self._inflight.pop(loop, None))
        return await call.wait(asyncio.shield(pending))

    async def _fetch_tokens(self, call: CallOptions, stale: PageTokens | None) -> PageTokens:
        if self._fleet is None:
            return await self._fetch_site(call, stale)
        store, lock = self._fleet, f"{self._key}:lock"
        while True:
            token = await store.acquire(lock, self._lock_ttl)
            if token is not None:
                break
            # Another process is fetching: take its tokens when they appear; take the lock
            # when it is free again (the holder finished without tokens, or died).
            while True:
                adopted = await self._adopt(stale)
                if adopted is not None:
                    return adopted
                if (await store.ttls(lock))[0] is None:
                    break
                await call.wait(asyncio.sleep(STATE_REFRESH_POLL))
        try:
            adopted = await self._adopt(stale)  # published while the lock changed hands
            if adopted is not None:
                return adopted
            tokens = await self._fetch_site(call, stale)
            await store.set(self._key, encode_tokens(tokens, self.fetched_at), STATE_TOKENS_TTL)
            return tokens
        finally:
            await asyncio.shield(store.release(lock, token))

    async def _fetch_site(self, call: CallOptions, stale: PageTokens | None) -> PageTokens:
        refreshing = self.tokens is not None
        if refreshing:
            self.stats.nonce_refreshes += 1
        session = await call.session()
        if stale is not None and stale.generation == "aipkit":
            tokens = await self._aipkit_nonce(session, call, stale)
            if tokens is not None:
                return self._store(tokens)
        tokens = await self._discover(session, call, bust=refreshing)
        if stale is not None and tokens.nonce == stale.nonce:
            tokens = await self._past_page_cache(session, call, tokens)
        return self._store(tokens)

    def _store(self, tokens: PageTokens) -> PageTokens:
        self.tokens, self.fetched_at, self.adopted = tokens, time.time(), False
        if tokens == self._distrusted:  # the page says the same: they were good after all
            self._distrusted = None
        return tokens

    async def _discover(
        self, session: StreamSession, call: CallOptions, *, bust: bool
    ) -> PageTokens:
        target = self.target
        pages = [urljoin(target.base, target.chat_page)] if target.chat_page else []
        pages.append(target.base)
        for page in dict.fromkeys(pages):
            tokens = await self._fetch_page(session, call, page, bust=bust)
            if tokens is not None:
                return tokens
        raise NotAIPowerSiteError(
            f"No nonce found: {target.url} is not an AI Power site (no chat container, "
            "no wpaicgParams script, no AIPKit data-config in its pages)",
            url=target.url,
            provider=call.provider,
        )

    async def _fetch_page(
        self, session: StreamSession, call: CallOptions, page: str, *, bust: bool
    ) -> PageTokens | None:
        self.stats.page_fetches += 1
        options = call.request_options(self.jar)
        async with session.get(_bust(page) if bust else page, **options) as response:
            if response.status == 404:
                return None
            await response.raise_for_status()
            refuse_login_wall(response)
            text = await response.text()
            final = str(response.url.with_query(None)) if bust else str(response.url)
        tokens = await parse_page_off_loop(text, final, self.target.bot_id)
        if tokens is None and _cut_page(text):
            raise TruncatedStreamError(
                f"{CUT_OFF}: the page {final} ended before </html>, without its chat tokens",
                url=final,
                provider=call.provider,
            )
        if tokens is not None:
            self._check_endpoint(tokens, call)
            self._pages.add(_origin_of(final))
        return tokens

    def _check_endpoint(self, tokens: PageTokens, call: CallOptions) -> None:
        """The page's chat endpoint must be on the page's origin (or a configured one)."""
        if not endpoint_allowed(tokens.ajax_url, tokens.page_url, self.target.endpoint_origins):
            where = _origin_of(tokens.ajax_url)
            raise ResponseError(
                f"The page {tokens.page_url} names a chat endpoint on another origin "
                f"({where[0]}://{where[1]}:{where[2]}): not used (a target's endpoint_origins "
                "lists the origins it may use)",
                url=tokens.page_url,
                provider=call.provider,
            )

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
