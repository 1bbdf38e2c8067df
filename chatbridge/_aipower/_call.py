"""What one provider call brings to the AI Power engine: the shared :class:`Call` with AI
Power's deadlines, and the per-site counters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .._constants import AIPOWER_READ_GAP, AIPOWER_TIMEOUT
from .._http._call import Call, check_timeout

__all__ = ["ClientStats", "_Call", "check_timeout"]


@dataclass
class ClientStats:
    """What went over the wire for one site (for the demo summary and the benchmarks)."""

    page_fetches: int = 0
    chat_requests: int = 0
    nonce_refreshes: int = 0
    rediscoveries: int = 0
    messages: int = 0


@dataclass
class _Call(Call):
    """A call to an AI Power site: the plugin's own upstream timeout is 200 s and a
    non-streamed reply sends nothing until it is done, hence the long defaults."""

    namespace: ClassVar[str] = "aipower"

    timeout: float | None = AIPOWER_TIMEOUT
    read_gap: float | None = AIPOWER_READ_GAP
