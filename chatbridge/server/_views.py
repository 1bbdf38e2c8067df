"""The small endpoints: models, liveness, readiness, metrics, and ``HEAD /``.

The model list says, per route and per target, which take tools (``chatbridge.tools``: a
route takes a request with tools when any of its targets does; each target's mode is
``native``, ``emulate`` or ``none``). To a caller that sends ``anthropic-version`` (the
``anthropic`` SDK, Claude Code) the list and a model are in Anthropic's shape."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from ._auth import ADMIN, DETAILS
from ._dialects import speaks_anthropic
from ._errors import ApiError
from ._metrics import CONTENT_TYPE
from ._state import RECORD, STATE, State
from ._usage import LEDGER_DAYS

__all__ = ["head", "live", "metrics", "model", "models", "ready", "usage"]


def _model(state: State, name: str, anthropic: bool = False) -> dict[str, Any]:
    route = state.client.routes.get(name)
    targets = [
        {
            "target": t.label,
            "provider": t.provider.get_name(),
            "model": t.model,
            "tools": t.tool_mode,
        }
        for t in (route.targets if route else ())
    ]
    # The built-in route (no routes configured) is the local AI Power site: no tools.
    tools = any(t.takes_tools for t in route.targets) if route else False
    extension = {"tools": tools, "targets": targets}
    if anthropic:
        created = datetime.fromtimestamp(state.started, UTC).isoformat().replace("+00:00", "Z")
        return {
            "type": "model",
            "id": name,
            "display_name": name,
            "created_at": created,
            "chatbridge": extension,
        }
    return {
        "id": name,
        "object": "model",
        "created": state.started,
        "owned_by": "chatbridge",
        "chatbridge": extension,
    }


async def models(request: web.Request) -> web.Response:
    state = request.app[STATE]
    anthropic = speaks_anthropic(request)
    data = [_model(state, name, anthropic) for name in state.client.route_names()]
    if anthropic:
        first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
        body = {"data": data, "has_more": False, "first_id": first, "last_id": last}
        return web.json_response(body)
    return web.json_response({"object": "list", "data": data})


async def model(request: web.Request) -> web.Response:
    state = request.app[STATE]
    name = request.match_info["model"]
    if name not in state.client.route_names():
        known = ", ".join(state.client.route_names()) or "none"
        raise ApiError(
            404, f"The model {name!r} does not exist (routes: {known})", code="model_not_found",
            param="model",
        )  # fmt: skip
    return web.json_response(_model(state, name, speaks_anthropic(request)))


async def head(request: web.Request) -> web.Response:
    """``/`` with the chat page off: a client's reachability check (``HEAD /``, which Claude
    Code sends at start-up) gets a 200, not a 404; any other method there is the 404 of a
    path that is not served."""
    if request.method != "HEAD":
        raise web.HTTPNotFound()
    return web.Response()


async def live(request: web.Request) -> web.Response:
    return web.json_response({"status": "live"})


async def ready(request: web.Request) -> web.Response:
    """Ready (200) while some route has a target whose breaker is not open, so a load
    balancer keeps a server that can still answer: "ready" when every route can, "degraded"
    when only some can; 503 "unavailable" when none can. The body lists every target's
    breaker (labels only, no secrets) and which routes can answer, to a caller that may see
    them (``_auth``); to anyone else, the status alone."""
    health = await request.app[STATE].client.ahealth()
    routes = {
        name: any(snapshot.get("state") != "open" for snapshot in targets.values())
        for name, targets in health.items()
    }
    if all(routes.values()):
        status = "ready"
    elif any(routes.values()):
        status = "degraded"
    else:
        status = "unavailable"
    code = 503 if status == "unavailable" else 200
    if not request.get(DETAILS, False):  # a caller without a monitoring key: the status only
        return web.json_response({"status": status}, status=code)
    body = {"status": status, "answering": routes, "routes": health}
    return web.json_response(body, status=code)


async def metrics(request: web.Request) -> web.Response:
    body = request.app[STATE].metrics.render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


async def usage(request: web.Request) -> web.Response:
    """``GET /v1/usage[?days=N][&key=key-…]``: a key's quotas and its ledger (requests,
    errors and reported tokens by UTC day, route and target) over the last ``days`` days
    (default 31); an admin key sees every key, or the one ``key`` names. Keys are shown as
    their fingerprints only."""
    state = request.app[STATE]
    raw = request.query.get("days", "31")
    if not raw.isdigit() or not 1 <= int(raw) <= LEDGER_DAYS:
        raise ApiError(400, f"days must be a whole number from 1 to {LEDGER_DAYS}", param="days")
    wanted = request.query.get("key")
    own = RECORD.get().key
    if request.get(ADMIN, False):
        keys = state.usage.keys if wanted is None else [wanted]
        if wanted is not None and wanted not in state.usage.keys:
            raise ApiError(404, "no such key", code="unknown_key", param="key")
    elif wanted is not None and wanted != own:
        raise ApiError(403, "a key sees only its own usage", code="not_admin", param="key")
    else:
        keys = [own]
    shown = await state.usage.report(keys, int(raw))
    return web.json_response({"object": "usage", "days": int(raw), "keys": shown})
