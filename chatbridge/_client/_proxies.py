"""Outbound proxies: which one a call's attempt goes through, and their cool-downs.

A target's pool is its own ``proxies`` (its ``proxy`` first), else the client's default:
``[client] proxy`` in a routes file, else the environment variable ``CHATBRIDGE_PROXY``
(one URL, or several separated by commas); the standard variables (``HTTPS_PROXY``,
``HTTP_PROXY``, ``ALL_PROXY``, with ``NO_PROXY``) only when asked, with the value
``"environment"``.

A conversation stays on one proxy: a site binds its nonce and cookies to the visitor it saw,
so the proxy a conversation (its system messages and first question) first went through is
kept for it in the state store, for as long as a conversation is kept; new conversations take
the next proxy in turn. A proxy that fails (:class:`ProxyError`, raised at the HTTP
boundary) cools down, by its own record in the health book, as long as an opened breaker
would (the policy's ``cooldown``, doubling with each failure in a row up to
``cooldown_max``), and its failures never count against the site's breaker; a conversation
whose proxy is cooling moves to another. A target whose every proxy is cooling fails its try
at once with a ``ProxyError``: never straight to the site, past the proxy it was given.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.request
from collections.abc import Mapping
from typing import Any

from yarl import URL

from .._constants import STATE_CONVERSATION_TTL, STATE_HEALTH_TTL
from .._exceptions import ConfigError, ProxyError
from .._types import Messages
from ._config import Target, public_url
from ._health import HealthBook

__all__ = ["ENVIRONMENT", "PROXY_ENV", "Proxies", "conversation_key", "default_proxies"]

#: The environment variable with chatbridge's own default proxy (or proxies, by commas).
PROXY_ENV = "CHATBRIDGE_PROXY"
#: The value that means "the standard proxy variables".
ENVIRONMENT = "environment"
_SCHEMES = ("http", "https", "socks4", "socks5")


def default_proxies(
    table: Mapping[str, Any] | None, source: str, environ: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    """The client's default pool from a ``[client]`` table's ``proxy`` (a URL, a list of
    them, or ``"environment"``), else ``CHATBRIDGE_PROXY``; ``("environment",)`` stands
    for the standard variables, read per target (``NO_PROXY`` applies)."""
    env = os.environ if environ is None else environ
    table = table or {}
    unknown = set(table) - {"proxy"}
    if unknown:
        raise ConfigError(f"{source}, [client]: unknown field(s) {', '.join(sorted(unknown))}")
    given: Any = table.get("proxy")
    where = f"{source}, [client], field 'proxy'"
    if given is None:
        given, where = env.get(PROXY_ENV, ""), PROXY_ENV
        given = [item.strip() for item in given.split(",") if item.strip()]
    if isinstance(given, str):
        given = [given]
    if not isinstance(given, list) or not all(isinstance(item, str) for item in given):
        raise ConfigError(f"{where}: wants a proxy URL, a list of them, or \"{ENVIRONMENT}\"")
    if given == [ENVIRONMENT]:
        return (ENVIRONMENT,)
    for item in given:
        if _bad(item):
            raise ConfigError(f"{where}: wants http, https, socks4 or socks5 URLs with a host")
    return tuple(given)


def _bad(proxy: str) -> bool:
    try:
        url = URL(proxy)
    except (ValueError, TypeError):
        return True
    return url.scheme not in _SCHEMES or not url.host


def _from_environment(target: Target) -> tuple[str, ...]:
    """The standard variables' proxy for the target's site, unless ``NO_PROXY`` exempts it."""
    site = target.options.get("site_url") or target.options.get("base_url") or ""
    url = URL(str(site)) if site else None
    if url is None or not url.host or urllib.request.proxy_bypass(url.host):
        return ()
    found = urllib.request.getproxies_environment()
    proxy = found.get(url.scheme) or found.get("all")
    return (proxy,) if proxy and not _bad(proxy) else ()


def _on_loopback(target: Target) -> bool:
    site = target.options.get("site_url") or target.options.get("base_url") or ""
    host = URL(str(site)).host if site else None
    return host in ("localhost", "::1") or bool(host and host.startswith("127."))


def conversation_key(messages: Messages) -> str:
    """What names a conversation across its calls: its system messages and first question."""
    opening: list[Any] = []
    for message in messages:
        opening.append([message.get("role"), message.get("content")])
        if message.get("role") == "user":
            break
    text = json.dumps(opening, ensure_ascii=False, default=str)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def proxy_key(proxy: str) -> str:
    """A proxy's record in the health book (a fingerprint: never its credentials)."""
    return "proxy|" + hashlib.sha256(proxy.encode("utf-8", "surrogatepass")).hexdigest()[:24]


