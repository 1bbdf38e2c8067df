"""Request entry points: front-end pages and ``/wp-admin/admin-ajax.php`` (protocol 4.1)."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from aiohttp import web

from ._aipkit import AIPKIT_ACTIONS, handle_aipkit
from ._call import HTML, Call, read_post
from ._faults import DAMAGING, PHP_WARNING, REPLACING, replacing_reply
from ._lead import LEAD_ACTION, handle_lead
from ._legacy import ACTIONS as LEGACY_ACTIONS
from ._legacy import handle_legacy
from ._pages import render_page
from ._state import SiteState
from ._stats import RecordedRequest

AJAX_PATH = "/wp-admin/admin-ajax.php"


async def _inject_fault(
    state: SiteState, record: RecordedRequest, *, ajax: bool
) -> tuple[str | None, web.Response | None]:
    """Pick this request's fault (recorded); returns it and the reply that replaces the
    site's own, if the fault is of that kind."""
    fault = state.faults.pick(page=not ajax)
    record.fault = fault
    replaced = await _apply_fault(state, fault, ajax=ajax)
    if replaced is not None:
        record.status = replaced.status
    return fault, replaced


async def _apply_fault(state: SiteState, kind: str | None, *, ajax: bool) -> web.Response | None:
    if kind is None:
        return None
    state.count_fault(kind)
    if kind == "slow":
        await asyncio.sleep(state.cfg.slow_seconds)
        return None
    if kind in REPLACING:
        return replacing_reply(kind, ajax=ajax, count=state.stats.faults_injected)
    return None


async def _deliver(request: web.Request, resp: web.StreamResponse,
                   fault: str | None) -> web.StreamResponse:
    """Send a buffered reply half-way and abort the connection (the ``reset`` fault)."""
    if fault != "reset" or not isinstance(resp, web.Response) or resp.prepared:
        return resp
    body = resp.body if isinstance(resp.body, bytes) else b""
    partial = web.StreamResponse(status=resp.status, headers=resp.headers)
    partial.content_length = len(body)
    await partial.prepare(request)
    await partial.write(body[: len(body) // 2])
    if request.transport is not None:
        request.transport.abort()
    return partial


def _page_kind(state: SiteState, path: str) -> str | None:
    chat = state.cfg.chat_path
    if path == chat:
        return "chat"
    if path == "/":
        return "home"
    return None


async def handle_page(state: SiteState, request: web.Request) -> web.StreamResponse:
    """GET of any front-end URL: home, the chat page, or WordPress's 404 page."""
    stats = state.stats
    stats.requests += 1
    stats.page_fetches += 1
    path = request.path
    record = RecordedRequest(request.method, path, "", dict(request.query), {})
    state.record(record)
    fault, replaced = await _inject_fault(state, record, ajax=False)
    if replaced is not None:
        return replaced
    kind = _page_kind(state, path)
    if kind is None and path + "/" == state.cfg.chat_path:
        record.status = 301
        raise web.HTTPMovedPermanently(location=path + "/")
    status = 200 if kind is not None else 404
    host = request.host
    cache_key = (host, path)
    use_cache = state.cfg.page_cache and not request.query_string
    cached = state.page_cache.get(cache_key) if use_cache else None
    if cached is not None:
        stats.page_cache_hits += 1
        status, body = cached
    else:
        generation = state.generation
        tick = state.clock.tick()
        memo_key = (host, kind or "404", path if kind else "", tick, generation)
        body_or_none = state.page_memo.get(memo_key)
        if body_or_none is None:
            if len(state.page_memo) > 64:
                state.page_memo.clear()
            body_or_none = render_page(
                state.cfg, state.clock, generation=generation, base=f"{request.scheme}://{host}",
                path=path if kind else "/", kind=kind or "404", streams=state.streams,
            )
            state.page_memo[memo_key] = body_or_none
        body = body_or_none
        if use_cache:
            state.cache_page(cache_key, status, body)
    if fault == "php_warning":
        body = PHP_WARNING + body
    elif fault == "truncate":
        body = body[: len(body) // 2]
    record.status = status
    record.content_type = HTML
    resp = web.Response(body=body, status=status, headers={"Content-Type": HTML})
    return await _deliver(request, resp, fault)


def _cors(state: SiteState, request: web.Request) -> tuple[dict[str, str], bool]:
    """``send_origin_headers``: (headers, whether the Origin is foreign)."""
    origin = request.headers.get("Origin")
    if not origin:
        return {}, False
    if urlsplit(origin).netloc == request.host:
        return {"Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Credentials": "true", "Vary": "Origin"}, False
    return {}, True


async def handle_ajax(state: SiteState, request: web.Request) -> web.StreamResponse:
    """``admin-ajax.php``: 400 ``0`` for an empty or unregistered action, else the handler."""
    stats = state.stats
    stats.requests += 1
    stats.ajax_requests += 1
    query = dict(request.query)
    post = await read_post(request)
    # $_REQUEST = $_GET overlaid with $_POST: a POST ``action`` (even empty) wins.
    action = post["action"] if "action" in post else query.get("action", "")
    record = RecordedRequest(request.method, request.path, action, query, post)
    state.record(record)
    cors, foreign = _cors(state, request)
    call = Call(request, query, post, action, record, headers=cors)
    if request.method == "OPTIONS":  # send_origin_headers: only an allowed Origin gets 200
        return call.reply(b"", status=200 if cors else 403)
    fault, replaced = await _inject_fault(state, record, ajax=True)
    if replaced is not None:
        return replaced
    call.fault = fault if fault in DAMAGING else None
    generation = state.generation
    resp: web.StreamResponse
    if action == LEAD_ACTION and generation == "2.2":
        resp = handle_lead(state, call)
    elif action in LEGACY_ACTIONS and generation != "aipkit":
        state.legacy_chats += 1
        resp = await handle_legacy(state, call)
        upgrade_after = state.cfg.upgrade_after
        if upgrade_after is not None and state.legacy_chats >= upgrade_after:
            state.upgrade()
    elif action in AIPKIT_ACTIONS and generation == "aipkit":
        resp = await handle_aipkit(state, call, foreign=foreign)
    else:
        stats.unknown_actions += 1
        resp = call.zero()
    return await _deliver(request, resp, call.fault)
