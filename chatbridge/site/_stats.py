"""What the site saw: counters and recorded requests, for tests and ``/__site__/stats``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


class Counters:
    """Base of a site's counters (a dataclass of ints and one ``faults_by_kind`` dict)."""

    __slots__ = ()

    def as_dict(self) -> dict[str, Any]:
        return asdict(cast("DataclassInstance", self))

    def reset(self) -> None:
        for f in fields(cast("DataclassInstance", self)):
            setattr(self, f.name, {} if f.name == "faults_by_kind" else 0)


@dataclass(slots=True)
class SiteStats(Counters):
    """Counters since start or the last reset."""

    #: Every HTTP request, introspection routes excluded.
    requests: int = 0
    #: Front-end page GETs (404 pages included).
    page_fetches: int = 0
    #: Requests to ``/wp-admin/admin-ajax.php``.
    ajax_requests: int = 0
    #: Chat turns: legacy chat actions (before the nonce check) and AIPKit stream GETs.
    chat_requests: int = 0
    #: Failed nonce checks (legacy, AIPKit cache step and AIPKit stream).
    nonce_failures: int = 0
    #: Replies sent as ``text/event-stream``.
    stream_requests: int = 0
    #: AIPKit ``aipkit_cache_sse_message`` calls.
    aipkit_cache_requests: int = 0
    #: AIPKit ``aipkit_get_frontend_chat_nonce`` calls.
    nonce_refreshes: int = 0
    #: Answers delivered (local or upstream).
    answers: int = 0
    #: Plugin or upstream error replies (flags, bans, empty message, token limit, API errors).
    errors: int = 0
    #: admin-ajax requests answered 400 ``0``.
    unknown_actions: int = 0
    #: Faults injected.
    faults_injected: int = 0
    #: Pages served from the page cache.
    page_cache_hits: int = 0
    #: History turns the server parsed for the most recent chat request.
    last_history_turns: int = 0
    #: Injected faults by kind.
    faults_by_kind: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class RecordedRequest:
    """One request as the site understood it."""

    method: str
    path: str
    #: ``action`` from the query or the form ("" for pages).
    action: str
    #: Query string parameters (last value wins, as in PHP).
    query: dict[str, str]
    #: Form fields (``$_POST``): empty for GETs, bodies PHP ignores and oversized bodies.
    fields: dict[str, str]
    #: Reply status (stream replies: 200).
    status: int = 0
    #: Injected fault, if any.
    fault: str | None = None
    #: History turns the server parsed (chat requests only).
    history_turns: int | None = None
    #: Content type of the reply.
    content_type: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
