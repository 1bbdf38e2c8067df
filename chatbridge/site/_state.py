"""The mutable state of one running site (clock, counters, quotas, caches, histories)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from ._base import RecordingState
from ._config import SiteConfig
from ._faults import FaultPlan
from ._history import Turn
from ._nonce import NonceClock
from ._responder import Upstream, estimate_tokens
from ._stats import SiteStats
from ._threads import ThreadStore

_CLIENT_IP_HEADERS = (
    "Client-IP",
    "X-Forwarded-For",
    "X-Forwarded",
    "X-Cluster-Client-IP",
    "Forwarded-For",
    "Forwarded",
)


@dataclass(slots=True)
class CachedMessage:
    """An AIPKit ``aipkit_sse_…`` cache entry."""

    message: str
    expires: float


class SiteState(RecordingState[SiteConfig, SiteStats]):
    """Everything a handler may read or change."""

    def __init__(self, cfg: SiteConfig) -> None:
        super().__init__(cfg, SiteStats())
        self.clock = NonceClock(cfg.secret, cfg.tick_seconds)
        self.faults = FaultPlan(cfg)
        self.token_usage: dict[str, int] = {}
        self.log_id = 0
        self.upgraded = False
        #: Legacy chat requests ever received (drives ``upgrade_after``; not reset with stats).
        self.legacy_chats = 0
        self.aipkit_cache: dict[str, CachedMessage] = {}
        #: Leads sent through ``wpaicg_submit_lead`` (chat_id, name, email, phone).
        self.leads: list[dict[str, str]] = []
        self.aipkit_history: dict[tuple[str, int, str], list[Turn]] = {}
        #: Assistants threads (the ``assistant`` option).
        self.threads = ThreadStore()
        self.session: aiohttp.ClientSession | None = None
        self.upstream = (
            Upstream(cfg.upstream, cfg.upstream_model, cfg.upstream_api_key)
            if cfg.upstream
            else None
        )

    @property
    def generation(self) -> str:
        return "aipkit" if self.upgraded else self.cfg.generation

    @property
    def streams(self) -> bool:
        return self.cfg.streams()

    def introspection(self) -> dict[str, Any]:
        """What ``/__site__/stats`` shows."""
        return {
            "plugin": "ai-power",
            "generation": self.generation,
            "configured_generation": self.cfg.generation,
            "streams": self.streams,
            "tick": self.clock.tick(),
            "clock_offset": self.clock.offset,
            "recorded_requests": len(self.requests),
            **self.stats.as_dict(),
        }

    def next_log_id(self) -> int:
        self.log_id += 1
        return self.log_id

    def charge(self, client_id: str, message: str, answer: str) -> None:
        """Add a success's usage to the guest's token counter (after the answer, as the plugin
        does)."""
        self.token_usage[client_id] = self.token_usage.get(client_id, 0) + estimate_tokens(
            message, answer
        )

    def upgrade(self) -> None:
        """The plugin is updated to 2.3+: pages and caches are rebuilt as AIPKit."""
        self.upgraded = True
        self.page_cache.clear()
        self.page_memo.clear()


def client_ip(request: web.Request) -> str:
    """The plugin's idea of the visitor IP (first non-empty header, else the peer address)."""
    for name in _CLIENT_IP_HEADERS:
        value = request.headers.get(name)
        if value:
            return value.split(",")[0].strip() if name == "X-Forwarded-For" else value.strip()
    return request.remote or ""
