"""What one provider call brings to the AI Power engine: the shared :class:`Call` with AI
Power's deadlines, and the per-site counters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .._constants import AIPOWER_READ_GAP, AIPOWER_TIMEOUT
from .._http._call import Call

__all__ = ["CallOptions", "ClientStats"]


@dataclass
class ClientStats:
    """What went over the wire for one site (for the demo summary and the benchmarks)."""

    page_fetches: int = 0
    chat_requests: int = 0
    nonce_refreshes: int = 0
    rediscoveries: int = 0
    messages: int = 0


@dataclass
class CallOptions(Call):
    """Per-call options a provider passes through (:class:`Call`), with AI Power's defaults:
    the plugin's own upstream timeout is 200 s and a non-streamed reply sends nothing until
    it is done, hence the long ones."""

    namespace: ClassVar[str] = "aipower"

    timeout: float | None = AIPOWER_TIMEOUT
    read_gap: float | None = AIPOWER_READ_GAP
