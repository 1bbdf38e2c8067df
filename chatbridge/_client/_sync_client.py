"""``Client``: the synchronous client, same arguments as ``AsyncClient``. Every call runs on
chatbridge's private event loop (the provider framework's bridge), so it works inside and
outside a running loop, and Ctrl-C cancels the call."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator
from typing import Any, cast

from .._providers._sync import iterate_sync, run_sync
from .._types import Messages
from ._client import ClientBase
from ._engine import Engine
from ._models import ChatCompletionChunk

__all__ = ["ChatStream", "Client"]


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
    def __init__(self, engine: Engine) -> None:
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
        result = self._engine.call(model, messages, stream, timeout, options)
        return ChatStream(result) if stream else run_sync(result)


class Client(ClientBase):
    """The synchronous client, same arguments as :class:`AsyncClient`."""

    _completions = Completions

    def close(self) -> None:
        run_sync(self._engine.aclose())

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
