"""What one request did, for the access log and the metrics: route, the target that
answered, status, attempts, time to first token and duration. Never message text or keys."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from ._logs import escape

__all__ = ["ACCESS_LOG", "CANCELLED_BY_CLIENT", "Record", "key_id"]

ACCESS_LOG = logging.getLogger("chatbridge.server.access")
#: The access log's ``error=`` for a request the client left before its end (a stream it
#: stopped after its 200, or a 499 before any answer).
CANCELLED_BY_CLIENT = "cancelled_by_client"


def key_id(key: str) -> str:
    """A key's name in logs, limits, the usage ledger and metrics: a short hash (its
    fingerprint), never the key."""
    return "key-" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:10]


@dataclass
class Record:
    method: str
    path: str
    started: float = field(default_factory=time.perf_counter)
    route: str = "-"
    target: str = "-"
    status: int = 0
    stream: bool = False
    #: Each attempt as ``(target label, outcome)``.
    attempts: list[tuple[str, str]] = field(default_factory=list)
    ttft: float | None = None
    duration: float = 0.0
    #: The API key's short hash (``anonymous`` when the server has no keys).
    key: str = "anonymous"
    error: str = ""
    #: Admitted by a front door (``Usage.admit``): its line goes to the usage ledger.
    counted: bool = False
    #: The tokens the answering target reported: prompt, completion, total.
    usage: tuple[int, int, int] | None = None
    #: The front door that served it (``chat_completions``, ``responses``, ``messages``):
    #: only these requests are counted in the metrics.
    endpoint: str = ""

    def take_usage(self, usage: Any) -> None:
        """Keep a completion's or a chunk's usage (``None``: none reported)."""
        if usage is not None:
            self.usage = (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)

    def first_token(self) -> None:
        if self.ttft is None:
            self.ttft = time.perf_counter() - self.started

    def take_info(self, info: Any) -> None:
        """Copy who answered and every attempt from a ``chatbridge`` field."""
        if info is None:
            return
        self.route = info.route or self.route
        self.target = info.target or self.target
        self.attempts = [(a.target, a.outcome) for a in info.attempts]

    def take_attempts(self, attempts: list[Any]) -> None:
        self.attempts = [
            (getattr(a, "target", "?"), getattr(a, "outcome", "failed")) for a in attempts
        ]

    def line(self) -> str:
        """One line, whatever the caller sent: every field that holds a caller's (or a
        site's) text is escaped and cut (``_logs.escape``)."""
        ttft = f"{self.ttft * 1000:.1f}ms" if self.ttft is not None else "-"
        tried = sum(1 for _, outcome in self.attempts if outcome != "skipped")
        text = (
            f"{escape(self.method, 16, spaces=True)} {escape(self.path, 256, spaces=True)} "
            f"{self.status} "
            f'route="{escape(self.route, 128)}" target="{escape(self.target, 256)}" '
            f"attempts={tried} ttft={ttft} duration={self.duration * 1000:.1f}ms "
            f"stream={'yes' if self.stream else 'no'} key={self.key}"
        )
        return f"{text} error={escape(self.error, 64)}" if self.error else text
