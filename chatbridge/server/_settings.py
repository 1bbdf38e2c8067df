"""The server's settings: the ``[server]`` table of a routes file, the environment and the
command line, checked once into one frozen :class:`ServerSettings`.

    [server]
    api_keys = ["env:MY_KEY"]        # or CHATBRIDGE_API_KEYS="k1,k2"; none = no auth
    monitoring_keys = ["env:MON"]    # may read /metrics (none: the API keys may)
    requests_per_minute = 600        # per key; 0 = no limit
    concurrent_streams = 20          # per key; 0 = no limit
    max_body_bytes = 1048576
    max_messages = 1000
    max_message_chars = 200000
    cors_origins = ["https://app.example"]   # CORS is off unless listed ("*" = any)
    allow_site_url = false           # may a request name its own AI Power site?
    allow_private_sites = false      # ... even on a loopback, link-local or private address?
    endpoint_origins = []            # origins besides its page's own a site's chat may be on
    grace_seconds = 10               # SIGTERM: time for in-flight requests to finish
    max_connections = 4096           # open connections at most (idle ones make room)
    header_timeout = 10              # seconds to send a request's headers
    idle_timeout = 60                # seconds a kept-alive connection may sit idle
    responses_ttl = 3600             # seconds a stored /v1/responses answer is kept (0: none)
    ui = true                        # the chat page at / (serve --no-ui turns it off)
    redis_url = "redis://127.0.0.1:6379/0"   # share state between processes (or --redis)
    admin_keys = ["env:ADMIN_KEY"]   # may read every key's usage (GET /v1/usage)

    [server.quotas]                  # per key, by day and month (``_quotas``)
    default = { requests_per_day = 1000, tokens_per_month = 2000000 }
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from .. import _constants as defaults
from .._checks import is_finite_at_least_zero, is_number, resolve_env
from .._exceptions import ConfigError
from ._quotas import DEFAULT, Quota, parse_quotas, quota_for

__all__ = ["ServerSettings", "parse_settings"]

#: The environment variable with comma-separated API keys.
API_KEYS_ENV = "CHATBRIDGE_API_KEYS"


@dataclass(frozen=True)
class ServerSettings:
    api_keys: tuple[str, ...] = ()
    #: Keys that may read /metrics and the targets in /health/ready (none: the API keys).
    monitoring_keys: tuple[str, ...] = ()
    requests_per_minute: int = defaults.SERVER_REQUESTS_PER_MINUTE
    concurrent_streams: int = defaults.SERVER_CONCURRENT_STREAMS
    max_body_bytes: int = defaults.SERVER_MAX_BODY_BYTES
    max_messages: int = defaults.SERVER_MAX_MESSAGES
    max_message_chars: int = defaults.SERVER_MAX_MESSAGE_CHARS
    cors_origins: tuple[str, ...] = ()
    allow_site_url: bool = False
    allow_private_sites: bool = False
    #: Origins besides a request-named page's own that its chat endpoint may be on.
    endpoint_origins: tuple[str, ...] = ()
    grace_seconds: float = defaults.SERVER_GRACE_SECONDS
    #: Open connections at most; beyond it an idle one is closed, or the new one gets a 503.
    max_connections: int = defaults.SERVER_MAX_CONNECTIONS
    #: Seconds to send a request's headers; seconds a kept-alive connection may sit idle.
    header_timeout: float = defaults.SERVER_HEADER_TIMEOUT
    idle_timeout: float = defaults.SERVER_IDLE_TIMEOUT
    #: Seconds a stored ``/v1/responses`` answer is kept (0: none is stored).
    responses_ttl: float = defaults.SERVER_RESPONSES_TTL
    #: Serve the chat page at ``/`` (``chatbridge.web``)?
    ui: bool = True
    #: Share tokens, breakers, limits and conversations between processes through Redis.
    redis_url: str | None = None
    #: Keys that may read every key's usage (``GET /v1/usage``); an API key sees its own.
    admin_keys: tuple[str, ...] = ()
    #: Quotas by key (and ``"default"``), in the order written (``_quotas``).
    quotas: tuple[tuple[str, Quota], ...] = ((DEFAULT, Quota()),)

    def quota(self, key: str | None) -> Quota:
        """The quota of ``key`` (``None``: the anonymous caller of an open server)."""
        return quota_for(self.quotas, key)

    def __repr__(self) -> str:  # the keys are secrets
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        shown["api_keys"] = f"<{len(self.api_keys)} key(s)>"
        shown["monitoring_keys"] = f"<{len(self.monitoring_keys)} key(s)>"
        shown["admin_keys"] = f"<{len(self.admin_keys)} key(s)>"
        shown["quotas"] = f"<{len(self.quotas)} quota(s)>"
        if self.redis_url:  # may hold a password
            shown["redis_url"] = "<set>"
        return "ServerSettings(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"

    def with_keys(self, keys: Sequence[str], source: str = "--api-key") -> ServerSettings:
        """These keys too; an empty or whitespace one is a :class:`ConfigError` naming
        ``source`` (it would let in a request that sends no key)."""
        checked = check_keys(keys, source)
        return replace(self, api_keys=tuple(dict.fromkeys((*self.api_keys, *checked))))

    def keys_line(self) -> str:
        """The start-up line about keys, in words."""
        count = len(self.api_keys)
        if not count:
            return "Requests need no API key (anyone who can reach this address may call it)."
        return f"Requests need an API key ({count} configured)."


def check_keys(
    keys: Sequence[str], source: str, *, env_names: Sequence[str] = ()
) -> tuple[str, ...]:
    """Keys with surrounding whitespace removed (a Bearer header's value is read without
    it); an empty or whitespace-only key is a configuration error that names where it came
    from: an open door must never look like a locked one."""
    checked: list[str] = []
    for index, key in enumerate(keys):
        key = key.strip()
        if not key:
            named = env_names[index] if index < len(env_names) and env_names[index] else ""
            origin = f" ({named} is empty)" if named else ""
            raise ConfigError(
                f"{source}: key {index + 1} is empty or whitespace{origin}; give a real key, "
                "or no key at all for an open server"
            )
        checked.append(key)
    return tuple(checked)


def _count(value: Any, where: str, *, positive: bool) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < (1 if positive else 0):
        raise ConfigError(f"{where}: wants a whole number {'> 0' if positive else '≥ 0'}")
    return value


_SECONDS = frozenset({"grace_seconds", "header_timeout", "idle_timeout", "responses_ttl"})
#: Seconds that may be 0.
_SECONDS_OR_NONE = frozenset({"grace_seconds", "responses_ttl"})
_POSITIVE_COUNTS = frozenset(
    {"max_body_bytes", "max_messages", "max_message_chars", "max_connections"}
)


def _seconds(value: Any, where: str, *, positive: bool) -> float:
    if not is_number(value):
        raise ConfigError(f"{where}: wants a number of seconds")
    if not is_finite_at_least_zero(value) or (positive and value == 0):
        raise ConfigError(f"{where}: wants a finite number {'> 0' if positive else '≥ 0'}")
    return float(value)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where}: wants a list of non-empty strings")
    return tuple(str(resolve_env(v, where)) for v in value)


def _origins(value: Any, where: str) -> tuple[str, ...]:
    from .._exceptions import InvalidRequestError
    from .._providers._aipower_base import check_origins

    try:
        return check_origins(_strings(value, where))
    except InvalidRequestError as error:
        raise ConfigError(f"{where}: {error.message}") from None


def _keys(value: Any, where: str) -> tuple[str, ...]:
    resolved = _strings(value, where)
    names = [v if v.startswith("env:") else "" for v in value]
    return check_keys(resolved, where, env_names=names)


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
        if key in ("api_keys", "monitoring_keys", "admin_keys"):
            values[key] = _keys(value, where)
        elif key == "quotas":
            values[key] = parse_quotas(value, f"{source}, [server.quotas]")
        elif key == "cors_origins":
            values[key] = _strings(value, where)
        elif key == "endpoint_origins":
            values[key] = _origins(value, where)
        elif key in ("allow_site_url", "allow_private_sites", "ui"):
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: wants true or false")
            values[key] = value
        elif key == "redis_url":
            resolved = resolve_env(value, where)
            if not isinstance(resolved, str) or not resolved:
                raise ConfigError(f"{where}: wants a Redis URL (redis://HOST:PORT/DB)")
            values[key] = resolved
        elif key in _SECONDS:
            values[key] = _seconds(value, where, positive=key not in _SECONDS_OR_NONE)
        else:
            positive = key in _POSITIVE_COUNTS
            values[key] = _count(value, where, positive=positive)
    settings = ServerSettings(**values)
    env = os.environ if environ is None else environ
    listed = env.get(API_KEYS_ENV)
    if listed is None:
        return settings
    keys = [key for key in listed.split(",") if key.strip()]  # a stray comma is no key
    if not keys:
        raise ConfigError(
            f"{API_KEYS_ENV} is set but names no key (it is empty or only commas and spaces); "
            "unset it for an open server"
        )
    return settings.with_keys(keys, API_KEYS_ENV)
