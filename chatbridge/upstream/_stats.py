"""What the fake upstream saw: counters and a bounded log of recent requests."""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from ._config import RECENT_REQUESTS

__all__ = ["RequestRecord", "UpstreamStats"]


@dataclass(slots=True)
class RequestRecord:
    """One chat-completion request. The Authorization header's presence is kept, never its
    value."""

    time: float
    kind: str
    model: str
    roles: list[str]
    prefill: bool
    stream: bool
    authorization: bool
    #: The request's fields other than ``model``, ``messages`` and ``stream``.
    options: dict[str, Any]
    #: ``active`` while answering, then ``completed``, ``disconnected`` (the client went
    #: away mid-answer), ``aborted`` (the behaviour cut the connection) or ``rejected`` (a
    #: 4xx for bad input or a missing key, before any behaviour).
    outcome: str = "active"
    status: int = 200

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class UpstreamStats:
    """Counters since start or the last reset (introspection routes not counted)."""

    #: Chat-completion requests received.
    requests: int = 0
    #: Replies sent to the end as scripted (error statuses included).
    completed: int = 0
    #: Replies the client walked away from before their end.
    disconnected: int = 0
    #: Connections the behaviour cut on purpose (``reset``, ``cut_after``).
    aborted: int = 0
    #: Requests refused before any behaviour: bad input, a missing or wrong key.
    rejected: int = 0
    #: Replies in progress, and the most there were at once.
    active: int = 0
    most_active: int = 0
    #: Requests per behaviour kind.
    by_kind: dict[str, int] = field(default_factory=dict)
    #: Requests per model asked (those that passed the input and key checks).
    by_model: dict[str, int] = field(default_factory=dict)
    #: The most recent requests, oldest first.
    recent: deque[RequestRecord] = field(default_factory=lambda: deque(maxlen=RECENT_REQUESTS))

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "completed": self.completed,
            "disconnected": self.disconnected,
            "aborted": self.aborted,
            "rejected": self.rejected,
            "active": self.active,
            "most_active": self.most_active,
            "by_kind": dict(self.by_kind),
            "by_model": dict(self.by_model),
            "recent": [record.as_dict() for record in self.recent],
        }

    def reset(self) -> None:
        """Zero the counters (``active`` keeps counting replies still in progress)."""
        self.requests = self.completed = self.disconnected = self.aborted = self.rejected = 0
        self.most_active = self.active
        self.by_kind.clear()
        self.by_model.clear()
        self.recent.clear()
