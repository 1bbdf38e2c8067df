"""``Client``: the synchronous client, same arguments as ``AsyncClient``. Every call runs on
chatbridge's private event loop (the provider framework's bridge), so it works inside and
outside a running loop, and Ctrl-C cancels the call."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator
from typing import Any, Literal, cast, overload

from .._providers._sync import iterate_sync, run_sync
from .._types import Messages
from ._client import ClientBase
from ._core import ClientCore
from ._models import ChatCompletion, ChatCompletionChunk

__all__ = ["ChatStream", "Client", "Completions"]


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


class Completions:
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
    ) -> ChatCompletion: ...
    @overload
    def create(
        self,
        *,
        model: str = ...,
        messages: Messages,
        stream: Literal[True],
        timeout: float | None = ...,
        **options: Any,
    ) -> ChatStream: ...
    @overload
    def create(
        self,
        *,
        model: str = ...,
        messages: Messages,
        stream: bool,
        timeout: float | None = ...,
        **options: Any,
    ) -> ChatCompletion | ChatStream: ...
    def create(
        self,
        *,
        model: str = "",
        messages: Messages,
        stream: bool = False,
        timeout: float | None = None,
        **options: Any,
    ) -> ChatCompletion | ChatStream:
        """A :class:`ChatCompletion`, or with ``stream=True`` a :class:`ChatStream`. Runs on
        chatbridge's private event loop, so it works inside and outside a running loop;
        Ctrl-C cancels the call."""
        if stream:
            return ChatStream(self._core.stream_call(model, messages, timeout, options))
        return run_sync(self._core.complete_call(model, messages, timeout, options))


class Client(ClientBase[Completions]):
    """The synchronous client, same arguments as :class:`AsyncClient`."""

    _completions = Completions

    def close(self) -> None:
        run_sync(self._core.aclose())

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
