"""Request entry points of the AI Engine site: front-end pages, and the REST API at
``/wp-json/ROUTE`` (pretty permalinks) or ``?rest_route=ROUTE`` (every site)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .._call import JSON, Call, read_post
from .._config import FAULT_KINDS
from .._faults import DAMAGING, deliver, inject_fault
from .._php import wp_json
from .._serving import serve_page
from .._stats import RecordedRequest
from ._markup import render_engine_page
from ._state import EngineState
from ._submit import SESSION_COOKIE, handle_submit, json_error

__all__ = ["handle_engine"]

START_SESSION = "/mwai/v1/start_session"
SUBMIT = "/mwai-ui/v1/chats/submit"
#: Faults each kind of request can get.
_GENERIC = frozenset(FAULT_KINDS)
_FAULTS = {
    START_SESSION: _GENERIC | {"session_down"},
    SUBMIT: _GENERIC | {"bad_nonce", "limit", "thinking", "no_end", "end_differs"},
}
_NO_ROUTE = "No route was found matching the URL and request method."


def _route(state: EngineState, request: web.Request) -> str | None:
    """The REST route a request names, if any."""
    route = request.query.get("rest_route")
    if route is not None:
        return route
    if state.cfg.permalinks == "pretty" and request.path.startswith("/wp-json"):
        return request.path[len("/wp-json") :] or "/"
    return None


async def handle_engine(state: EngineState, request: web.Request) -> web.StreamResponse:
    """Any request but the introspection routes."""
    route = _route(state, request)
    if route is not None:
        return await _rest(state, request, route)
    if request.path == "/wp-admin/admin-ajax.php":  # WordPress core: no such action here
        return web.Response(status=400, text="0")
    if request.method not in ("GET", "HEAD"):
        return web.Response(status=405, text="Method Not Allowed")
    return await _page(state, request)


async def _page(state: EngineState, request: web.Request) -> web.StreamResponse:
    def render(base: str, path: str, kind: str) -> bytes:
        return render_engine_page(state.cfg, base=base, path=path, kind=kind, nonce=state.nonce())

    return await serve_page(state, request, render)


async def _json_body(request: web.Request) -> Any:
    """``get_json_params``: the body as JSON when it says it is JSON, else nothing."""
    if request.method != "POST" or request.content_type != "application/json":
        return None
    raw = await request.read()  # (the application caps the size)
    try:
        return json.loads(raw.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        return None


async def _rest(state: EngineState, request: web.Request, route: str) -> web.StreamResponse:
    stats = state.stats
    stats.requests += 1
    stats.rest_requests += 1
    post = await read_post(request) if request.content_type != "application/json" else {}
    record = RecordedRequest(request.method, request.path, route, dict(request.query), post)
    state.record(record)
    call = Call(request, dict(request.query), post, route, record)
    fault, replaced = await inject_fault(
        state, record, page=False, kinds=_FAULTS.get(route, _GENERIC), rest=True
    )
    if replaced is not None:
        return replaced
    call.fault = fault if fault in DAMAGING or fault in _FAULTS[SUBMIT] else None
    if route == START_SESSION and request.method == "POST" and state.g3:
        response = _start_session(state, call, fault)
    elif route == SUBMIT and request.method == "POST":
        response = await _submit(state, call, request)
    else:
        response = json_error(call, "rest_no_route", _NO_ROUTE, 404)
    return await deliver(request, response, call.fault)


def _start_session(state: EngineState, call: Call, fault: str | None) -> web.StreamResponse:
    if fault == "session_down":
        return json_error(
            call, "internal_server_error", "There has been a critical error on this website.", 500
        )
    state.stats.session_starts += 1
    session = state.new_session()
    call.cookies.extend([("PHPSESSID", session + "php", 0), (SESSION_COOKIE, session, 0)])
    body = {"success": True, "sessionId": session, "restNonce": state.nonce()}
    return call.reply(wp_json(body), content_type=JSON)


async def _submit(state: EngineState, call: Call, request: web.Request) -> web.StreamResponse:
    """WordPress checks the REST nonce before the plugin sees anything."""
    nonce = request.headers.get("X-WP-Nonce")
    if not nonce:
        state.stats.nonce_failures += 1
        return json_error(call, "rest_forbidden", "Sorry, you are not allowed to do that.", 401)
    age = 0 if call.fault == "bad_nonce" else state.clock.verify(nonce, "wp_rest")
    if age == 0:
        state.stats.nonce_failures += 1
        return json_error(call, "rest_cookie_invalid_nonce", "Cookie check failed", 403)
    return await handle_submit(state, call, await _json_body(request), age)
