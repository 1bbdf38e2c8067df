"""``OpenAICompatible``: any OpenAI-compatible chat endpoint (Ollama, vLLM, LM Studio,
llama.cpp's server, a paid API), streamed or not."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import suppress
from typing import Any, ClassVar

import aiohttp

from .._checks import check_connections
from .._constants import (
    DEFAULT_CONNECT_TIMEOUT,
    OPENAI_CONNECTIONS_PER_HOST,
    OPENAI_FINISH_GRACE,
    OPENAI_READ_GAP,
    OPENAI_TIMEOUT,
)
from .._exceptions import (
    ChatbridgeError,
    MissingSiteError,
    TransportError,
    TruncatedStreamError,
)
from .._http._pool import shared
from .._http._session import StreamResponse, StreamSession
from .._types import Chunk, FinishReason, Messages
from ._base import AsyncGeneratorProvider
from ._models import ProviderModelMixin
from ._openai_errors import openai_error
from ._openai_wire import StreamParser, parse_completion, request_body
from ._sync import aclose

__all__ = ["OpenAICompatible"]

_JSON = "application/json"


def completions_url(base_url: str | None, provider: str) -> str:
    """``{base_url}/chat/completions`` (a base URL that already names the endpoint is kept)."""
    if not base_url:
        raise MissingSiteError(
            f"{provider} needs the endpoint's base URL: pass base_url='http://host:port/v1'",
            provider=provider,
        )
    base = base_url.rstrip("/")
    return base if base.endswith("/chat/completions") else f"{base}/chat/completions"


async def _session(proxy: str | None) -> StreamSession:
    """The loop's shared session for this proxy (connections are pooled either way). Each
    request carries its own deadline: a call's timeout is what is left of its route's
    deadline, a different number every time, so it must not pick the session (one session
    per number kept one more session alive per request, for as long as the loop ran)."""

    async def make() -> StreamSession:
        session = StreamSession(
            proxy=proxy,
            timeout=None,
            read_gap=OPENAI_READ_GAP,
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        await session.open()
        return session

    return await shared(("openai", proxy), make)


class OpenAICompatible(AsyncGeneratorProvider, ProviderModelMixin):
    """Any OpenAI-compatible ``/v1/chat/completions`` endpoint::

        OpenAICompatible.create_async_generator(
            "llama3.2", messages, base_url="http://127.0.0.1:11434/v1", api_key=None
        )

    Yields text chunks and :class:`ToolCallDelta` pieces as they come, then
    :class:`FinishReason` when the upstream gave one and :class:`Usage` when it reported
    token counts. Options sent when given (and not ``None``): ``temperature``, ``top_p``,
    ``max_tokens``, ``max_completion_tokens``, ``stop``, ``presence_penalty``,
    ``frequency_penalty``, ``seed``, ``user``, ``response_format``, ``tools``,
    ``tool_choice``, ``parallel_tool_calls``; ``n`` may only be 1; anything else is ignored.
    The model is sent as given. ``url`` may be set on a subclass instead of passing
    ``base_url``. ``connections_per_host``: requests to the endpoint's host at once from
    this process (default ``OPENAI_CONNECTIONS_PER_HOST``); more wait their turn within
    their deadline.
    """

    url: ClassVar[str | None] = None
    working: ClassVar[bool] = True
    needs_auth: ClassVar[bool] = False
    supports_stream: ClassVar[bool] = True
    reports_usage: ClassVar[bool] = True
    supports_system_message: ClassVar[bool] = True
    supports_message_history: ClassVar[bool] = True
    default_model: ClassVar[str | None] = None
    models: ClassVar[list[str]] = []
    #: Statuses the OpenAI API documents as transient (retry after a brief wait); a router
    #: may ask the same endpoint once more for these instead of failing over at once.
    retryable_statuses: ClassVar[frozenset[int]] = frozenset({500, 502, 503})
    #: Tools go upstream as given, and the model's calls come back.
    supports_tools: ClassVar[bool] = True
    #: A trailing assistant message goes upstream as is; whether that server continues it
    #: is the route's declaration (``continues_prefill``), since not every server does.
    can_continue_prefill: ClassVar[bool] = True

    @classmethod
    async def create_async_generator(  # type: ignore[override]  # yields Chunk, not only str
        cls,
        model: str,
        messages: Messages,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        proxy: str | None = None,
        timeout: float | None = OPENAI_TIMEOUT,
        stream: bool = True,
        connections_per_host: int | None = None,
        **options: Any,
    ) -> AsyncIterator[Chunk]:
        name = cls.get_name()
        model = cls.get_model(model)
        endpoint = completions_url(base_url or cls.url, name)
        try:
            body = request_body(model, messages, stream, options)
            connections = check_connections(connections_per_host, OPENAI_CONNECTIONS_PER_HOST)
        except ChatbridgeError as error:
            raise error.with_context(provider=name, url=endpoint) from error.__cause__
        headers = {
            "Content-Type": _JSON,
            "Accept": "text/event-stream" if stream else _JSON,
        }
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        session = await _session(proxy)
        request: dict[str, Any] = {
            "data": body,
            "headers": headers,
            "timeout": timeout,
            "connections_per_host": connections,
        }
        if not stream:  # nothing arrives until the whole answer is generated
            request["timeout"] = aiohttp.ClientTimeout(
                total=timeout, connect=DEFAULT_CONNECT_TIMEOUT, sock_read=timeout
            )
        try:
            async with session.post(endpoint, **request) as response:
                if response.status >= 400:
                    text = await response.text_prefix()
                    raise openai_error(
                        response.status,
                        response.headers,
                        text,
                        url=endpoint,
                        provider=name,
                        secret=api_key,
                    )
                if stream and not response.content_type.endswith("json"):
                    async for chunk in _relay(response, endpoint, name, api_key):
                        yield chunk
                    return
                payload = await response.json()
                text, reason, usage, calls = parse_completion(
                    payload, provider=name, url=endpoint, secret=api_key
                )
                if text:
                    yield text
                for call in calls:
                    yield call
                if reason is not None:
                    yield FinishReason(reason)
                if usage is not None:
                    yield usage
        except ChatbridgeError as error:
            raise error.with_context(provider=name, url=endpoint) from error.__cause__


async def _relay(
    response: StreamResponse, endpoint: str, name: str, secret: str | None
) -> AsyncIterator[Chunk]:
    """Text chunks as they come, then the finish reason, then the usage if reported."""
    parser = StreamParser(provider=name, url=endpoint, secret=secret)
    feed = parser.feed
    events = response.sse()
    called = False  # a piece of a tool call was yielded
    try:
        try:
            async for event in events:
                text = feed(event.data)
                if text:
                    yield text
                if parser.calls:
                    called = True
                    for call in parser.take_calls():
                        yield call
                if parser.finish_reason is not None or parser.done:
                    break
        except TransportError as exc:  # the connection broke before a finish_reason
            if not parser.parts and not called:
                raise
            raise TruncatedStreamError(
                f"The stream broke after {parser.parts} chunks: {exc.message}",
                partial=parser.text,
            ) from exc
        if parser.finish_reason is None and not parser.done:
            raise TruncatedStreamError(
                "The stream ended before a finish_reason", partial=parser.text
            )
        if parser.finish_reason is not None:
            yield FinishReason(parser.finish_reason)
        if not parser.done:
            # The answer is complete. The usage chunk and [DONE] may follow, or not: read on
            # briefly (a fully read reply also lets the connection go back to the pool).
            # Nothing is yielded inside the deadline, so it only ever covers our own reads.
            with suppress(TimeoutError, ChatbridgeError):
                async with asyncio.timeout(OPENAI_FINISH_GRACE):
                    async for event in events:
                        feed(event.data)
                        if parser.done:
                            break
        if parser.usage is not None:
            yield parser.usage
    finally:
        await aclose(events)
