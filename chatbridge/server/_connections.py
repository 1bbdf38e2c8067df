"""The server's connections: how many may be open, how long one may take to say what it
wants, and what a connection that stops sending is owed.

* **Cap.** At most ``max_connections`` are open. One more closes the least recently active
  connection that has nothing in flight (idle between requests, or still sending its
  headers); when every open connection has a request in flight, the new one is answered
  503 at once and closed. A flood of idle connections therefore costs the server nothing it
  needs: ``/health/live`` and keyed requests keep their answers.
* **Header timeout.** A new connection, and a kept-alive one from the first byte of its
  next request, has ``header_timeout`` seconds to finish the request's headers.
* **Idle timeout.** A kept-alive connection with nothing asked is closed after
  ``idle_timeout`` seconds.
* **Half-close.** A client that shuts its sending side after its request still gets the
  answer. A client that closed entirely looks the same until something is written, so an
  HTTP/1.1 one is sent an interim ``100 Continue`` (clients must accept one), or a stream
  under way an SSE comment: a socket that is gone answers with a reset, and the request is
  cancelled as if the client had left.
* **Out of descriptors.** ``accept`` failing for lack of descriptors closes some idle
  connections, lowers the cap to what is open, and logs one line per interval, not one per
  failed ``accept``.
* **Bad requests.** One access-log line each (the parser's error type, never a byte of the
  request) and OpenAI's error shape.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import HttpVersion11, web
from aiohttp.web_request import BaseRequest

from ._errors import ApiError
from ._logs import Every
from ._record import ACCESS_LOG

__all__ = ["PING", "Book", "Connection", "ConnectionLimits", "Listener"]

log = logging.getLogger("chatbridge.server")
#: Seconds between two log lines about refused connections or missing descriptors.
LOG_EVERY = 10.0
#: When ``accept`` runs out of descriptors, this share of the open connections is closed
#: (idle ones only, least recently active first).
_SHED_SHARE = 0.1
_NO_ROOM = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
_PROBE = b"HTTP/1.1 100 Continue\r\n\r\n"
#: When a half-closed connection is checked for a reset after the probe (seconds apart).
_PROBE_CHECKS = (0.01, 0.02, 0.05, 0.1, 0.25, 0.5)


def _busy_response() -> bytes:
    error = ApiError(503, "the server has too many open connections: try again", "server_error")
    error.code, error.retry_after = "too_many_connections", 1
    body = error.json().encode()
    head = (
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


_BUSY = _busy_response()
#: Set by a handler that streams: writes something its reader ignores (an SSE comment),
#: to probe a half-closed connection once its answer has started.
PING: web.RequestKey[Callable[[], None]] = web.RequestKey("chatbridge.ping")


@dataclass(frozen=True)
class ConnectionLimits:
    most: int
    header_timeout: float
    idle_timeout: float


class Book:
    """Every open connection, least recently active first."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        #: The cap in force: ``limits.most``, or lower once descriptors ran out below it.
        self.most = limits.most
        self.open: dict[Connection, None] = {}
        self.refused = 0
        self.closed_idle = 0
        self.timed_out = 0
        self._refusals = Every(LOG_EVERY)

    def admit(self, connection: Connection) -> bool:
        """Room for one more (an idle connection may be closed for it)?"""
        if len(self.open) >= self.most and not self.shed(1):
            self.refused += 1
            count = self._refusals.due()
            if count is not None:
                log.warning(
                    "%d open connections, each with a request in flight (max_connections): "
                    "%d new connection(s) answered 503",
                    len(self.open),
                    count,
                )
            return False
        self.open[connection] = None
        return True

    def shed(self, count: int) -> int:
        """Close up to ``count`` idle connections, least recently active first."""
        victims = []
        for connection in self.open:
            if connection.idle:
                victims.append(connection)
                if len(victims) >= count:
                    break
        for connection in victims:
            self.drop(connection)
            connection.force_close()
        self.closed_idle += len(victims)
        return len(victims)

    def touch(self, connection: Connection) -> None:
        if connection in self.open:
            del self.open[connection]
            self.open[connection] = None

    def drop(self, connection: Connection) -> None:
        self.open.pop(connection, None)


