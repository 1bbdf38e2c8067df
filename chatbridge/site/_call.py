"""One admin-ajax call: the parsed input, and the two ways out (a buffered reply or a stream),
both of which apply the damaging faults (PHP warning, truncation, connection reset)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from ._config import POST_MAX_SIZE
from ._faults import PHP_WARNING
from ._php import wp_json
from ._stats import RecordedRequest

#: Headers ``wp-admin/admin-ajax.php`` sends before dispatch (WordPress 6.1).
AJAX_HEADERS = {
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
    "Expires": "Wed, 11 Jan 1984 05:00:00 GMT",
    "Cache-Control": "no-cache, must-revalidate, max-age=0",
}
HTML = "text/html; charset=UTF-8"
JSON = "application/json; charset=UTF-8"
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
#: Writes after which a truncated or reset stream stops.
CUT_AFTER_WRITES = 3


class StreamCut(Exception):
    """Raised inside a stream handler when a fault (or the client) ended the stream."""


async def cut_response(call: Call) -> web.StreamResponse:
    """What a handler returns after :class:`StreamCut`: the stream, ended if still open."""
    if call.stream is None:
        return web.Response(status=499)
    return await call.stream.finish()


async def read_post(request: web.Request) -> dict[str, str]:
    """``$_POST``: urlencoded or multipart bodies; anything else, or too big, is empty."""
    if request.method != "POST":
        return {}
    ctype = request.content_type
    length = request.content_length
    if ctype == "multipart/form-data" and (length is None or length <= POST_MAX_SIZE):
        try:
            form = await request.post()
        # A malformed multipart body becomes an empty $_POST, as in PHP; the fake site must
        # never answer 500 because of its input.
        except Exception:
            return {}
        return {k: v for k, v in form.items() if isinstance(v, str)}
    body = await _read_capped(request)
    # PHP fills $_POST only for these two types; aiohttp reports a missing Content-Type as
    # application/octet-stream, which PHP leaves alone too.
    if not body or ctype != "application/x-www-form-urlencoded":
        return {}
    text = body.decode("utf-8", "surrogateescape")
    return dict(parse_qsl(text, keep_blank_values=True, errors="surrogateescape"))


async def _read_capped(request: web.Request) -> bytes:
    """The body, or ``b""`` past ``post_max_size`` (read to the end all the same, as PHP does,
    so the connection stays usable)."""
    if request.content_length is not None and request.content_length <= POST_MAX_SIZE:
        return await request.read()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size <= POST_MAX_SIZE:
            chunks.append(chunk)
        else:
            chunks.clear()
    return b"".join(chunks) if size <= POST_MAX_SIZE else b""


@dataclass(slots=True)
class Call:
    """An admin-ajax request as the PHP side sees it."""

    request: web.Request
    query: dict[str, str]
    post: dict[str, str]
    action: str
    record: RecordedRequest
    fault: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    cookies: list[tuple[str, str, int]] = field(default_factory=list)
    #: The stream reply, once the handler chose to stream.
    stream: EventStream | None = None

    def reply(self, body: bytes, *, status: int = 200, content_type: str = HTML) -> web.Response:
        """A buffered reply with the admin-ajax headers, cookies and damaging faults."""
        if self.fault == "php_warning":
            body = PHP_WARNING + body
            content_type = HTML  # headers were already sent by the warning
        if self.fault == "truncate":
            body = body[: max(len(body) // 2, 1)]
        headers = dict(AJAX_HEADERS)
        headers.update(self.headers)
        headers["Content-Type"] = content_type
        resp = web.Response(body=body, status=status, headers=headers)
        for name, value, max_age in self.cookies:
            resp.set_cookie(name, value, max_age=max_age, path="/", httponly=False)
        self.record.status = status
        self.record.content_type = content_type
        return resp

    def json(self, value: Any, *, status: int = 200) -> web.Response:
        """``wp_send_json``."""
        return self.reply(wp_json(value), status=status, content_type=JSON)

    def zero(self) -> web.Response:
        """admin-ajax's ``wp_die('0', 400)``."""
        return self.reply(b"0", status=400)


class EventStream:
    """A ``text/event-stream`` reply written piece by piece."""

    def __init__(self, call: Call, *, extra_headers: dict[str, str] | None = None) -> None:
        self._call = call
        headers = dict(AJAX_HEADERS)
        headers.update(SSE_HEADERS)
        headers.update(call.headers)
        if extra_headers:
            headers.update(extra_headers)
        headers["Content-Type"] = "text/event-stream"
        if call.fault == "php_warning":
            headers["Content-Type"] = HTML
        self.response = web.StreamResponse(status=200, headers=headers)
        self._writes = 0
        self.started = False

    async def start(self) -> None:
        if self.started:
            return
        self.started = True
        call = self._call
        for name, value, max_age in call.cookies:
            self.response.set_cookie(name, value, max_age=max_age, path="/")
        call.record.status = 200
        call.record.content_type = self.response.headers["Content-Type"]
        await self.response.prepare(call.request)
        if call.fault == "php_warning":
            await self.response.write(PHP_WARNING)

    async def send(self, data: bytes) -> None:
        """Write one piece; raises :class:`StreamCut` when a fault or the client ends it."""
        await self.start()
        fault = self._call.fault
        if fault in ("truncate", "reset") and self._writes >= CUT_AFTER_WRITES:
            if fault == "reset":
                transport = self._call.request.transport
                if transport is not None:
                    transport.abort()
            raise StreamCut(fault)
        self._writes += 1
        try:
            await self.response.write(data)
        except ConnectionError as exc:
            raise StreamCut("client gone") from exc

    async def finish(self) -> web.StreamResponse:
        await self.start()
        transport = self._call.request.transport
        if transport is not None and not transport.is_closing():
            with contextlib.suppress(ConnectionError):
                await self.response.write_eof()
        return self.response
