"""Queueing for a connection is the caller's wait, not the target's slowness.

A target allows so many connections to its host at once (``connections_per_host``); a
request over that waits in the HTTP layer for one to come back. That wait belongs to the
call's own deadline and nothing else: a time-to-first-token limit that ran on through it
would blame the target (a breaker step, a fail-over "too slow") for a queue in this process.
So whoever watches such a limit sets :data:`QUEUEING` to a callback around the await it
guards; the HTTP layer calls it with ``True`` when a request starts waiting for a slot and
with ``False`` when it has one. The two layers share this variable and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

__all__ = ["QUEUEING"]

#: ``callback(True)`` when a request of this context starts waiting for a connection slot,
#: ``callback(False)`` when the wait ends (with a slot or not).
QUEUEING: ContextVar[Callable[[bool], None] | None] = ContextVar(
    "chatbridge_queueing", default=None
)
