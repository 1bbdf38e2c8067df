"""Which plugin a site's chat runs (AI Power or AI Engine), found from its page.

One ``--url`` works for any supported site: the CLI, ``Client(site_url=...)``, a route
target with only ``site_url`` and ``serve --site`` ask :func:`find_provider`, which fetches the
chat page (or the home page) once per site, reads it with both engines' parsers, and hands the
page to the engine it found (so the engine fetches it no second time). The answer is cached
like the engines' tokens: per process, and through the state store for a fleet, with one fetch
in flight per site.

A page with the chats of both plugins is taken as AI Power's, unless its only sign of AI
Power is the ``wpaicgParams`` script every page of an AI Power site carries.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp

from .._aiengine import EngineCall
from .._aiengine import parse_page as parse_engine_page
from .._aipower import CallOptions
from .._aipower._page import PageTokens
from .._aipower._page import parse_page as parse_power_page
from .._constants import STATE_TOKENS_TTL
from .._exceptions import UnsupportedSiteError
from .._http._call import Call
from .._http._pages import candidate_pages, cut_page_error, fetch_page, parse_off_loop
from .._state import StateStore, current_store
from .._state._singleflight import SharedFetch
from .._state._sites import SiteClients
from ._aipower_base import AIPowerSite
from ._base import BaseProvider
from .aiengine import AIEngine
from .aipower import AIPower

__all__ = [
    "SiteInfo",
    "find_provider",
    "known_provider",
    "nonce_refreshes",
    "plugin_name",
    "site_info",
    "site_provider",
]

#: The provider of each family, by the name the cache keeps.
_FAMILIES: dict[str, type[BaseProvider]] = {"AIEngine": AIEngine, "AIPower": AIPower}
_Key = tuple[str, str | None, str | None]


def plugin_name(provider: type[BaseProvider]) -> str | None:
    """The plugin a site provider speaks (``"AI Power"``, ``"AI Engine"``), else ``None``."""
    if issubclass(provider, AIEngine):
        return "AI Engine"
    if issubclass(provider, AIPowerSite):
        return "AI Power"
    return None


def _key(site_url: str, chat_page: str | None, bot_id: int | str | None) -> _Key:
    return site_url.rstrip("/"), chat_page, None if bot_id is None else str(bot_id)


def _encode(name: str, fetched_at: float) -> bytes:
    return json.dumps([name, fetched_at]).encode()


def _decode(raw: bytes | None) -> tuple[str, float] | None:
    try:
        name, fetched_at = json.loads(raw or b"")
    except (ValueError, TypeError):
        return None
    if name not in _FAMILIES or not isinstance(fetched_at, int | float):
        return None
    return name, float(fetched_at)


def _fresh(fetched_at: float, now: float) -> bool:
    return now - fetched_at < STATE_TOKENS_TTL


@dataclass(frozen=True, slots=True)
class _Finder:
    """A site's family as this process knows it, shared through ``store``."""

    store: StateStore
    fetch: SharedFetch[str]


def _new_finder(key: _Key) -> _Finder:
    store = current_store()
    digest = hashlib.blake2b(json.dumps(key).encode(), digest_size=16).hexdigest()
    fetch: SharedFetch[str] = SharedFetch(
        f"family:{digest}",
        store,
        encode=_encode,
        decode=_decode,
        is_fresh=_fresh,
        same=lambda a, b: a == b,
    )
    return _Finder(store, fetch)


_finders: SiteClients[_Key, _Finder] = SiteClients(_new_finder)


def known_provider(
    site_url: str, chat_page: str | None = None, bot_id: int | str | None = None
) -> type[BaseProvider] | None:
    """The provider this process already found for the site, without asking it."""
    finder = _finders.peek(_key(site_url, chat_page, bot_id))
    name = None if finder is None else finder.fetch.value
    return None if name is None else _FAMILIES[name]


async def find_provider(
    site_url: str,
    chat_page: str | None,
    bot_id: int | str | None,
    call: Call,
    *,
    wrong: type[BaseProvider] | None = None,
    endpoint_origins: Sequence[str] = (),
) -> type[BaseProvider]:
    """``AIPower`` or ``AIEngine``, whichever plugin the site's chat page runs; an
    :class:`UnsupportedSiteError` naming both when it runs neither. ``wrong``: the provider
    found before, whose engine no longer finds its chat (the site changed plugins): the page
    is looked at again (once, however many callers found it wrong). The page goes to the
    engine's client of the site with ``endpoint_origins``, which checks it as it would."""
    key = _key(site_url, chat_page, bot_id)
    finder = _finders.get(key).fetch

    async def fetch(_stale: str | None) -> str:
        return await _look(key, call, tuple(endpoint_origins))

    if wrong is None:
        return _FAMILIES[await finder.get(call.wait, fetch)]
    return _FAMILIES[await finder.refresh(call.wait, fetch, wrong.get_name())]


