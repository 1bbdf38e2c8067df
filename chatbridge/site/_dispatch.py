"""Request entry points: front-end pages and ``/wp-admin/admin-ajax.php``
(docs/protocol-ai-power.md, "admin-ajax")."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from ._aipkit import AIPKIT_ACTIONS, handle_aipkit
from ._call import Call, read_post
from ._faults import DAMAGING, deliver, inject_fault
from ._lead import LEAD_ACTION, handle_lead
from ._legacy import ACTIONS as LEGACY_ACTIONS
from ._legacy import handle_legacy
from ._pages import render_page
from ._serving import serve_page
from ._state import SiteState
from ._stats import RecordedRequest

AJAX_PATH = "/wp-admin/admin-ajax.php"


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

    def render(base: str, path: str, kind: str) -> bytes:
        return render_page(
            state.cfg, state.clock, generation=state.generation, base=base, path=path,
            kind=kind, streams=state.streams,
        )

    return await serve_page(state, request, render)


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
