"""Which store a process uses: :func:`open_store` makes one from a URL (or none: memory), and
:func:`install_store` makes it the process's current store, which the engine's site clients
take when they are made."""

from __future__ import annotations

from urllib.parse import urlsplit

from .._constants import STATE_REDIS_TIMEOUT, install_hint
from .._exceptions import ConfigError
from ._fallback import FallbackStore
from ._interface import StateStore, key_prefix
from ._memory import MemoryStore

__all__ = ["connect_store", "current_store", "install_store", "open_store"]

_SCHEMES = ("redis", "rediss", "unix")
_current: StateStore | None = None


def open_store(
    url: str | None = None, namespace: str = "", timeout: float = STATE_REDIS_TIMEOUT
) -> StateStore:
    """Memory without a URL; with ``redis://HOST:PORT/DB`` (or ``rediss://``, ``unix://``),
    Redis, each call within ``timeout`` seconds, falling back to memory while it is away; its
    keys under ``namespace``. A bad URL or namespace, or a missing ``redis`` package, is a
    :class:`ConfigError`."""
    if not url:
        return MemoryStore()
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES or not (parts.netloc or parts.path):
        raise ConfigError(f"redis_url: wants redis://HOST:PORT/DB, got {url!r}")
    try:
        from ._redis import RedisStore
    except ImportError as error:
        raise ConfigError(
            f"redis_url: the 'redis' package is not installed ({install_hint('redis')})"
        ) from error
    try:
        key_prefix(namespace)
    except ValueError as error:
        raise ConfigError(f"[state] namespace: {error}") from error
    try:
        primary = RedisStore(url, namespace=namespace, timeout=timeout)
    except ValueError as error:
        raise ConfigError(f"redis_url: {error}") from error
    shown = f"Redis at {parts.hostname or parts.path}" + (f":{parts.port}" if parts.port else "")
    return FallbackStore(primary, MemoryStore(), name=shown)


async def connect_store(
    url: str | None = None, namespace: str = "", timeout: float = STATE_REDIS_TIMEOUT
) -> StateStore:
    """:func:`open_store`, and reach it now: a Redis that is away at start gets its one
    warning here (then the store serves from memory until Redis answers)."""
    store = open_store(url, namespace, timeout)
    if isinstance(store, FallbackStore):
        await store.check()
    return store


def install_store(store: StateStore | None) -> None:
    """Make ``store`` the process's current store (``None``: back to a fresh memory store).
    Site clients made from now on use it; the server calls this once, at start."""
    global _current
    _current = store


def current_store() -> StateStore:
    """The process's current store (memory unless one was installed)."""
    global _current
    if _current is None:
        _current = MemoryStore()
    return _current
