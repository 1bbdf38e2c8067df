"""What one provider call brings to the AI Engine engine, and what went over the wire."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .._constants import AIENGINE_MAX_LINE_BYTES, AIENGINE_READ_GAP, AIENGINE_TIMEOUT
from .._http._call import Call

__all__ = ["EngineCall", "SiteStats"]


@dataclass
class EngineCall(Call):
    """A call to an AI Engine site. Its ``end`` frame holds the whole answer on one line, so
    a line may be as long as a reply may be."""

    namespace: ClassVar[str] = "aiengine"
    max_line_bytes: ClassVar[int] = AIENGINE_MAX_LINE_BYTES

    timeout: float | None = AIENGINE_TIMEOUT
    read_gap: float | None = AIENGINE_READ_GAP


@dataclass
class SiteStats:
    """What went over the wire for one site (for ``/metrics``, ``check`` and the benchmarks)."""

    page_fetches: int = 0
    #: ``start_session`` calls (G3's way to a nonce).
    session_starts: int = 0
    chat_requests: int = 0
    #: Nonces fetched again after one was refused or grew old (``start_session`` or a page).
    nonce_refreshes: int = 0
    #: Fresh nonces the site handed over in a reply (``new_token``) and that were adopted.
    new_tokens: int = 0
    rediscoveries: int = 0
    messages: int = 0
