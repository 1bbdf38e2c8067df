"""The server's settings: the ``[server]`` table of a routes file, the environment and the
command line, checked once into one frozen :class:`ServerSettings`.

    [server]
    api_keys = ["env:MY_KEY"]        # or CHATBRIDGE_API_KEYS="k1,k2"; none = no auth
    requests_per_minute = 600        # per key; 0 = no limit
    concurrent_streams = 20          # per key; 0 = no limit
    max_body_bytes = 1048576
    max_messages = 1000
    max_message_chars = 200000
    cors_origins = ["https://app.example"]   # CORS is off unless listed ("*" = any)
    allow_site_url = false           # may a request name its own AI Power site?
    allow_private_sites = false      # ... even on a loopback, link-local or private address?
    grace_seconds = 10               # SIGTERM: time for in-flight requests to finish
    ui = true                        # the chat page at / (serve --no-ui turns it off)
    redis_url = "redis://127.0.0.1:6379/0"   # share state between processes (or --redis)
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from .. import _constants as defaults
from .._checks import is_finite_at_least_zero, is_number, resolve_env
from .._exceptions import ConfigError

__all__ = ["ServerSettings", "parse_settings"]

#: The environment variable with comma-separated API keys.
API_KEYS_ENV = "CHATBRIDGE_API_KEYS"


@dataclass(frozen=True)
class ServerSettings:
    api_keys: tuple[str, ...] = ()
    requests_per_minute: int = defaults.SERVER_REQUESTS_PER_MINUTE
    concurrent_streams: int = defaults.SERVER_CONCURRENT_STREAMS
    max_body_bytes: int = defaults.SERVER_MAX_BODY_BYTES
    max_messages: int = defaults.SERVER_MAX_MESSAGES
    max_message_chars: int = defaults.SERVER_MAX_MESSAGE_CHARS
    cors_origins: tuple[str, ...] = ()
    allow_site_url: bool = False
    allow_private_sites: bool = False
    grace_seconds: float = defaults.SERVER_GRACE_SECONDS
    #: Serve the chat page at ``/`` (``chatbridge.web``)?
    ui: bool = True
    #: Share tokens, breakers, limits and conversations between processes through Redis.
    redis_url: str | None = None

    def __repr__(self) -> str:  # the keys are secrets
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        shown["api_keys"] = f"<{len(self.api_keys)} key(s)>"
        if self.redis_url:  # may hold a password
            shown["redis_url"] = "<set>"
        return "ServerSettings(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"

    def with_keys(self, keys: Sequence[str]) -> ServerSettings:
        return replace(self, api_keys=tuple(dict.fromkeys((*self.api_keys, *keys))))


def _count(value: Any, where: str, *, positive: bool) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < (1 if positive else 0):
        raise ConfigError(f"{where}: wants a whole number {'> 0' if positive else '≥ 0'}")
    return value


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where}: wants a list of non-empty strings")
    return tuple(str(resolve_env(v, where)) for v in value)


def parse_settings(
    table: Mapping[str, Any] | None,
    source: str = "config",
    environ: Mapping[str, str] | None = None,
) -> ServerSettings:
    """Settings from a ``[server]`` table plus ``CHATBRIDGE_API_KEYS``; every mistake is one
    :class:`ConfigError` naming the field (never a key's value)."""
    table = table or {}
    if not isinstance(table, Mapping):
        raise ConfigError(f"{source}, [server]: must be a table")
    known = {f.name for f in fields(ServerSettings)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        where = f"{source}, [server], field {key!r}"
        if key not in known:
            raise ConfigError(f"{where}: unknown (known: {', '.join(sorted(known))})")
        if key in ("api_keys", "cors_origins"):
            values[key] = _strings(value, where)
        elif key in ("allow_site_url", "allow_private_sites", "ui"):
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: wants true or false")
            values[key] = value
        elif key == "redis_url":
            resolved = resolve_env(value, where)
            if not isinstance(resolved, str) or not resolved:
                raise ConfigError(f"{where}: wants a Redis URL (redis://HOST:PORT/DB)")
            values[key] = resolved
        elif key == "grace_seconds":
            if not is_number(value):
                raise ConfigError(f"{where}: wants a number of seconds")
            if not is_finite_at_least_zero(value):
                raise ConfigError(f"{where}: wants a finite number ≥ 0")
            values[key] = float(value)
        else:
            positive = key in ("max_body_bytes", "max_messages", "max_message_chars")
            values[key] = _count(value, where, positive=positive)
    settings = ServerSettings(**values)
    env = os.environ if environ is None else environ
    from_env = [k.strip() for k in env.get(API_KEYS_ENV, "").split(",") if k.strip()]
    return settings.with_keys(from_env)
