"""Asking a provider once: streamed when it can, whole otherwise, timed. Shared by ``chat``
and ``check``; knows nothing about terminals (the caller gets every chunk through a callback)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._aipower import Conversation
from .._providers._base import AsyncGeneratorProvider, AsyncProvider
from .._providers._sync import aclose
from .._types import HistoryTrimmed, Messages
from ._options import Destination

__all__ = ["Reply", "ask"]


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    #: How many pieces the answer arrived in: 1 for a JSON reply (or a stream of one piece).
    chunks: int
    first_token_seconds: float | None
    seconds: float
    #: Who answered, when a route chose (provider, site, model); ``None``: the target itself.
    answered_by: tuple[str | None, str | None, str] | None = None
    #: What the site was not sent of the conversation (``None``: it was all sent).
    history: HistoryTrimmed | None = None

    @property
    def streamed(self) -> bool:
        """Whether the answer arrived in more than one piece (what a user sees as streaming;
        asking for a stream is not enough: a site that cannot stream answers whole)."""
        return self.chunks > 1


async def ask(
    target: Destination,
    messages: Messages,
    *,
    stream: bool,
    on_chunk: Callable[[str], None],
    conversation: Conversation | None = None,
    proxy: str | None = None,
    timeout: float | None = None,
) -> Reply:
    """The answer to the last user message in ``messages``; ``on_chunk`` sees each piece as it
    arrives (one piece, the whole answer, when the provider or ``stream=False`` says so).
    A route and a provider get their deadline by one rule (:meth:`Destination.deadline`)."""
    timeout = target.deadline(timeout)
    if target.route is not None:
        return await _ask_route(target, messages, stream, on_chunk, timeout)
    notes: list[HistoryTrimmed] = []  # what the site was not sent, if anything
    kwargs: dict[str, Any] = dict(target.options)
    kwargs.update(proxy=proxy, conversation=conversation, on_history=notes.append)
    if timeout is not None:
        kwargs["timeout"] = timeout
    if target.site_url is not None:
        kwargs["site_url"] = target.site_url
    if target.chat_page is not None:
        kwargs["chat_page"] = target.chat_page
    if target.bot_id is not None:
        kwargs["bot_id"] = target.bot_id
    provider = target.provider
    started = time.perf_counter()
    first: float | None = None
    parts: list[str] = []
    if issubclass(provider, AsyncGeneratorProvider):
        if not stream:
            kwargs["stream"] = False  # (a provider that can answer whole is asked to)
        chunks = provider.create_async_generator(target.model, messages, **kwargs)
        try:
            async for chunk in chunks:
                if not isinstance(chunk, str):  # a finish reason, usage
                    continue
                if first is None:
                    first = time.perf_counter() - started
                parts.append(chunk)
                if stream:
                    on_chunk(chunk)
        finally:
            await aclose(chunks)  # releases the connection on Ctrl-C too
        if not stream:  # one piece, the whole answer
            parts = ["".join(parts)]
            on_chunk(parts[0])
    elif issubclass(provider, AsyncProvider):
        text = await provider.create_async(target.model, messages, **kwargs)
        first = time.perf_counter() - started
        parts.append(text)
        on_chunk(text)
    else:
        raise TypeError(f"{provider.get_name()} has no async entry point")
    elapsed = time.perf_counter() - started
    history = notes[-1] if notes else None
    return Reply("".join(parts), len(parts), first, elapsed, history=history)


async def _ask_route(
    target: Destination,
    messages: Messages,
    stream: bool,
    on_chunk: Callable[[str], None],
    timeout: float | None,
) -> Reply:
    """Through the client: the route's targets in order, under its failure policy."""
    if target.client is None or target.route is None:
        raise TypeError(f"{target.name} is not a route")
    completions = target.client.chat.completions
    started = time.perf_counter()
    if not stream:
        answer = await completions.create(model=target.route, messages=messages, timeout=timeout)
        text = answer.choices[0].message.content or ""
        on_chunk(text)
        elapsed = time.perf_counter() - started
        info = answer.chatbridge
        return Reply(
            text, 1, elapsed, elapsed, _who(info, answer.model), _trimmed(info)
        )
    first: float | None = None
    parts: list[str] = []
    who = history = None
    chunks = completions.create(model=target.route, messages=messages, stream=True, timeout=timeout)
    try:
        async for chunk in chunks:
            if chunk.chatbridge is not None:
                who = _who(chunk.chatbridge, chunk.model)
                history = _trimmed(chunk.chatbridge)
            piece = chunk.choices[0].delta.content if chunk.choices else None
            if piece:
                if first is None:
                    first = time.perf_counter() - started
                parts.append(piece)
                on_chunk(piece)
    finally:
        await chunks.aclose()
    return Reply("".join(parts), len(parts), first, time.perf_counter() - started, who, history)


def _trimmed(info: Any) -> HistoryTrimmed | None:
    """The ``chatbridge.history`` field of a route's answer, as the provider reported it."""
    note = None if info is None else info.history
    if note is None:
        return None
    return HistoryTrimmed(
        note.dropped,
        note.shortened,
        note.removed_chars,
        note.budget,
        note.folded,
        note.max_messages,
    )


def _who(info: Any, model: str) -> tuple[str | None, str | None, str] | None:
    return None if info is None else (info.provider, info.site, model)
