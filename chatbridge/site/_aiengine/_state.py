"""The mutable state of one running AI Engine site: clock, counters, sessions, discussions."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from .._base import RecordingState
from .._faults import FaultPlan
from .._nonce import NonceClock
from .._stats import Counters
from ._config import AIEngineSiteConfig

__all__ = ["REST_NONCE_ACTION", "EngineState", "EngineStats"]

#: WordPress's REST nonce action (``wp_create_nonce('wp_rest')``).
REST_NONCE_ACTION = "wp_rest"


@dataclass(slots=True)
class EngineStats(Counters):
    """Counters since start or the last reset."""

    #: Every HTTP request, introspection routes excluded.
    requests: int = 0
    #: Front-end page GETs (404 pages included).
    page_fetches: int = 0
    #: Requests to a REST route (``/wp-json/…`` or ``?rest_route=``).
    rest_requests: int = 0
    #: ``start_session`` calls answered with a nonce.
    session_starts: int = 0
    #: Chat submits (before the nonce check).
    chat_requests: int = 0
    #: Submits refused for their nonce (missing, bad or expired).
    nonce_failures: int = 0
    #: Replies that handed over a fresh nonce (``new_token``).
    new_tokens: int = 0
    #: Visitor sessions started (``mwai_session_id`` cookies set by a submit).
    sessions: int = 0
    #: Replies sent as ``text/event-stream``.
    stream_requests: int = 0
    #: Answers delivered.
    answers: int = 0
    #: Refusals and model errors (error frames and ``success: false`` replies).
    errors: int = 0
    faults_injected: int = 0
    page_cache_hits: int = 0
    #: User and assistant turns the model saw before the newest message, last chat.
    last_history_turns: int = 0
    faults_by_kind: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class Discussion:
    """What the Discussions module keeps of a ``chatId``: the turns the model saw."""

    turns: list[tuple[str, str]]
    response_id: str


class EngineState(RecordingState[AIEngineSiteConfig, EngineStats]):
    """Everything a handler may read or change."""

    def __init__(self, cfg: AIEngineSiteConfig) -> None:
        super().__init__(cfg, EngineStats())
        self.clock = NonceClock(cfg.secret, cfg.tick_seconds)
        self.faults = FaultPlan(cfg)
        #: Messages answered per visitor session (the Pro limits count them).
        self.session_messages: dict[str, int] = {}
        self.discussions: dict[str, Discussion] = {}

    @property
    def generation(self) -> str:
        return self.cfg.generation

    @property
    def g3(self) -> bool:
        return self.cfg.generation == "3.6"

    def nonce(self) -> str:
        return self.clock.create(REST_NONCE_ACTION)

    def new_session(self) -> str:
        """A visitor session id (``uniqid()``: 13 hex characters)."""
        self.stats.sessions += 1
        return secrets.token_hex(7)[:13]

    def introspection(self) -> dict[str, Any]:
        """What ``/__site__/stats`` shows."""
        return {
            "plugin": "ai-engine",
            "generation": self.generation,
            "configured_generation": self.cfg.generation,
            "tick": self.clock.tick(),
            "clock_offset": self.clock.offset,
            "recorded_requests": len(self.requests),
            **self.stats.as_dict(),
        }
