"""What both plugin engines keep of one WordPress site, whichever protocol it speaks: where its
chat is (:class:`SiteTarget`), and its tokens (:class:`SiteCache`): fetched one at a time and
shared through the state store (``_state._singleflight``), fresh for as long as a WordPress
nonce lives, read back from the store only when they obey the page rule (the page on the
site's origin, the endpoint it names on the page's: ``_guard.endpoint_allowed``), dropped when
a call failed with tokens another process gave, with the cookie jar the site's pages were
fetched with."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar
from urllib.parse import urljoin

import aiohttp

from .._constants import NONCE_REFRESH_AGE, STATE_REFRESH_LOCK_TTL, WORDPRESS_TICK
from .._exceptions import ResponseError
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
from .._state import StateStore
from .._state._singleflight import SharedFetch

__all__ = ["PageStats", "SiteCache", "SiteTarget"]


@dataclass(frozen=True, slots=True)
class SiteTarget:
    """``chat_page`` is a path or URL of the page holding the chat (default: the home page);
    ``bot_id`` picks one bot (and is kept even when the page shows another). The endpoint the
    page names must be on the page's own origin, or on one of ``endpoint_origins``."""

    url: str
    chat_page: str | None = None
    bot_id: int | str | None = None
    #: WordPress nonce half-life the site uses (seconds); tokens are refreshed once two
    #: tick boundaries have passed since the fetch, or after ``refresh_age`` seconds.
    nonce_tick: float = WORDPRESS_TICK
    refresh_age: float = NONCE_REFRESH_AGE
    #: Origins besides the page's own that the page may name as its endpoint
    #: (``"https://admin.example"``; ``"*"``: any). None by default.
    endpoint_origins: tuple[str, ...] = ()

    @property
    def base(self) -> str:
        return self.url.rstrip("/") + "/"


class _Tokens(Protocol):
    @property
    def nonce(self) -> str: ...


class PageStats(Protocol):
    page_fetches: int


V = TypeVar("V", bound=_Tokens)
P = TypeVar("P")


class SiteCache(Generic[V]):
    """The tokens of one site (``V``: an engine's, with a ``nonce``). ``places(tokens)``
    gives the endpoint they send to and the page they came from; ``what`` names the endpoint
    in errors ("a chat endpoint", "a REST API")."""

    def __init__(
        self,
        target: SiteTarget,
        key: str,
        store: StateStore | None,
        *,
        encode: Callable[[V, float], bytes],
        decode: Callable[[bytes | None], tuple[V, float] | None],
        places: Callable[[V], tuple[str, str]],
        what: str,
        lock_ttl: float = STATE_REFRESH_LOCK_TTL,
    ) -> None:
        self.target = target
        self.shared: SharedFetch[V] = SharedFetch(
            key,
            store,
            encode=encode,
            decode=decode,
            is_fresh=self._fresh_since,
            same=lambda a, b: a.nonce == b.nonce,
            trust=self._trusted,
            lock_ttl=lock_ttl,
        )
        self._places = places
        self._what = what
        #: Origins this site's pages are on: the site's own, and where its pages were
        #: found when this process fetched them (a redirect to https or to www, say).
        self._pages = {origin_of(target.base)}
        if target.chat_page:
            self._pages.add(origin_of(urljoin(target.base, target.chat_page)))
        self._jar: aiohttp.CookieJar | None = None

    @property
    def tokens(self) -> V | None:
        return self.shared.value

    @tokens.setter
    def tokens(self, value: V | None) -> None:
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

    @property
    def jar(self) -> aiohttp.CookieJar:
        """Cookies the site set while its pages were fetched (Cloudflare, security plugins)."""
        if self._jar is None:
            self._jar = aiohttp.CookieJar(unsafe=True)
        return self._jar

    def fresh(self, now: float) -> bool:
        """Younger than the refresh age, and fewer than two tick boundaries ago (a WordPress
        nonce: docs/protocol-ai-power.md, "Nonce lifetime")."""
        return self.shared.fresh(now)

    def _fresh_since(self, fetched_at: float, now: float) -> bool:
        tick = self.target.nonce_tick
        ticks_passed = math.floor(now / tick) - math.floor(fetched_at / tick)
        return now - fetched_at < self.target.refresh_age and ticks_passed < 2

    def _trusted(self, tokens: V) -> bool:
        """Tokens read back from the shared store obey the page rule too: the page on this
        site's origin, the endpoint on the page's (or a configured) origin."""
        endpoint, page = self._places(tokens)
        return origin_of(page) in self._pages and endpoint_allowed(
            endpoint, page, self.target.endpoint_origins
        )

    def distrust(self, tokens: V) -> None:
        """A call failed with ``tokens``: if another process gave them, drop them (and never
        adopt them again); the next call fetches the page itself."""
        self.shared.distrust(tokens)

    def accept_page(self, endpoint: str, page: str, provider: str | None) -> None:
        """A page this process read names ``endpoint``: it must be on the page's origin (or a
        configured one); the page's origin is the site's from now on."""
        if not endpoint_allowed(endpoint, page, self.target.endpoint_origins):
            where = origin_of(endpoint)
            raise ResponseError(
                f"The page {page} names {self._what} on another origin "
                f"({where[0]}://{where[1]}:{where[2]}): not used (a target's endpoint_origins "
                "lists the origins it may use)",
                url=page,
                provider=provider,
            )
        self._pages.add(origin_of(page))

    async def read_pages(
        self,
        session: StreamSession,
        call: Call,
        parse: Callable[[str, str, int | str | None], P | None],
        endpoint: Callable[[P], str],
        *,
        bust: bool,
        stats: PageStats,
    ) -> P | None:
        """The site's candidate pages in turn (each counted in ``stats``) until ``parse``
        finds the chat in one (its ``endpoint`` then passes :meth:`accept_page`); a page that
        stops the search (a login wall, a fatal error) raises; ``None`` when none has it."""
        target = self.target
        for page in candidate_pages(target.base, target.chat_page):
            stats.page_fetches += 1
            fetched = await fetch_page(session, call, page, self.jar, busted=bust)
            if fetched is None:
                continue
            text, final = fetched
            found = await parse_off_loop(parse, text, final, target.bot_id)
            if found is not None:
                self.accept_page(endpoint(found), final, call.provider)
                return found
            cut = cut_page_error(text, final, call.provider)
            if cut is not None:
                raise cut
        return None
