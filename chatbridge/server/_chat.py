"""``POST /v1/chat/completions``: one call of the client, as JSON or as SSE.

Streaming: the first chunk is awaited before anything is sent, so a failure up to then is
an HTTP status (the route fails over invisibly until then). After it, chunks go out as
``data: {chunk}\\n\\n``; ``data: [DONE]`` only after the finish; a failure sends one in-band
``data: {"error": ...}`` event and closes. A client that leaves cancels the handler (the app
runs with handler cancellation), and the upstream attempt is closed in ``finally``.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiohttp import web

from .._client._client import AsyncChatStream, AsyncClient
from .._client._models import ChatCompletionChunk
from .._http._guard import no_inward_addresses
from ._connections import PING
from ._errors import ApiError, from_exception
from ._record import CANCELLED_BY_CLIENT, Record
from ._request import ChatRequest, parse_chat
from ._sites import check_site
from ._sse import EventWriter
from ._state import RECORD, STATE, State

__all__ = ["chat_completions"]

_SSE_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
}
_DONE = b"data: [DONE]\n\n"
_SHUTDOWN = ApiError(503, "the server is shutting down", "server_error", "server_shutdown")


def _event(payload: str) -> bytes:
    return b"data: " + payload.encode() + b"\n\n"


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


async def _limit(state: State, key: str) -> None:
    wait = await state.limits.take_request(key, state.settings.requests_per_minute)
    if wait is not None:
        raise ApiError(
            429,
            f"rate limit: {state.settings.requests_per_minute} requests per minute for this key",
            "requests",
            "rate_limit_exceeded",
            retry_after=wait,
        )


async def chat_completions(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    record = RECORD.get()
    length = request.content_length
    if length is not None and length > state.settings.max_body_bytes:
        raise web.HTTPRequestEntityTooLarge(state.settings.max_body_bytes, length)
    chat = parse_chat(await request.read(), state.settings)
    record.route, record.stream = chat.model or "-", chat.stream
    await _limit(state, record.key)
    if not chat.site:
        return await _answer(request, state, state.client, chat, record)
    client = await _site_client(state, chat)
    try:
        if state.settings.allow_private_sites:
            return await _answer(request, state, client, chat, record)
        with no_inward_addresses():  # every connection of this call: its address is checked
            return await _answer(request, state, client, chat, record)
    finally:
        await client.aclose()


async def _answer(
    request: web.Request, state: State, client: AsyncClient, chat: ChatRequest, record: Record
) -> web.StreamResponse:
    if not chat.stream:
        return await _whole(client, chat, record)
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
        return await _stream(request, state, client, chat, record)
    finally:
        await state.limits.close_stream(key)


async def _whole(client: AsyncClient, chat: ChatRequest, record: Record) -> web.Response:
    completion = await client.chat.completions.create(
        model=chat.model, messages=chat.messages, **chat.options
    )
    record.first_token()
    record.take_info(completion.chatbridge)
    return web.Response(body=completion.model_dump_json().encode(), content_type="application/json")


async def _stream(
    request: web.Request, state: State, client: AsyncClient, chat: ChatRequest, record: Record
) -> web.StreamResponse:
    stream: AsyncChatStream = client.chat.completions.create(
        model=chat.model,
        messages=chat.messages,
        stream=True,
        stream_options={"include_usage": chat.include_usage},
        **chat.options,
    )
    try:
        first = await _first_chunk(stream)
        record.first_token()
        record.take_info(first.chatbridge)
        response = web.StreamResponse(headers=_SSE_HEADERS)
        await response.prepare(request)
        record.status = 200
        writer = EventWriter(response)
        request[PING] = writer.ping
        try:
            # The first event goes out at once (time to first token); the rest in batches.
            await response.write(_event(first.model_dump_json()))
            async for chunk in stream:
                if chunk.chatbridge is not None:
                    record.take_info(chunk.chatbridge)
                await writer.put(_event(chunk.model_dump_json()))
            await writer.put(_DONE)
            await writer.close()
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if not state.draining or task is None:
                await writer.abort()
                record.error = CANCELLED_BY_CLIENT
                raise  # the client left
            # Shutdown ran out of grace: say so in-band and end the body properly.
            task.uncancel()
            record.error = "server_shutdown"
            await _flush(writer)
            await _in_band(response, _SHUTDOWN)
            return response
        except Exception as exc:
            if request.transport is None or request.transport.is_closing():
                await writer.abort()
                record.error = CANCELLED_BY_CLIENT
                return response  # the client left: nothing more to send to anyone
            await _flush(writer)
            api = from_exception(exc)
            record.error = api.code or api.type
            attempts = getattr(exc, "attempts", None)
            if isinstance(attempts, list):
                record.take_attempts(attempts)
            await _in_band(response, api)
            return response
        return response
    finally:
        await stream.aclose()


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


async def _in_band(response: web.StreamResponse, error: ApiError) -> None:
    """The one error event that ends a stream (a client that already left gets nothing)."""
    with contextlib.suppress(ConnectionError, RuntimeError, TimeoutError):
        async with asyncio.timeout(1):
            await response.write(_event(error.json()))
