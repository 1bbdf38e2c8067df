"""Per-key quotas: what the ``[server.quotas]`` table says, and the windows they count in.

    [server.quotas]
    default = { requests_per_day = 1000, tokens_per_month = 2000000 }
    "env:ALICE_KEY" = { requests_per_day = 5000 }     # a key's own, field by field

Every field is a whole number, 0 for no limit: ``requests_per_day``, ``requests_per_month``,
``tokens_per_day``, ``tokens_per_month``. A key's own table (named by the key, as
``"env:NAME"`` or as written) overrides ``default`` field by field; a key without one has the
default. Windows are calendar days and months in UTC. Tokens are counted only from the usage
a target reported (never estimated), so a token quota on a server with a route none of whose
targets reports usage is refused at start-up (:func:`check_token_routes`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from .._checks import resolve_env
from .._exceptions import ConfigError

__all__ = [
    "DEFAULT",
    "Quota",
    "Window",
    "check_quota_keys",
    "check_token_routes",
    "parse_quotas",
    "windows",
]

#: The table entry every key without one of its own takes.
DEFAULT = "default"


@dataclass(frozen=True, slots=True)
class Quota:
    requests_per_day: int = 0
    requests_per_month: int = 0
    tokens_per_day: int = 0
    tokens_per_month: int = 0

    @property
    def limited(self) -> bool:
        return any(getattr(self, item.name) for item in fields(self))

    @property
    def counts_tokens(self) -> bool:
        return bool(self.tokens_per_day or self.tokens_per_month)


_FIELDS = tuple(item.name for item in fields(Quota))


def parse_quotas(table: Any, where: str) -> tuple[tuple[str, Quota], ...]:
    """``(key or "default", Quota)`` pairs from a ``[server.quotas]`` table; a key written
    ``"env:NAME"`` is read from the environment. Mistakes are one :class:`ConfigError` that
    names the field, never a key."""
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: must be a table of quotas by key (or 'default')")
    parsed: list[tuple[str, Quota]] = []
    default = Quota()
    for number, (name, body) in enumerate(table.items(), start=1):
        here = f"{where}, entry {number}" if name != DEFAULT else f"{where}, default"
        quota = _quota(body, here)
        if name == DEFAULT:
            default = quota
            continue
        key = resolve_env(name, here)
        if not isinstance(key, str) or not key.strip():
            raise ConfigError(f"{here}: names an empty key")
        parsed.append((key.strip(), quota))
    return ((DEFAULT, default), *parsed)


def _quota(body: Any, where: str) -> Quota:
    if not isinstance(body, Mapping):
        raise ConfigError(f"{where}: wants a table like {{ requests_per_day = 1000 }}")
    values: dict[str, int] = {}
    for name, value in body.items():
        if name not in _FIELDS:
            raise ConfigError(f"{where}: unknown field {name!r} (known: {', '.join(_FIELDS)})")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{where}, field {name!r}: wants a whole number ≥ 0 (0: none)")
        values[name] = value
    return Quota(**values)


def quota_for(quotas: Iterable[tuple[str, Quota]], key: str | None) -> Quota:
    """The quota of ``key`` (the raw key; ``None``: anonymous): its own fields over the
    default's."""
    default, own = Quota(), None
    for name, quota in quotas:
        if name == DEFAULT:
            default = quota
        elif key is not None and name == key:
            own = quota
    if own is None:
        return default
    merged = {name: getattr(own, name) or getattr(default, name) for name in _FIELDS}
    return replace(default, **merged)


def check_quota_keys(quotas: Iterable[tuple[str, Quota]], api_keys: Iterable[str]) -> None:
    """Every key a quota names must be one of the API keys (a typo would leave the real key
    with the default's quota, silently)."""
    known = set(api_keys)
    for number, (name, _) in enumerate(quotas):
        if name != DEFAULT and name not in known:
            raise ConfigError(
                f"[server.quotas], entry {number}: names a key that is not one of the API keys"
            )


def check_token_routes(
    quotas: Iterable[tuple[str, Quota]], routes: Mapping[str, Iterable[bool]]
) -> None:
    """A token quota needs usage that targets report: refuse one when a route (by name: each
    target's ``reports_usage``) has no target that reports it, rather than count a guess."""
    if not any(quota.counts_tokens for _, quota in quotas):
        return
    for name, reporting in routes.items():
        if not any(reporting):
            raise ConfigError(
                f"[server.quotas]: a token quota counts the usage targets report, and route "
                f"{name!r} has no target that reports usage (AI Power sites never do): set "
                "tokens_per_day and tokens_per_month to 0, or route through targets that "
                "report it (OpenAICompatible)"
            )


@dataclass(frozen=True, slots=True)
class Window:
    """One UTC day (``day``: 2026-12-07) and its month (``month``: 2026-12), and the
    seconds until each ends."""

    day: str
    month: str
    day_ends_in: float
    month_ends_in: float


def windows(now: float) -> Window:
    """The day and month ``now`` (a Unix time) is in, in UTC."""
    moment = dt.datetime.fromtimestamp(now, dt.UTC)
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    first = midnight.replace(day=1)
    next_month = (first + dt.timedelta(days=32)).replace(day=1)
    return Window(
        day=moment.strftime("%Y-%m-%d"),
        month=moment.strftime("%Y-%m"),
        day_ends_in=(midnight + dt.timedelta(days=1) - moment).total_seconds(),
        month_ends_in=(next_month - moment).total_seconds(),
    )
