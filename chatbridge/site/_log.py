"""One log line per request, ``METHOD PATH ACTION STATUS MS ms`` (and the injected fault), for
``chatbridge site``. Off (no middleware at all, so no cost) unless a stream is given."""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import TextIO

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from ._stats import RecordedRequest

__all__ = ["note_request", "request_logger"]

#: The requests the site recorded while handling the current one: set by the middleware and
#: filled by :func:`note_request` (a handler runs in its middleware's task and context).
_NOTED: ContextVar[list[RecordedRequest] | None] = ContextVar("site_noted", default=None)


def note_request(record: RecordedRequest) -> None:
    """Let the log line of the request being handled show its action and fault."""
    noted = _NOTED.get()
    if noted is not None:
        noted.append(record)


def log_line(
    method: str, path: str, record: RecordedRequest | None, status: int | str, ms: float
) -> str:
    action = record.action if record is not None and record.action else "-"
    fault = f" fault={record.fault}" if record is not None and record.fault else ""
    return f"{method} {path} {action} {status} {ms:.1f} ms{fault}\n"


def request_logger(stream: TextIO) -> Middleware:
    """An aiohttp middleware writing one line per request to ``stream`` once it is answered
    (for a stream: once it ended; ``aborted`` when the client left first)."""

    @web.middleware
    async def log_request(request: web.Request, handler: Handler) -> web.StreamResponse:
        noted: list[RecordedRequest] = []
        token = _NOTED.set(noted)
        started = time.perf_counter()
        status: int | str = "aborted"
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:  # a redirect or an error page raised by a handler
            status = exc.status
            raise
        except Exception:
            status = 500  # what aiohttp answers for a handler's bug
            raise
        finally:
            _NOTED.reset(token)
            ms = (time.perf_counter() - started) * 1000
            record = noted[0] if noted else None
            stream.write(log_line(request.method, request.path, record, status, ms))

    return log_request
