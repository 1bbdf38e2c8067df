"""``AsyncClient`` and ``Client``: ``client.chat.completions.create(...)`` over every provider.

    client = AsyncClient(config="chatbridge.toml")         # routes from a file
    client = AsyncClient(provider="AIPower", site_url=URL) # gpt4free's habit: one provider
    client = AsyncClient()                                  # the built-in local site

``model`` names a route; with ``provider=`` it is that provider's model. Non-streamed calls
return a :class:`ChatCompletion`; ``stream=True`` returns a stream of
:class:`ChatCompletionChunk` that also works as ``await``-able (the OpenAI SDK's habit).
"""

from __future__ import annotations

import math
import os
from collections.abc import AsyncIterator, Generator, Iterator, Mapping
from typing import Any, Literal, cast, overload

from .._exceptions import ConfigError, InvalidRequestError, RouteNotFoundError
from .._providers._base import BaseProvider
from .._providers._registry import get_provider
from .._providers._sync import aclose, iterate_sync, run_sync
from .._types import Messages
from ._config import Config, Route, Target, load_config, parse_routes
from ._embedded import DEFAULT_ROUTE, EmbeddedSite
from ._health import HealthBook
from ._models import (
    ChatbridgeInfo,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessage,
    Choice,
    ChoiceDelta,
    ChunkChoice,
    CompletionUsage,
    content_chunk,
    new_completion_id,
    now,
)
from ._policy import Policy
from ._router import CallReport, Router

__all__ = ["AsyncChatStream", "AsyncClient", "ChatStream", "Client"]

#: One health book per policy, shared by every client in the process that uses that policy.
_BOOKS: dict[Policy, HealthBook] = {}


def shared_health(policy: Policy) -> HealthBook:
    book = _BOOKS.get(policy)
    if book is None:
        book = _BOOKS[policy] = HealthBook(policy)
    return book


def _check_timeout(timeout: Any) -> float | None:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise InvalidRequestError(f"timeout must be a number of seconds, not {timeout!r}")
    if not math.isfinite(timeout) or timeout <= 0:
        raise InvalidRequestError(
            f"timeout must be a finite number of seconds > 0, not {timeout!r}"
        )
    return float(timeout)


def _check_messages(messages: Any) -> Messages:
    if not isinstance(messages, list | tuple) or not messages:
        raise InvalidRequestError("messages must be a non-empty list", param="messages")
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping) or "role" not in message:
            raise InvalidRequestError(
                f"messages[{index}] must be a mapping with a 'role'", param=f"messages[{index}]"
            )
    return messages


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


class ChatStream:
    """The synchronous stream: ``for chunk in stream``; ``close()`` stops the answer."""

    def __init__(self, chunks: AsyncIterator[ChatCompletionChunk]) -> None:
        self._async = chunks
        self._sync = cast(Generator[ChatCompletionChunk, None, None], iterate_sync(chunks))

    def __iter__(self) -> Iterator[ChatCompletionChunk]:
        return self._sync

    def __next__(self) -> ChatCompletionChunk:
        return next(self._sync)

    def close(self) -> None:
        self._sync.close()

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Engine:
    """What both clients share: routes, the router, and how one call becomes chunks."""

    def __init__(
        self,
        provider: type[BaseProvider] | str | None,
        routes: Mapping[str, Any] | None,
        config: str | os.PathLike[str] | Config | None,
        policy: Policy | None,
        health: HealthBook | None,
        provider_options: dict[str, Any],
    ) -> None:
        loaded: Config | None = None
        if config is not None:
            loaded = config if isinstance(config, Config) else load_config(config)
        self.routes: dict[str, Route] = dict(loaded.routes) if loaded else {}
        if routes is not None:
            self.routes.update(parse_routes(routes, "routes="))
        self.policy = policy or (loaded.policy if loaded else Policy())
        self.config = loaded
        if isinstance(provider, str):
            try:
                provider = get_provider(provider)
            except ValueError as exc:
                raise ConfigError(f"provider={provider!r}: {exc}") from exc
        self.provider = provider
        self.provider_options = provider_options
        self.health_book = health or shared_health(self.policy)
        self.router = Router(self.health_book, self.policy)
        self.embedded = EmbeddedSite() if provider is None and not self.routes else None

    def route_names(self) -> list[str]:
        names = list(self.routes)
        if self.embedded is not None:
            names.append(DEFAULT_ROUTE)
        return names

    async def resolve(self, model: str) -> tuple[Route, str | None]:
        """The route for ``model`` and the model name its targets get when they name none."""
        route = self.routes.get(model)
        if route is not None:
            return route, None
        if self.provider is not None:
            target = Target(self.provider, dict(self.provider_options))
            return Route(model or self.provider.get_name(), (target,)), model
        if self.embedded is not None:
            return await self.embedded.route(), model
        known = ", ".join(self.routes) or "none"
        raise RouteNotFoundError(f"No route named {model!r} (routes: {known})", provider=None)

    @staticmethod
    def answered_model(report: CallReport, requested: str | None) -> str:
        target = report.target or report.current
        if target is None:
            return requested or ""
        if target.model:
            return target.model
        getter = getattr(target.provider, "get_model", None)
        if requested and getter is not None:
            try:
                return str(getter(requested))
            except ValueError:
                return requested
        default = getattr(target.provider, "default_model", None)
        return str(default or requested or "")

    @staticmethod
    def info(report: CallReport) -> ChatbridgeInfo:
        target = report.target or report.current
        return ChatbridgeInfo(
            route=report.route,
            provider=target.provider.get_name() if target else None,
            site=target.site if target else None,
            target=target.label if target else None,
            attempts=list(report.attempts),
        )

    async def complete(
        self, model: str, messages: Messages, timeout: float | None, options: dict[str, Any]
    ) -> ChatCompletion:
        route, requested = await self.resolve(model)
        report = CallReport(route.name)
        parts = [
            text
            async for text in self.router.run(
                route,
                messages,
                report,
                model=requested,
                options=options,
                timeout=timeout,
                buffered=True,
            )
        ]
        usage = report.usage
        return ChatCompletion(
            id=new_completion_id(),
            created=now(),
            model=self.answered_model(report, requested),
            choices=[
                Choice(
                    message=ChatCompletionMessage(content="".join(parts)),
                    finish_reason=report.finish.reason if report.finish else "stop",
                )
            ],
            usage=CompletionUsage(**_usage(usage)) if usage else None,
            chatbridge=self.info(report),
        )

    async def stream(
        self,
        model: str,
        messages: Messages,
        timeout: float | None,
        options: dict[str, Any],
        include_usage: bool,
    ) -> AsyncIterator[ChatCompletionChunk]:
        route, requested = await self.resolve(model)
        report = CallReport(route.name)
        ident, created = new_completion_id(), now()
        name = ""
        first = True
        texts = self.router.run(
            route, messages, report, model=requested, options=options, timeout=timeout
        )
        try:
            async for text in texts:
                if first:
                    first = False
                    name = self.answered_model(report, requested)
                    yield ChatCompletionChunk(
                        id=ident,
                        created=created,
                        model=name,
                        choices=[ChunkChoice(delta=ChoiceDelta(role="assistant", content=text))],
                    ).with_info(self.info(report))
                    continue
                yield content_chunk(ident, created, name, text)
        finally:
            await aclose(texts)
        name = self.answered_model(report, requested)
        finish = report.finish.reason if report.finish else "stop"
        yield ChatCompletionChunk(
            id=ident,
            created=created,
            model=name,
            choices=[ChunkChoice(delta=ChoiceDelta(), finish_reason=finish)],
        ).with_info(self.info(report))
        if include_usage and report.usage is not None:
            yield ChatCompletionChunk(
                id=ident,
                created=created,
                model=name,
                choices=[],
                usage=CompletionUsage(**_usage(report.usage)),
            )

    def health(self) -> dict[str, Any]:
        """Every target's breaker and cool-down, by route, then by target label."""
        snapshot = self.health_book.snapshot()
        report: dict[str, Any] = {}
        for name, route in self.routes.items():
            report[name] = {
                target.label: snapshot.get(target.key, {"state": "closed", "attempts": 0})
                for target in route.targets
            }
        return report

    async def aclose(self) -> None:
        if self.embedded is not None:
            await self.embedded.aclose()


