"""The middlewares, outermost first: the access log line and metrics (one per request), CORS
(off unless origins are listed; error responses get its headers too), errors (every failure
in OpenAI's shape), then keys (``_auth``)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from ._auth import auth
from ._dialects import ENDPOINTS, error_text
from ._errors import ApiError, from_exception
from ._logs import escape
from ._record import ACCESS_LOG, CANCELLED_BY_CLIENT, Record
from ._state import RECORD, STATE, State

__all__ = ["MIDDLEWARES"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
log = logging.getLogger("chatbridge.server")
_SHUTDOWN = ApiError(
    503, "the server is shutting down", "server_error", "server_shutdown", retry_after=1
)


def _error_response(error: ApiError, request: web.Request | None = None) -> web.Response:
    """The error as the request's dialect shapes it (OpenAI's, or Anthropic's on its door)."""
    return web.Response(
        status=error.status,
        text=error_text(request, error) if request is not None else error.json(),
        content_type="application/json",
        headers=error.all_headers(),
    )


def _from_http(error: web.HTTPException, max_body: int) -> ApiError:
    if isinstance(error, web.HTTPRequestEntityTooLarge):
        return ApiError(
            413,
            f"the request body is too large: at most {max_body:,} bytes are accepted "
            "(the server's max_body_bytes setting, in the [server] table)",
            code="request_too_large",
        )
    if isinstance(error, web.HTTPNotFound):
        return ApiError(404, "no such endpoint", code="unknown_url")
    if isinstance(error, web.HTTPMethodNotAllowed):
        return ApiError(405, f"method {error.method} not allowed here", code="method_not_allowed")
    return ApiError(error.status, error.reason or "request failed")


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = request.app[STATE]
    record = RECORD.get()
    task = asyncio.current_task()
    if task is not None:
        state.tasks.add(task)
    try:
        response = await handler(request)
        record.status = record.status or response.status
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        api = _from_http(exc, state.settings.max_body_bytes)
    except asyncio.CancelledError:
        if not state.draining or task is None or record.status:
            record.status = record.status or 499  # the client left
            record.error = record.error or CANCELLED_BY_CLIENT
            raise
        task.uncancel()  # shutdown ran out of grace: answer 503 rather than drop the socket
        api = _SHUTDOWN
    except Exception as exc:
        api = from_exception(exc)
        if api.status == 500:  # a bug: one line, the traceback only when debugging
            log.error(
                "internal error on %s: %s: %s",
                escape(request.path, 256),
                type(exc).__name__,
                escape(exc, 300),
                exc_info=exc if log.isEnabledFor(logging.DEBUG) else None,
            )
        attempts = getattr(exc, "attempts", None)
        if isinstance(attempts, list):
            record.take_attempts(attempts)
    finally:
        record.duration = time.perf_counter() - record.started
        if task is not None:
            state.tasks.discard(task)
    record.status, record.error = api.status, api.code or api.type
    return _error_response(api, request)


def _finish(record: Record, state: State) -> None:
    if record.endpoint:
        state.metrics.observe(record)
    if record.counted:  # a request a front door admitted: a line of the usage ledger
        state.usage.record(record)
    ACCESS_LOG.info("%s", record.line())


@web.middleware
async def access(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost: the one access-log line and the metrics, once the response is done."""
    record = Record(request.method, request.path)
    record.endpoint = ENDPOINTS.get(request.path, "")
    RECORD.set(record)
    try:
        response = await handler(request)
        record.status = record.status or response.status
        return response
    finally:
        record.duration = time.perf_counter() - record.started
        _finish(record, request.app[STATE])


def _allowed_origin(origins: tuple[str, ...], origin: str) -> str | None:
    if "*" in origins:
        return "*"
    return origin if origin in origins else None


_BASE_HEADERS = (
    "Authorization, Content-Type, OpenAI-Organization, OpenAI-Project, X-Api-Key, Anthropic-Version"
)
#: A header name a preflight may ask for (an HTTP token), and at most this many of them.
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}")
_MAX_REQUESTED_HEADERS = 32
#: Where the cors middleware leaves the allowed origin for ``add_cors_headers``.
_CORS_ORIGIN = web.RequestKey("chatbridge.cors_origin", str)


def _allowed_headers(requested: str | None) -> str:
    """The preflight's answer: the headers asked for, when each is a plain header name (the
    OpenAI SDKs send their own, ``X-Stainless-OS`` and the like; browsers do not expand
    wildcards), else the base list."""
    if not requested:
        return _BASE_HEADERS
    names = [name.strip() for name in requested.split(",") if name.strip()]
    if len(names) > _MAX_REQUESTED_HEADERS or not all(_HEADER_NAME.fullmatch(n) for n in names):
        return _BASE_HEADERS
    return ", ".join(dict.fromkeys([*_BASE_HEADERS.split(", "), *names]))


@web.middleware
async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
    origins = request.app[STATE].settings.cors_origins
    origin = request.headers.get("Origin")
    if not origins or origin is None:
        return await handler(request)
    allowed = _allowed_origin(origins, origin)
    preflight = request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers
    if preflight:
        if allowed is None:
            return _error_response(ApiError(403, "origin not allowed", code="origin_not_allowed"))
        return web.Response(
            status=204,
            headers={
                "Access-Control-Allow-Origin": allowed,
                "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                "Access-Control-Allow-Headers": _allowed_headers(
                    request.headers.get("Access-Control-Request-Headers")
                ),
                "Access-Control-Max-Age": "600",
                "Vary": "Origin",
            },
        )
    request[_CORS_ORIGIN] = allowed or ""  # every answer varies by Origin
    return await handler(request)


async def add_cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: the CORS headers go out with every response to an allowed
    origin, streamed ones too (their headers are sent inside the handler)."""
    allowed = request.get(_CORS_ORIGIN)
    if allowed is None:
        return
    if "Origin" not in response.headers.getall("Vary", []):
        response.headers.add("Vary", "Origin")
    if allowed:
        response.headers["Access-Control-Allow-Origin"] = allowed
        response.headers["Access-Control-Expose-Headers"] = "Retry-After"


MIDDLEWARES = (access, cors, errors, auth)