class Proxies:
    """Picks each try's proxy and keeps the proxies' cool-downs, in a health book."""

    def __init__(self, health: HealthBook, default: tuple[str, ...] = ()) -> None:
        self.health = health
        self.store = health.store
        self.breakers = health.breakers
        self.default = default
        #: Failures in a row of the proxies that failed lately (an answer clears them).
        self._failed: dict[str, int] = {}

    def pool(self, target: Target) -> tuple[str, ...]:
        """The proxies ``target`` goes through (empty: none). The default is not for a site
        on this machine (a loopback address: the built-in local site, say)."""
        if target.proxies or "proxy" in target.options:
            return target.proxies
        if not self.default or _on_loopback(target):
            return ()
        if self.default == (ENVIRONMENT,):
            return _from_environment(target)
        return self.default

    async def pick(self, target: Target, messages: Messages) -> str | None:
        """The proxy for this try: the conversation's own while it is not cooling down,
        else the next in turn that is not (and the conversation moves to it)."""
        pool = self.pool(target)
        if not pool:
            return None
        place = f"proxy:conv:{_id(target.key)}:{conversation_key(messages)}"
        bound = await self.store.get(place)
        if bound is not None and bound.decode(errors="replace") in pool:
            proxy = bound.decode()
            if await self.breakers.available(proxy_key(proxy)):
                return proxy
        turn = await self.store.incr(f"proxy:turn:{_id(target.key)}", STATE_HEALTH_TTL)
        for step in range(len(pool)):
            proxy = pool[(turn - 1 + step) % len(pool)]
            if await self.breakers.available(proxy_key(proxy)):
                await self.store.set(place, proxy.encode(), STATE_CONVERSATION_TTL)
                return proxy
        raise ProxyError(
            f"Every proxy of {target.label} is cooling down after failing", url=target.site
        )

    async def failed(self, proxy: str | None) -> None:
        """``proxy`` failed: it cools down as an opened breaker would (the policy's
        ``cooldown``, doubling with each failure in a row up to ``cooldown_max``), and the
        site's breaker hears nothing of it."""
        if proxy is None:
            return
        if len(self._failed) >= 4096:
            self._failed.clear()
        count = self._failed[proxy] = self._failed.get(proxy, 0) + 1
        policy = self.health.policy
        wait = min(policy.cooldown_max, policy.cooldown * 2 ** min(count - 1, 32))
        ticket = await self.breakers.admit(proxy_key(proxy), None)
        await self.breakers.failure(ticket, wait, True)

    async def answered(self, proxy: str | None) -> None:
        """A try through ``proxy`` reached the site: its count of failures starts again."""
        if proxy is not None and self._failed.pop(proxy, None) is not None:
            await self.breakers.success(await self.breakers.admit(proxy_key(proxy), None))

    def report(self, target: Target) -> list[dict[str, Any]]:
        """The target's proxies (without credentials) and how long each is cooling."""
        snapshot = self.health.snapshot()
        return [
            {
                "proxy": public_url(proxy),
                "cooling_for": snapshot.get(proxy_key(proxy), {}).get("cooling_for", 0.0),
            }
            for proxy in self.pool(target)
        ]


def _id(key: str) -> str:
    return hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()
