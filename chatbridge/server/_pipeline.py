"""One pipeline behind every front door (``/v1/chat/completions``, ``/v1/responses``,
``/v1/messages``): the body cap, the per-key limits and quotas (:func:`admit`), a site the
request names (with the SSRF guard), the concurrent-streams slot, one call of the client,
disconnect cancellation, the drain on SIGTERM, and what the access log, the metrics and the
usage ledger get. A door (``_dialects``) only reads its request into a
:class:`~._request.ChatRequest` and renders the answer: a whole body, or the events of a
stream.

Streaming: the first chunk is awaited before anything is sent, so a failure up to then is an
HTTP status (the route fails over invisibly until then). After it the door's events go out;
its end only after the finish; a failure sends the door's one in-band error event and
closes. A client that leaves cancels the handler (the app runs with handler cancellation),
and the upstream attempt is closed in ``finally``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web

from .._client._client import AsyncChatStream, AsyncClient
from .._client._models import ChatCompletion, ChatCompletionChunk
from .._http._guard import no_inward_addresses
from ._connections import PING
from ._errors import ApiError, from_exception
from ._record import CANCELLED_BY_CLIENT, Record
from ._request import ChatRequest
from ._sites import check_site
from ._sse import EventWriter
from ._state import RECORD, STATE, State

__all__ = ["SSE_HEADERS", "Door", "Events", "Exchange", "admit", "handler", "serve_door"]

SSE_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
}
_SHUTDOWN = ApiError(503, "the server is shutting down", "server_error", "server_shutdown")


class Events(Protocol):
    """How a door renders one stream: bytes for the first chunk (with whatever opens the
    stream), for each later chunk, for its end, and for the error that ends it early."""

    def start(self, first: ChatCompletionChunk) -> bytes: ...

    def chunk(self, chunk: ChatCompletionChunk) -> bytes: ...

    async def end(self) -> bytes: ...

    def error(self, error: ApiError) -> bytes: ...


class Exchange(Protocol):
    """A request as a door read it: the client call it asks for, and how to answer it."""

    call: ChatRequest

    async def whole(self, completion: ChatCompletion) -> bytes: ...

    def events(self) -> Events: ...


class Door(Protocol):
    #: The endpoint's name in the metrics (``endpoint`` label) and the access log.
    endpoint: str

    def read(self, request: web.Request, body: bytes, state: State) -> Awaitable[Exchange]: ...


def handler(door: Door) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The aiohttp handler of ``door``."""

    async def handle(request: web.Request) -> web.StreamResponse:
        return await serve_door(request, door)

    return handle


async def serve_door(request: web.Request, door: Door) -> web.StreamResponse:
    state = request.app[STATE]
    record = RECORD.get()
    length = request.content_length
    if length is not None and length > state.settings.max_body_bytes:
        raise web.HTTPRequestEntityTooLarge(state.settings.max_body_bytes, length)
    exchange = await door.read(request, await request.read(), state)
    chat = exchange.call
    record.route, record.stream = chat.model or "-", chat.stream
    await admit(state, record)
    if not chat.site:
        return await _answer(request, state, state.client, exchange, record)
    client = await _site_client(state, chat)
    try:
        if state.settings.allow_private_sites:
            return await _answer(request, state, client, exchange, record)
        with no_inward_addresses():  # every connection of this call: its address is checked
            return await _answer(request, state, client, exchange, record)
    finally:
        await client.aclose()


async def _site_client(state: State, request: ChatRequest) -> AsyncClient:
    """A one-call client for a site named in the request (when the config allows it)."""
    settings = state.settings
    url = await check_site(
        request.site.get("site_url"),
        allowed=settings.allow_site_url,
        private_allowed=settings.allow_private_sites,
    )
    options: dict[str, Any] = {"site_url": url}
    page = request.site.get("chat_page")
    if page is not None:
        if not isinstance(page, str) or not page.startswith("/") or page.startswith("//"):
            raise ApiError(400, "chat_page must be a path starting with '/'", param="chat_page")
        options["chat_page"] = page
    bot = request.site.get("bot_id")
    if bot is not None:
        if isinstance(bot, bool) or not isinstance(bot, int | str):
            raise ApiError(400, "bot_id must be a number or a string", param="bot_id")
        options["bot_id"] = bot
    if settings.endpoint_origins:
        options["endpoint_origins"] = settings.endpoint_origins
    # AI Power or AI Engine: the site's page says which.
    return AsyncClient(provider="AnySite", policy=state.client.policy, **options)


async def admit(state: State, record: Record) -> None:
    """Let ``record``'s request through, or raise the 429 (``rate_limit_exceeded`` or
    ``insufficient_quota``, with ``Retry-After``) that every door shapes its own way: the
    key's per-minute limit, then its quotas (``_usage``). A request admitted here is
    written to the usage ledger when it is done (``record.counted``)."""
    settings = state.settings
    wait = await state.limits.take_request(record.key, settings.requests_per_minute)
    if wait is not None:
        raise ApiError(
            429,
            f"rate limit: {settings.requests_per_minute} requests per minute for this key",
            "requests",
            "rate_limit_exceeded",
            retry_after=wait,
        )
    await state.usage.admit(record.key)
    record.counted = True