class Connection(web.RequestHandler):
    """aiohttp's connection handler, with the cap, the header timeout, half-close and
    one-line bad requests. It reads three of its base class's attributes:
    ``_request_count`` (requests parsed), ``_current_request`` and ``transport``."""

    __slots__ = ("_answered", "_book", "_eof", "_header_timer", "_watch")

    def __init__(self, manager: web.Server, book: Book, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._book = book
        self._answered = 0
        self._eof = False
        self._header_timer: asyncio.TimerHandle | None = None
        self._watch: asyncio.Task[None] | None = None

    @property
    def idle(self) -> bool:
        """Nothing to answer: between requests, or still receiving one's headers."""
        return self._request_count == self._answered

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if not self._book.admit(self):
            assert isinstance(transport, asyncio.Transport)
            transport.write(_BUSY)
            self.force_close()
            return
        self._start_header_timer()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self.idle:  # a whole request (the usual case: no timer is made at all)
            if self._header_timer is not None:
                self._stop_header_timer()
            self._book.touch(self)
        elif data and self._header_timer is None:
            self._start_header_timer()  # the first bytes of a request, its headers unfinished

    def eof_received(self) -> bool | None:  # type: ignore[override]  # asyncio's contract
        if self.idle:  # nothing asked, or headers cut short that can never be finished now
            return None
        self._eof = True  # answer what was asked, then close (keep the sending side open)
        if self._watch is None:
            self._watch = asyncio.get_running_loop().create_task(self._half_closed())
        return True

    def connection_lost(self, exc: BaseException | None) -> None:
        self._book.drop(self)
        self._stop_header_timer()
        if self._watch is not None:
            self._watch.cancel()
        super().connection_lost(exc)

    async def finish_response(
        self, request: BaseRequest, resp: web.StreamResponse, start_time: float | None
    ) -> tuple[web.StreamResponse, bool]:
        try:
            return await super().finish_response(request, resp, start_time)
        finally:
            self._answered += 1
            if self._eof and self.idle:
                self.close()  # the client sends nothing more: close once answered

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """A request the parser refused (400) or a failure outside the app (500): one
        access-log line naming the error's type, never its text (it quotes the request)."""
        reason = type(exc).__name__ if exc is not None else "-"
        code = "bad_http_request" if status < 500 else "internal_error"
        ACCESS_LOG.info("- - %d error=%s reason=%s", status, code, reason)
        if request.writer.output_size > 0:
            raise ConnectionError("the response was already started")
        text = "the request is not valid HTTP/1.1" if status < 500 else "internal server error"
        kind = "invalid_request_error" if status < 500 else "server_error"
        error = ApiError(status, text, kind, code)
        response = web.Response(status=status, text=error.json(), content_type="application/json")
        response.force_close()
        return response

    def log_exception(self, *args: Any, **kw: Any) -> None:
        exc = kw.get("exc_info")
        name = type(exc).__name__ if isinstance(exc, BaseException) else "-"
        log.error("connection error (%s)", name)

    def _start_header_timer(self) -> None:
        loop = asyncio.get_running_loop()
        self._header_timer = loop.call_later(self._book.limits.header_timeout, self._too_slow)

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if self.idle and self.transport is not None:
            self._book.timed_out += 1
            self.force_close()

    async def _half_closed(self) -> None:
        """The client shut its sending side with a request unanswered: it waits for the
        answer (``shutdown``), or it is gone (``close``). Probe an HTTP/1.1 client with
        ``100 Continue`` and cancel the request if the socket answers with a reset."""
        await asyncio.sleep(0)  # a request parsed just before the end starts first
        request, transport = self._current_request, self.transport
        if request is None or transport is None:
            return
        if not request.writer.output_size and request.version >= HttpVersion11:
            transport.write(_PROBE)
        elif isinstance(request, web.Request) and PING in request:
            request[PING]()  # a stream under way: a comment line of its own
        else:
            return  # HTTP/1.0 (no interim answer allowed), or an answer being sent: see
        sock = transport.get_extra_info("socket")
        checks = iter(_PROBE_CHECKS)
        while not self.idle and self.transport is not None:
            await asyncio.sleep(next(checks, 1.0))
            if sock is not None and sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                self.transport.abort()  # a reset: the client left; its request is cancelled
                return


class Listener:
    """The listening socket(s) of one app, with a :class:`Book` of its connections."""

    def __init__(self, runner: web.AppRunner, limits: ConnectionLimits) -> None:
        self._runner = runner
        self.book = Book(limits)
        self._server: asyncio.Server | None = None
        self._no_room = Every(LOG_EVERY)
        self._previous_handler: Any = None

    async def start(self, host: str, port: int, *, reuse_port: bool = False) -> tuple[str, int]:
        """Listen; returns the bound host and port."""
        loop = asyncio.get_running_loop()
        manager = self._runner.server
        assert manager is not None, "runner.setup() first"
        idle = self.book.limits.idle_timeout

        def connection() -> Connection:
            return Connection(
                manager, self.book, loop=loop, keepalive_timeout=idle, access_log=None
            )

        self._server = await loop.create_server(
            connection, host, port, backlog=2048, reuse_port=reuse_port or None
        )
        self._previous_handler = loop.get_exception_handler()
        loop.set_exception_handler(self._on_loop_error)
        bound = self._server.sockets[0].getsockname()
        return str(bound[0]), int(bound[1])

    def close(self) -> None:
        """Stop accepting (open connections are left to the runner's shutdown)."""
        if self._server is not None:
            self._server.close()
            loop = asyncio.get_running_loop()
            if loop.get_exception_handler() == self._on_loop_error:
                loop.set_exception_handler(self._previous_handler)

    def _on_loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        if not (
            isinstance(error, OSError)
            and error.errno in _NO_ROOM
            and "accept" in str(context.get("message", ""))
        ):
            if self._previous_handler is not None:
                self._previous_handler(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        # The descriptors ran out below the cap (something else holds them, or the limit
        # was lowered): the cap follows, so every later connection closes an idle one.
        # asyncio pauses accepting for a second; room is made meanwhile. One line a while.
        book = self.book
        closed = book.shed(max(1, int(len(book.open) * _SHED_SHARE)))
        book.most = max(1, min(book.most, len(book.open)))
        count = self._no_room.due()
        if count is not None:
            log.warning(
                "out of file descriptors (%s) %d time(s): %d idle connection(s) closed, "
                "at most %d open from now on",
                error.strerror or error.errno,
                count,
                closed,
                book.most,
            )