def _usage(usage: Any) -> dict[str, int]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def _split_options(kwargs: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    stream_options = kwargs.pop("stream_options", None) or {}
    include_usage = (
        bool(stream_options.get("include_usage")) if isinstance(stream_options, Mapping) else False
    )
    return include_usage, {k: v for k, v in kwargs.items() if v is not None}


class AsyncCompletions:
    def __init__(self, engine: _Engine) -> None:
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
        messages = _check_messages(messages)
        timeout = _check_timeout(timeout)
        include_usage, options = _split_options(options)
        if stream:
            return AsyncChatStream(
                self._engine.stream(model, messages, timeout, options, include_usage)
            )
        return self._engine.complete(model, messages, timeout, options)


class _Chat:
    def __init__(self, completions: Any) -> None:
        self.completions = completions


class AsyncClient:
    """The asynchronous client. Use one per application; ``await client.aclose()`` (or
    ``async with``) when done."""

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
        self._engine = _Engine(provider, routes, config, policy, health, provider_options)
        self.chat = _Chat(AsyncCompletions(self._engine))

    @property
    def routes(self) -> dict[str, Route]:
        return dict(self._engine.routes)

    @property
    def policy(self) -> Policy:
        return self._engine.policy

    def route_names(self) -> list[str]:
        return self._engine.route_names()

    def health(self) -> dict[str, Any]:
        return self._engine.health()

    async def aclose(self) -> None:
        await self._engine.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class Completions:
    def __init__(self, engine: _Engine) -> None:
        self._engine = engine

    def create(
        self,
        *,
        model: str = "",
        messages: Messages,
        stream: bool = False,
        timeout: float | None = None,
        **options: Any,
    ) -> Any:
        """A :class:`ChatCompletion`, or with ``stream=True`` a :class:`ChatStream`. Runs on
        chatbridge's private event loop, so it works inside and outside a running loop;
        Ctrl-C cancels the call."""
        messages = _check_messages(messages)
        timeout = _check_timeout(timeout)
        include_usage, options = _split_options(options)
        if stream:
            return ChatStream(self._engine.stream(model, messages, timeout, options, include_usage))
        return run_sync(self._engine.complete(model, messages, timeout, options))


class Client:
    """The synchronous client, same arguments as :class:`AsyncClient`."""

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
        self._engine = _Engine(provider, routes, config, policy, health, provider_options)
        self.chat = _Chat(Completions(self._engine))

    @property
    def routes(self) -> dict[str, Route]:
        return dict(self._engine.routes)

    def health(self) -> dict[str, Any]:
        return self._engine.health()

    def close(self) -> None:
        run_sync(self._engine.aclose())

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
