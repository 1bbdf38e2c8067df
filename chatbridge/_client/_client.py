"""``AsyncClient``: ``client.chat.completions.create(...)`` over every provider.

    client = AsyncClient(config="chatbridge.toml")         # routes from a file
    client = AsyncClient(provider="AIPower", site_url=URL) # gpt4free's habit: one provider
    client = AsyncClient()                                  # the built-in local site

``model`` names a route; with ``provider=`` it is that provider's model. Non-streamed calls
return a :class:`ChatCompletion`; ``stream=True`` returns a stream of
:class:`ChatCompletionChunk` that also works as ``await``-able (the OpenAI SDK's habit).
The synchronous :class:`Client` is in ``_sync_client``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Generator, Mapping
from typing import Any, Literal, overload

from .._providers._base import BaseProvider
from .._providers._sync import aclose
from .._providers._wire import wire_stats
from .._types import Messages
from ._config import Config, Route
from ._engine import Engine
from ._health import HealthBook
from ._models import ChatCompletionChunk
from ._policy import Policy

__all__ = ["AsyncChatStream", "AsyncClient", "ClientBase"]


class AsyncChatStream:
    """The chunks of one streamed answer. Iterate it (``async for``), or ``await`` it first
    like the OpenAI SDK's stream; ``aclose()`` (or leaving ``async with``) stops the answer
    and releases its connection."""

    def __init__(self, chunks: AsyncIterator[ChatCompletionChunk]) -> None:
        self._chunks = chunks

    def __aiter__(self) -> AsyncIterator[ChatCompletionChunk]:
        return self._chunks  # ``async for`` drives the chunks directly: no wrapper per chunk

    async def __anext__(self) -> ChatCompletionChunk:
        return await self._chunks.__anext__()

    def __await__(self) -> Generator[Any, None, AsyncChatStream]:
        if False:  # pragma: no cover - makes this a generator that returns at once
            yield
        return self

    async def aclose(self) -> None:
        await aclose(self._chunks)

    async def __aenter__(self) -> AsyncChatStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class AsyncCompletions:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @overload
    def create(
        self,
        *,
        model: str = ...,
        messages: Messages,
        stream: Literal[False] = ...,
        timeout: float | None = ...,
        **options: Any,
    ) -> Any: ...
    @overload
    def create(
        self,
        *,
        model: str = ...,
        messages: Messages,
        stream: Literal[True],
        timeout: float | None = ...,
        **options: Any,
    ) -> AsyncChatStream: ...
    def create(
        self,
        *,
        model: str = "",
        messages: Messages,
        stream: bool = False,
        timeout: float | None = None,
        **options: Any,
    ) -> Any:
        """A coroutine of a :class:`ChatCompletion`, or with ``stream=True`` an
        :class:`AsyncChatStream`. ``timeout`` is the deadline of the whole call (every
        attempt and wait); other keyword arguments go to the providers that take them."""
        result = self._engine.call(model, messages, stream, timeout, options)
        return AsyncChatStream(result) if stream else result


class _Chat:
    def __init__(self, completions: Any) -> None:
        self.completions = completions


class ClientBase:
    """What both clients share: construction from the same arguments, and the read-outs."""

    _completions: Callable[[Engine], Any]

    def __init__(
        self,
        provider: type[BaseProvider] | str | None = None,
        *,
        routes: Mapping[str, Any] | None = None,
        config: str | os.PathLike[str] | Config | None = None,
        policy: Policy | None = None,
        health: HealthBook | None = None,
        **provider_options: Any,
    ) -> None:
        self._engine = Engine(provider, routes, config, policy, health, provider_options)
        self.chat = _Chat(type(self)._completions(self._engine))

    @property
    def routes(self) -> dict[str, Route]:
        return dict(self._engine.routes)

    @property
    def policy(self) -> Policy:
        return self._engine.policy

    def route_names(self) -> list[str]:
        return self._engine.route_names()

    def health(self) -> dict[str, Any]:
        """Every target's breaker, as this process last saw it, by route then target."""
        return self._engine.health()


class AsyncClient(ClientBase):
    """The asynchronous client. Use one per application; ``await client.aclose()`` (or
    ``async with``) when done."""

    _completions = AsyncCompletions

    @staticmethod
    def site_stats() -> dict[str, dict[str, int]]:
        """What went over the wire per site in this process (page fetches, token
        refreshes, re-discoveries, chat requests, messages), by site URL."""
        return wire_stats()

    async def ahealth(self) -> dict[str, Any]:
        """:meth:`health`, read from the fleet when breakers are shared through Redis."""
        return await self._engine.ahealth()

    async def aclose(self) -> None:
        await self._engine.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
