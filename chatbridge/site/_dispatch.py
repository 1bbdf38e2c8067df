"""Request entry points: front-end pages and ``/wp-admin/admin-ajax.php`` (protocol 4.1)."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from ._aipkit import AIPKIT_ACTIONS, handle_aipkit
from ._call import HTML, Call, read_post
from ._faults import DAMAGING, PHP_WARNING, deliver, inject_fault
from ._lead import LEAD_ACTION, handle_lead
from ._legacy import ACTIONS as LEGACY_ACTIONS
from ._legacy import handle_legacy
from ._pages import render_page
from ._state import SiteState
from ._stats import RecordedRequest

AJAX_PATH = "/wp-admin/admin-ajax.php"


def _page_kind(state: SiteState, path: str) -> str | None:
    chat = state.cfg.chat_path
    if path == chat:
        return "chat"
    if path == "/":
        return "home"
    return None


#: WordPress's answer for a REST route no plugin registered (an AI Engine request, say).
REST_NO_ROUTE = (
    b'{"code":"rest_no_route","message":"No route was found matching the URL and request '
    b'method.","data":{"status":404}}'
)


def rest_request(request: web.Request) -> bool:
    """A request for WordPress's REST API (``/wp-json/…`` or ``?rest_route=``)."""
    return "rest_route" in request.query or request.path.startswith("/wp-json")


async def handle_page(state: SiteState, request: web.Request) -> web.StreamResponse:
    """GET of any front-end URL: home, the chat page, or WordPress's 404 page."""
    stats = state.stats
    stats.requests += 1
    stats.page_fetches += 1
    path = request.path
    record = RecordedRequest(request.method, path, "", dict(request.query), {})
    state.record(record)
    fault, replaced = await inject_fault(state, record, page=True)
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
    return await deliver(request, resp, fault)


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
    fault, replaced = await inject_fault(state, record, page=False)
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
    return await deliver(request, resp, call.fault)
