"""Per-key quotas and the usage ledger, counted atomically in the state store.

Every request a front door admits goes through :meth:`Usage.admit` first (after the
per-minute limit): a key over one of its quotas gets a 429 ``insufficient_quota`` with
``Retry-After`` at its window's end, in the door's own error shape (the door maps the
:class:`ApiError`). A key with no quota costs nothing there. When the request is done, the
access log's record of it goes to the ledger (:meth:`Usage.record`, off the response's path):
by key, UTC day, route and target, its requests, errors and the tokens the target reported,
which count toward the token quotas too.

Kept in the store (``_state``'s counters, all or none, under limits): with Redis, counts are
shared by the fleet and outlive a restart, and what is counted while Redis is away is added
back once when it returns. Keys appear only as their fingerprints (``key-…``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from .._state import StateStore, Tally
from .._state._interface import exceeds
from ._errors import quota_exceeded
from ._quotas import Quota, Window, windows
from ._record import Record, key_id
from ._settings import ServerSettings

__all__ = ["LEDGER_DAYS", "Usage"]

#: Days the ledger keeps, and days a month's quota counters live.
LEDGER_DAYS = 400
_QUOTA_TTL = 40 * 86400.0
#: What the ledger counts per key, day, route and target.
MEASURES = ("requests", "errors", "prompt_tokens", "completion_tokens", "total_tokens")
_SEPARATOR = "\t"


def _clean(text: str) -> str:
    return text.replace(_SEPARATOR, " ").replace("\n", " ")[:256]


class Usage:
    def __init__(
        self, store: StateStore, settings: ServerSettings, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.clock = clock
        #: Each key's quota, by fingerprint (an open server's caller is ``anonymous``).
        self.quotas = {key_id(key): settings.quota(key) for key in settings.api_keys}
        self.anonymous = settings.quota(None)
        #: Every key the ledger may hold (what an admin key is shown).
        self.keys = list(self.quotas) or ["anonymous"]
        self._pending: set[asyncio.Task[None]] = set()

    def quota(self, key: str) -> Quota:
        return self.quotas.get(key, self.anonymous)

    @staticmethod
    def _place(key: str, window: Window) -> tuple[str, str]:
        """The key's counters of this month, and the field prefix of this day."""
        return f"quota:{key}:{window.month}", f"d{window.day[-2:]}"

    async def admit(self, key: str) -> bool:
        """Count one request of ``key`` against its quotas, or raise the 429 that says which
        is used up and when it resets. ``False``: the key has no quota (nothing counted)."""
        quota = self.quota(key)
        if not quota.limited:
            return False
        window = windows(self.clock())
        place, day = self._place(key, window)
        limits = {
            name: most
            for name, most in (
                ("req", quota.requests_per_month),
                (f"{day}:req", quota.requests_per_day),
                ("tok", quota.tokens_per_month),
                (f"{day}:tok", quota.tokens_per_day),
            )
            if most
        }
        counts = {place: {"req": 1, f"{day}:req": 1}}
        tally = await self.store.tally(counts, _QUOTA_TTL, {place: limits})
        if not tally.applied:
            raise _refusal(tally, place, day, quota, window)
        return True

    def record(self, record: Record) -> None:
        """The ledger's line of a finished request, written off the response's path."""
        task = asyncio.ensure_future(self._record(record))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _record(self, record: Record) -> None:
        window = windows(self.clock())
        where = _SEPARATOR.join((_clean(record.route), _clean(_target(record))))
        amounts = {"requests": 1, "errors": 1 if record.status >= 400 or record.error else 0}
        usage = record.usage
        if usage is not None:
            amounts |= dict(zip(MEASURES[2:], usage, strict=True))
        counts: dict[str, dict[str, int]] = {
            f"usage:{record.key}:{window.day}": {
                f"{where}{_SEPARATOR}{name}": value for name, value in amounts.items() if value
            }
        }
        if usage is not None and usage[2]:
            place, day = self._place(record.key, window)
            counts[place] = {"tok": usage[2], f"{day}:tok": usage[2]}
        await self.store.tally(counts, LEDGER_DAYS * 86400.0)

    async def drain(self) -> None:
        """Wait for the ledger's lines still being written (at shutdown)."""
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def report(self, keys: list[str], days: int) -> list[dict[str, Any]]:
        """By key: its quota (limits, use, seconds to each reset) and the ledger's lines
        of the last ``days`` UTC days, newest first."""
        now = self.clock()
        dates = [windows(now - 86400.0 * back).day for back in range(days)]
        window = windows(now)
        shown = []
        for key in keys:
            place, day = self._place(key, window)
            found = await self.store.tallies(place, *(f"usage:{key}:{date}" for date in dates))
            lines = [
                row
                for date, fields in zip(dates, found[1:], strict=True)
                for row in _rows(date, fields)
            ]
            quota = _quota_view(self.quota(key), found[0], day, window)
            shown.append({"key": key, "quota": quota, "days": lines})
        return shown


def _target(record: Record) -> str:
    """The target a request is written under: the one that answered, else the last one
    asked (``-`` when none was)."""
    if record.target != "-":
        return record.target
    tried = [target for target, outcome in record.attempts if outcome != "skipped"]
    return tried[-1] if tried else "-"


def _rows(date: str, fields: dict[str, int]) -> list[dict[str, Any]]:
    """A day's counters as one row per route and target."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for name, value in fields.items():
        parts = name.split(_SEPARATOR)
        if len(parts) != 3 or parts[2] not in MEASURES:
            continue
        row = rows.setdefault(
            (parts[0], parts[1]),
            {"date": date, "route": parts[0], "target": parts[1], **dict.fromkeys(MEASURES, 0)},
        )
        row[parts[2]] = value
    return [rows[place] for place in sorted(rows)]


def _quota_view(quota: Quota, used: dict[str, int], day: str, window: Window) -> dict[str, Any]:
    def one(limit: int, field: str, resets: float) -> dict[str, Any]:
        return {"limit": limit or None, "used": used.get(field, 0), "resets_in": round(resets)}

    return {
        "requests_per_day": one(quota.requests_per_day, f"{day}:req", window.day_ends_in),
        "requests_per_month": one(quota.requests_per_month, "req", window.month_ends_in),
        "tokens_per_day": one(quota.tokens_per_day, f"{day}:tok", window.day_ends_in),
        "tokens_per_month": one(quota.tokens_per_month, "tok", window.month_ends_in),
    }


def _refusal(tally: Tally, place: str, day: str, quota: Quota, window: Window) -> Exception:
    """The 429 for a refused count: which quota is used up, and when it resets (the month's
    end when a monthly one is, else the day's)."""
    values = tally.values.get(place, {})
    checks = (
        ("req", quota.requests_per_month, "requests per month", 1),
        ("tok", quota.tokens_per_month, "tokens per month", 0),
        (f"{day}:req", quota.requests_per_day, "requests per day", 1),
        (f"{day}:tok", quota.tokens_per_day, "tokens per day", 0),
    )
    for field, limit, words, amount in checks:
        if limit and exceeds(values.get(field, 0), amount, limit):
            monthly = "month" in words
            wait = window.month_ends_in if monthly else window.day_ends_in
            return quota_exceeded(f"{limit} {words}", wait)
    return quota_exceeded("its quota", window.day_ends_in)
