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
from collections.abc import AsyncIterator, Callable, Coroutine, Generator, Mapping
from typing import Any, Generic, Literal, TypeVar, overload

from .._providers._base import BaseProvider
from .._providers._sync import aclose
from .._providers._wire import wire_stats
from .._types import Messages
from ._config import Config, Route
from ._core import ClientCore
from ._health import HealthBook
from ._models import ChatCompletion, ChatCompletionChunk
from ._policy import Policy

__all__ = ["AsyncChatStream", "AsyncClient", "AsyncCompletions", "Chat", "ClientBase"]

C = TypeVar("C")


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
    def __init__(self, core: ClientCore) -> None:
        self._core = core

    @overload
    def create(
        self,
        *,
        model: str = ...,
        messages: Messages,
        stream: Literal[False] = ...,
        timeout: float | None = ...,
        **options: Any,
    ) -> Coroutine[Any, Any, ChatCompletion]: ...
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
    @overload
    def create(
        self,
        *,
        model: str = ...,
        messages: Messages,
        stream: bool,
        timeout: float | None = ...,
        **options: Any,
    ) -> Coroutine[Any, Any, ChatCompletion] | AsyncChatStream: ...
    def create(
        self,
        *,
        model: str = "",
        messages: Messages,
        stream: bool = False,
        timeout: float | None = None,
        **options: Any,
    ) -> Coroutine[Any, Any, ChatCompletion] | AsyncChatStream:
        """A coroutine of a :class:`ChatCompletion`, or with ``stream=True`` an
        :class:`AsyncChatStream`. ``timeout`` is the deadline of the whole call (every
        attempt and wait); other keyword arguments go to the providers that take them."""
        if stream:
            return AsyncChatStream(self._core.stream_call(model, messages, timeout, options))
        return self._core.complete_call(model, messages, timeout, options)


class Chat(Generic[C]):
    """``client.chat``: holds ``completions``, as in the OpenAI SDK."""

    def __init__(self, completions: C) -> None:
        self.completions = completions


class ClientBase(Generic[C]):
    """What both clients share: construction from the same arguments, and the read-outs.
    ``C`` is the client's ``completions`` class (async or not)."""

    _completions: Callable[[ClientCore], C]
    chat: Chat[C]

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
        self._core = ClientCore(provider, routes, config, policy, health, provider_options)
        self.chat = Chat(type(self)._completions(self._core))

    @property
    def routes(self) -> dict[str, Route]:
        return dict(self._core.routes)

    @property
    def policy(self) -> Policy:
        return self._core.policy

    def route_names(self) -> list[str]:
        return self._core.route_names()

    def health(self) -> dict[str, Any]:
        """Every target's breaker, as this process last saw it, by route then target."""
        return self._core.health()


class AsyncClient(ClientBase[AsyncCompletions]):
    """The asynchronous client. Use one per application; ``await client.aclose()`` (or
    ``async with``) when done.

    What it owns, and what it does not: connections are not the client's. Every request of
    every provider goes through one connection pool per event loop, shared by every client
    and provider on that loop; the pool closes with its loop (``asyncio.run`` closes it on
    the way out) or on ``await chatbridge.close_pool()``. A client's own are its routes, its
    breakers' state (unless given a shared ``HealthBook``), and, with no provider, routes or
    config, the built-in local site it starts on first use. :meth:`aclose` stops that site;
    it leaves the loop's pool open for the other clients on the loop."""

    _completions = AsyncCompletions

    @staticmethod
    def site_stats() -> dict[str, dict[str, int]]:
        """What went over the wire per site in this process (page fetches, token
        refreshes, re-discoveries, chat requests, messages), by site URL."""
        return wire_stats()

    async def ahealth(self) -> dict[str, Any]:
        """:meth:`health`, read from the fleet when breakers are shared through Redis."""
        return await self._core.ahealth()

    async def aclose(self) -> None:
        """Stop what this client started: the built-in local site of its default route, if
        it started one. Connections stay in the loop's shared pool (see the class)."""
        await self._core.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