async def _answer(
    request: web.Request,
    state: State,
    client: AsyncClient,
    exchange: Exchange,
    record: Record,
) -> web.StreamResponse:
    if not exchange.call.stream:
        return await _whole(client, exchange, record)
    key = record.key
    if not await state.limits.open_stream(key, state.settings.concurrent_streams):
        raise ApiError(
            429,
            f"too many concurrent streams for this key (at most "
            f"{state.settings.concurrent_streams})",
            "requests",
            "concurrent_streams_exceeded",
            retry_after=1,
        )
    try:
        return await _stream(request, state, client, exchange, record)
    finally:
        await state.limits.close_stream(key)


def _create(client: AsyncClient, chat: ChatRequest, stream: bool) -> Any:
    """The client call ``chat`` asks for: a coroutine of the completion, or the stream."""
    # (usage is always asked for: the ledger and the token quotas count it; a door that
    # was not asked for it does not send it on)
    extra: dict[str, Any] = {"stream_options": {"include_usage": True}} if stream else {}
    return client.chat.completions.create(
        model=chat.model, messages=chat.messages, stream=stream, **extra, **chat.options
    )


async def _whole(client: AsyncClient, exchange: Exchange, record: Record) -> web.Response:
    completion: ChatCompletion = await _create(client, exchange.call, False)
    record.first_token()
    record.take_info(completion.chatbridge)
    record.take_usage(completion.usage)
    body = await exchange.whole(completion)
    return web.Response(body=body, content_type="application/json")


async def _stream(
    request: web.Request,
    state: State,
    client: AsyncClient,
    exchange: Exchange,
    record: Record,
) -> web.StreamResponse:
    stream: AsyncChatStream = _create(client, exchange.call, True)
    try:
        first = await _first_chunk(stream)
        record.first_token()
        record.take_info(first.chatbridge)
        events = exchange.events()
        response = web.StreamResponse(headers=SSE_HEADERS)
        await response.prepare(request)
        record.status = 200
        writer = EventWriter(response)
        request[PING] = writer.ping
        try:
            # The first events go out at once (time to first token); the rest in batches.
            await response.write(events.start(first))
            await _relay(stream, events, writer, record, exchange.call.include_usage)
        except asyncio.CancelledError:
            if not await _shutdown(state, writer, record):
                raise  # the client left
            await _in_band(response, events.error(_SHUTDOWN))
        except Exception as exc:
            if await _left(request, writer, record):
                return response  # the client left: nothing more to send to anyone
            await _in_band(response, events.error(_failure(exc, record)))
        return response
    finally:
        await stream.aclose()


async def _relay(
    stream: AsyncChatStream,
    events: Events,
    writer: EventWriter,
    record: Record,
    include_usage: bool,
) -> None:
    render, put = events.chunk, writer.put
    async for chunk in stream:
        if chunk.chatbridge is not None:
            record.take_info(chunk.chatbridge)
        if chunk.usage is not None:
            record.take_usage(chunk.usage)
            if not include_usage:
                continue  # counted, not sent: the caller did not ask for it
        data = render(chunk)
        if data:
            await put(data)
    await put(await events.end())
    await writer.close()


async def _shutdown(state: State, writer: EventWriter, record: Record) -> bool:
    """A cancelled stream: the client left (``False``, after stopping the writer), or
    shutdown ran out of grace (``True``: what is pending goes out, then the error event)."""
    task = asyncio.current_task()
    if not state.draining or task is None:
        await writer.abort()
        record.error = CANCELLED_BY_CLIENT
        return False
    task.uncancel()
    record.error = "server_shutdown"
    await _flush(writer)
    return True


async def _left(request: web.Request, writer: EventWriter, record: Record) -> bool:
    """After a failure: did the client leave (then stop writing), or is it still there
    (then what is pending goes out before the error event)?"""
    if request.transport is None or request.transport.is_closing():
        await writer.abort()
        record.error = CANCELLED_BY_CLIENT
        return True
    await _flush(writer)
    return False


def _failure(exc: Exception, record: Record) -> ApiError:
    api = from_exception(exc)
    record.error = api.code or api.type
    attempts = getattr(exc, "attempts", None)
    if isinstance(attempts, list):
        record.take_attempts(attempts)
    return api


async def _first_chunk(stream: AsyncChatStream) -> ChatCompletionChunk:
    try:
        return await stream.__anext__()
    except StopAsyncIteration:  # the client always ends with a finish chunk; be safe
        raise ApiError(502, "the upstream sent nothing", "server_error", "empty_answer") from None


async def _flush(writer: EventWriter) -> None:
    """What the reader has not got yet goes out before an error event (bounded: a reader
    that stopped reading must not hold the handler)."""
    try:
        async with asyncio.timeout(1):
            await writer.close()
    except (ConnectionError, RuntimeError, TimeoutError):
        await writer.abort()


async def _in_band(response: web.StreamResponse, data: bytes) -> None:
    """The one error event that ends a stream (a client that already left gets nothing)."""
    with contextlib.suppress(ConnectionError, RuntimeError, TimeoutError):
        async with asyncio.timeout(1):
            await response.write(data)
