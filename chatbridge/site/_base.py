"""What every local site's state keeps, whichever plugin it speaks: the recorded requests
(capped), the fault counters and the pages it rendered (a bounded page cache, and a memo
that keeps the hot path cheap)."""

from __future__ import annotations

from typing import Generic, Protocol, TypeVar

from ._config import PAGE_CACHE_ENTRIES
from ._log import note_request
from ._stats import RecordedRequest

__all__ = ["RecordingState"]


class _Config(Protocol):
    @property
    def max_recorded_requests(self) -> int: ...


class _Stats(Protocol):
    faults_injected: int
    faults_by_kind: dict[str, int]


C = TypeVar("C", bound=_Config)
S = TypeVar("S", bound=_Stats)


class RecordingState(Generic[C, S]):
    """Base of a running site's state: its configuration, its counters and the requests
    it saw."""

    def __init__(self, cfg: C, stats: S) -> None:
        self.cfg = cfg
        self.stats = stats
        self.requests: list[RecordedRequest] = []
        #: Page cache: (host, path) -> (status, body) as first rendered.
        self.page_cache: dict[tuple[str, str], tuple[int, bytes]] = {}
        #: Rendered pages per (host, kind, path, tick, generation).
        self.page_memo: dict[tuple[str, str, str, int, str], bytes] = {}

    def record(self, entry: RecordedRequest) -> None:
        self.requests.append(entry)
        note_request(entry)
        cap = self.cfg.max_recorded_requests
        if len(self.requests) > cap:
            del self.requests[: len(self.requests) - cap]

    def count_fault(self, kind: str) -> None:
        self.stats.faults_injected += 1
        self.stats.faults_by_kind[kind] = self.stats.faults_by_kind.get(kind, 0) + 1

    def cache_page(self, key: tuple[str, str], status: int, body: bytes) -> None:
        """Keep a rendered page, dropping the oldest past ``PAGE_CACHE_ENTRIES``."""
        self.page_cache[key] = (status, body)
        while len(self.page_cache) > PAGE_CACHE_ENTRIES:
            del self.page_cache[next(iter(self.page_cache))]