async def site_provider(
    site_url: str,
    chat_page: str | None,
    bot_id: int | str | None,
    *,
    proxy: str | None,
    timeout: float | None,
) -> type[BaseProvider]:
    """:func:`find_provider` for a caller with no call of its own (the command line's check):
    one with these options and deadline."""
    call = Call(proxy=proxy, timeout=timeout, provider="AnySite")
    return await find_provider(site_url, chat_page, bot_id, call)


def _prefer_power(power: PageTokens | None, engine_found: bool) -> bool:
    if power is None:
        return False
    script_only = power.generation == "legacy" and not power.legacy_version
    return not (engine_found and script_only)


async def _look(key: _Key, call: Call, origins: tuple[str, ...]) -> str:
    site_url, chat_page, bot_id = key
    session = await call.session()
    jar = aiohttp.CookieJar(unsafe=True)
    for page in candidate_pages(site_url + "/", chat_page):
        fetched = await fetch_page(session, call, page, jar)
        if fetched is None:
            continue
        text, final = fetched
        engine = await parse_off_loop(parse_engine_page, text, final, bot_id)
        power = await parse_off_loop(parse_power_page, text, final, bot_id)
        # The engine found gets the page (and, in a fleet, shares its tokens) before the
        # plugin's name is published, so no process fetches the page a second time.
        if _prefer_power(power, engine is not None):
            assert power is not None
            await AIPower.site(site_url, chat_page, bot_id, origins).prime(power, call)
            return "AIPower"
        if engine is not None:
            engine_call = EngineCall(
                proxy=call.proxy, timeout=call.remaining(), provider=call.provider
            )
            client = AIEngine.site(site_url, chat_page, bot_id, origins)
            await client.prime(engine, engine_call)
            return "AIEngine"
        cut = cut_page_error(text, final, call.provider)
        if cut is not None:
            raise cut
    raise UnsupportedSiteError(
        f"No chat found: {site_url} is neither an AI Power site nor an AI Engine site (no chat "
        f"of either plugin in its pages). Check it with `chatbridge check --url {site_url}`; "
        "if its chat is on another page, give that page's URL, or the home page and the "
        "chat's path (--chat-page /chat/, chat_page='/chat/' from Python)",
        url=site_url,
        provider=call.provider,
    )


@dataclass(frozen=True, slots=True)
class SiteInfo:
    """What a site's page says of its chat: the plugin, its generation (as narrowly as the
    page shows it) and whether it streams (the page's hint; ``None``: it does not say)."""

    plugin: str
    generation: str
    streaming: bool | None


async def site_info(
    provider: type[BaseProvider],
    site_url: str,
    chat_page: str | None,
    bot_id: int | str | None,
    *,
    proxy: str | None,
    timeout: float | None,
) -> SiteInfo:
    """The chat of the site ``provider`` (``AIPower``, ``AIEngine`` or a seed provider) talks
    to: its page read (and, for AI Engine's current generation, a nonce fetched), as a chat
    would, through the same cache."""
    name = provider.get_name()
    if issubclass(provider, AIEngine):
        config = (
            await provider.site(site_url, chat_page, bot_id).site_tokens(
                EngineCall(proxy=proxy, timeout=timeout, provider=name)
            )
        ).config
        return SiteInfo("AI Engine", f"{config.generation.upper()} {config.version}", True)
    assert issubclass(provider, AIPowerSite)
    client = provider.site(site_url, chat_page, bot_id)
    tokens = await client.page_tokens(CallOptions(proxy=proxy, timeout=timeout, provider=name))
    if tokens.generation == "aipkit":
        return SiteInfo("AI Power", "aipkit 2.3+", True)
    version = f"legacy {tokens.legacy_version}" if tokens.legacy_version else "legacy"
    return SiteInfo("AI Power", version, tokens.stream_hint)


def nonce_refreshes(
    provider: type[BaseProvider], site_url: str, chat_page: str | None, bot_id: int | str | None
) -> int:
    """How often this process fetched the site's nonce again (a refused or old one)."""
    if issubclass(provider, AIEngine):
        return provider.site(site_url, chat_page, bot_id).stats.nonce_refreshes
    assert issubclass(provider, AIPowerSite)
    return provider.site(site_url, chat_page, bot_id).stats.nonce_refreshes
