"""Who may call what. ``/v1/*`` needs one of the API keys (when there are any);
``/v1/usage`` takes an admin key too (which sees every key's usage). The
monitoring endpoints name every target's site and breaker: ``/metrics`` needs a monitoring
key (``monitoring_keys``; without them, an API key), and ``/health/ready`` answers a caller
without one with its status alone (a load balancer's probe keeps working), the targets only
to a monitoring key. ``/health/live`` and the chat page are open. Keys are compared in
constant time, every one of them, and logged only as a short hash. A key is sent as
``Authorization: Bearer KEY`` or, as Anthropic's clients send it, ``x-api-key: KEY``.
:data:`OWNER` is a fingerprint of the key a request presented (what a stored response is
kept under: readable only with the same key), never the key."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

from ..web import OPEN_PATHS as PAGE_PATHS
from ._errors import ApiError
from ._record import key_id
from ._state import RECORD, STATE

__all__ = ["ADMIN", "DETAILS", "OWNER", "USAGE_PATH", "auth", "key_id", "owner"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: Paths open to anyone: they show no secret, no text and no target.
_OPEN_PATHS = frozenset({"/health/live", *PAGE_PATHS})
#: Paths that show the targets (readiness without a key shows its status only).
_MONITOR_PATHS = frozenset({"/metrics", "/health/ready"})
#: Set on a request whose caller may see the targets (``/health/ready``'s details).
DETAILS = web.RequestKey("chatbridge.details", bool)
#: Set on a request made with an admin key (``GET /v1/usage`` shows every key's usage).
ADMIN = web.RequestKey("chatbridge.admin", bool)
#: The path an admin key opens (besides what the API keys open).
USAGE_PATH = "/v1/usage"
#: The fingerprint of the API key the request presented ("" on a server with no keys).
OWNER = web.RequestKey("chatbridge.owner", str)
_REFUSED = (
    "Incorrect or missing API key. Send it as 'Authorization: Bearer KEY' (or 'x-api-key: KEY')."
)


def owner(key: str) -> str:
    """A key's fingerprint for ownership checks: a full SHA-256 (a short hash names a key in
    logs; this one decides who may read what), never the key."""
    digest = hashlib.sha256(b"chatbridge-owner|" + key.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _matched(request: web.Request, keys: Sequence[str]) -> str | None:
    """The key the request presents (``Authorization: Bearer KEY``), if it is one of
    ``keys``. Every key is compared, each in constant time."""
    header = request.headers.get("Authorization")
    if header is None and "x-api-key" in request.headers:
        header = "Bearer " + request.headers["x-api-key"]
    scheme, _, given = (header or "").partition(" ")
    # A header's bytes that are not UTF-8 arrive as surrogates (so may a key read from the
    # environment): both sides are encoded so that any text compares, and a 401 follows.
    presented = given.strip().encode("utf-8", "surrogatepass")
    matched = None
    for key in keys:
        secret = key.encode("utf-8", "surrogatepass")
        if hmac.compare_digest(presented, secret) and scheme.lower() == "bearer":
            matched = key
    return matched


@web.middleware
async def auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    settings = request.app[STATE].settings
    if request.path in _OPEN_PATHS or request.method == "OPTIONS":
        return await handler(request)
    if request.path in _MONITOR_PATHS:
        keys = settings.monitoring_keys or settings.api_keys
        matched = _matched(request, keys) if keys else None
        request[DETAILS] = not keys or matched is not None
        if keys and matched is None and request.path != "/health/ready":
            raise ApiError(401, _REFUSED, code="invalid_api_key")
    else:
        keys = settings.api_keys
        if request.path == USAGE_PATH:
            keys = (*keys, *settings.admin_keys)
        matched = _matched(request, keys) if keys else None
        if keys and matched is None:
            raise ApiError(401, _REFUSED, code="invalid_api_key")
        request[ADMIN] = not keys or matched in settings.admin_keys
    if matched is not None:
        RECORD.get().key = key_id(matched)
        request[OWNER] = owner(matched)
    return await handler(request)
