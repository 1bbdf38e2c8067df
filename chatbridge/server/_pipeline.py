"""What every front door does with a request it has read, before it calls the client, so
each door (chat completions, and any other dialect) gets the same rules: the key's
per-minute limit, then its quotas (``_usage``). A request admitted here is written to the
usage ledger when it is done (its access-log record, by the ``access`` middleware); a door
keeps the usage the answering target reported on the record (``Record.take_usage``)."""

from __future__ import annotations

from ._errors import ApiError
from ._record import Record
from ._state import State

__all__ = ["admit"]


async def admit(state: State, record: Record) -> None:
    """Let ``record``'s request through, or raise the 429 (``rate_limit_exceeded`` or
    ``insufficient_quota``, with ``Retry-After``) that every door maps to its own shape."""
    settings = state.settings
    wait = await state.limits.take_request(record.key, settings.requests_per_minute)
    if wait is not None:
        raise ApiError(
            429,
            f"rate limit: {settings.requests_per_minute} requests per minute for this key",
            "requests",
            "rate_limit_exceeded",
            retry_after=wait,
        )
    await state.usage.admit(record.key)
    record.counted = True
