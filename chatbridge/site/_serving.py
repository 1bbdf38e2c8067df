"""A GET of any front-end URL, whichever plugin the site speaks: the home page, the chat
page, or WordPress's 404 page, through the page cache (when the site has one: the same page
for every visitor until a query string gets past it) and the page faults."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from aiohttp import web

from ._call import HTML
from ._faults import PHP_WARNING, FaultedState, deliver, inject_fault
from ._nonce import NonceClock
from ._stats import RecordedRequest

__all__ = ["serve_page"]


class PageState(FaultedState, Protocol):
    """What serving a page needs of a running site's state (``_base.RecordingState`` and a
    clock: pages change with the nonce tick)."""

    clock: NonceClock
    page_cache: dict[tuple[str, str], tuple[int, bytes]]
    page_memo: dict[tuple[str, str, str, int, str], bytes]

    @property
    def generation(self) -> str: ...

    def record(self, entry: RecordedRequest) -> None: ...

    def cache_page(self, key: tuple[str, str], status: int, body: bytes) -> None: ...

#: Renders a page: ``(base URL, path, kind)``, kind ``"home"``, ``"chat"`` or ``"404"``.
Render = Callable[[str, str, str], bytes]


def _page_kind(chat_path: str, path: str) -> str | None:
    if path == chat_path:
        return "chat"
    return "home" if path == "/" else None


async def serve_page(state: PageState, request: web.Request, render: Render) -> web.StreamResponse:
    stats = state.stats
    stats.requests += 1
    stats.page_fetches += 1
    path = request.path
    record = RecordedRequest(request.method, path, "", dict(request.query), {})
    state.record(record)
    fault, replaced = await inject_fault(state, record, page=True)
    if replaced is not None:
        return replaced
    kind = _page_kind(state.cfg.chat_path, path)
    if kind is None and path + "/" == state.cfg.chat_path:
        record.status = 301
        raise web.HTTPMovedPermanently(location=path + "/")
    status = 200 if kind is not None else 404
    cache_key = (request.host, path)
    use_cache = state.cfg.page_cache and not request.query_string
    cached = state.page_cache.get(cache_key) if use_cache else None
    if cached is not None:
        stats.page_cache_hits += 1
        status, body = cached
    else:
        body = _rendered(state, request, kind, render)
        if use_cache:
            state.cache_page(cache_key, status, body)
    if fault == "php_warning":
        body = PHP_WARNING + body
    elif fault == "truncate":
        body = body[: len(body) // 2]
    record.status = status
    record.content_type = HTML
    response = web.Response(body=body, status=status, headers={"Content-Type": HTML})
    return await deliver(request, response, fault)


def _rendered(state: PageState, request: web.Request, kind: str | None, render: Render) -> bytes:
    host, path = request.host, request.path
    memo_key = (host, kind or "404", path if kind else "", state.clock.tick(), state.generation)
    body = state.page_memo.get(memo_key)
    if body is None:
        if len(state.page_memo) > 64:
            state.page_memo.clear()
        body = render(f"{request.scheme}://{host}", path if kind else "/", kind or "404")
        state.page_memo[memo_key] = body
    return body
