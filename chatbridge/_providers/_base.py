"""The provider framework of the seed documents: AsyncProvider and AsyncGeneratorProvider.

Providers are used as classes (``await Chatgpt4o.create_async(model=..., messages=...)``);
since every entry point is a classmethod, an instance works the same way.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Generic, TypeVar

from .._types import AsyncResult, Messages
from ._sync import aclose, iterate_sync, run_sync

__all__ = ["AsyncGeneratorProvider", "AsyncProvider", "BaseProvider"]

T = TypeVar("T")


class _ClassProperty(Generic[T]):
    """A read-only property on the class itself (``classmethod`` + ``property`` stopped
    chaining in Python 3.13, which broke gpt4free's ``params``)."""

    def __init__(self, getter: Any) -> None:
        self._getter = getter

    def __get__(self, instance: object, owner: type) -> T:
        value: T = self._getter(owner)
        return value


#: Marks a parameter with no default in :meth:`BaseProvider.get_parameters`.
REQUIRED = inspect.Parameter.empty


class BaseProvider:
    """What every provider declares. Subclasses set the class attributes below."""

    url: ClassVar[str | None] = None
    working: ClassVar[bool] = False
    needs_auth: ClassVar[bool] = False
    supports_stream: ClassVar[bool] = False
    supports_system_message: ClassVar[bool] = False
    supports_message_history: ClassVar[bool] = False
    #: Failure statuses this provider's API promises were not processed, so a router may
    #: ask the same target once more (an OpenAI-compatible 500/502/503). An AI Power site
    #: may have run the model before failing, so it declares none.
    retryable_statuses: ClassVar[frozenset[int]] = frozenset()
    #: Whether the provider sends a trailing assistant message to its upstream as a prefill
    #: to continue (an OpenAI-compatible API can). Only then may a route declare
    #: ``continues_prefill`` for it; an AI Power site would answer afresh instead.
    can_continue_prefill: ClassVar[bool] = False
    #: Whether its answers say how many tokens they took (an OpenAI-compatible API's
    #: ``usage``); an AI Power site never does. Token quotas count only what is reported.
    reports_usage: ClassVar[bool] = False
    #: Whether the provider sends ``tools`` upstream and yields the model's tool calls
    #: (:class:`~chatbridge.ToolCallDelta`). A route never gives a request with tools to a
    #: target whose provider cannot, unless the target emulates them (``tools = "emulate"``).
    supports_tools: ClassVar[bool] = False
    #: The provider's own site when it is known to be gone (the seed providers'): a client
    #: refuses to send anything there until ``url`` (or ``site_url=``) names another site.
    gone_url: ClassVar[str | None] = None

    @classmethod
    def get_name(cls) -> str:
        return cls.__name__

    @classmethod
    def answers_whole(cls, options: Mapping[str, Any]) -> bool:
        """Does a target with ``options`` send nothing until its answer is done (so the
        time to its first text is the time of the whole answer)? A router waits longer for
        such a target's first text (``Policy.whole_answer_timeout``). By default: a provider
        that does not stream. No I/O."""
        return not cls.supports_stream

    @classmethod
    def _entry_point(cls) -> Any:
        raise TypeError(f"{cls.__name__} derives from neither AsyncProvider nor its subclasses")

    @classmethod
    def get_parameters(cls, as_json: bool = False) -> dict[str, Any]:
        """The entry point's parameters, name to default (``REQUIRED`` when there is none).

        With ``as_json``, required parameters map to ``None`` and defaults that JSON cannot
        carry to their ``repr``.
        """
        signature = inspect.signature(cls._entry_point())
        result: dict[str, Any] = {}
        for name, parameter in signature.parameters.items():
            if parameter.kind in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
                continue
            default = parameter.default
            if as_json:
                if default is REQUIRED:
                    default = None
                else:
                    try:
                        json.dumps(default)
                    except TypeError:
                        default = repr(default)
            result[name] = default
        return result

    @classmethod
    def describe_parameters(cls) -> str:
        """A readable one-line summary: ``Chatgpt4o supports: (model, messages, proxy=None…)``."""
        parts = [
            name if default is REQUIRED else f"{name}={default!r}"
            for name, default in cls.get_parameters().items()
        ]
        return f"{cls.get_name()} supports: ({', '.join(parts)})"

    params: ClassVar[str] = _ClassProperty(lambda cls: cls.describe_parameters())  # type: ignore[assignment]

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """Name, site, flags and models, for listings (``chatbridge providers``)."""
        return {
            "name": cls.get_name(),
            "url": cls.url,
            "working": cls.working,
            "needs_auth": cls.needs_auth,
            "supports_stream": cls.supports_stream,
            "supports_system_message": cls.supports_system_message,
            "supports_message_history": cls.supports_message_history,
            "supports_tools": cls.supports_tools,
            "default_model": getattr(cls, "default_model", None),
            "models": list(getattr(cls, "models", [])),
        }


class AsyncProvider(BaseProvider):
    """A provider whose answer comes back whole: implement :meth:`create_async`."""

    @classmethod
    async def create_async(cls, model: str, messages: Messages, **kwargs: Any) -> str:
        raise TypeError(f"{cls.__name__} does not implement create_async")

    @classmethod
    def _entry_point(cls) -> Any:
        return cls.create_async

    @classmethod
    def create_completion(
        cls, model: str, messages: Messages, stream: bool = False, **kwargs: Any
    ) -> Iterator[str]:
        """Synchronous call; yields the answer (in one chunk for a non-streaming provider)."""
        yield run_sync(cls.create_async(model, messages, **kwargs))


class AsyncGeneratorProvider(AsyncProvider):
    """A streaming provider: implement :meth:`create_async_generator`."""

    supports_stream: ClassVar[bool] = True

    @classmethod
    def create_async_generator(cls, model: str, messages: Messages, **kwargs: Any) -> AsyncResult:
        raise TypeError(f"{cls.__name__} does not implement create_async_generator")

    @classmethod
    def _entry_point(cls) -> Any:
        return cls.create_async_generator

    @classmethod
    async def create_async(cls, model: str, messages: Messages, **kwargs: Any) -> str:
        """The streamed chunks joined into one string."""
        stream = cls.create_async_generator(model, messages, **kwargs)
        try:
            return "".join([chunk async for chunk in stream if isinstance(chunk, str)])
        finally:
            await aclose(stream)

    @classmethod
    def create_completion(
        cls, model: str, messages: Messages, stream: bool = False, **kwargs: Any
    ) -> Iterator[str]:
        chunks = (
            chunk
            for chunk in iterate_sync(cls.create_async_generator(model, messages, **kwargs))
            if isinstance(chunk, str)
        )
        if stream:
            yield from chunks
        else:
            yield "".join(chunks)
