"""The response types, field for field OpenAI's: ``.model_dump_json()`` is what a server
sends. The one addition is the ``chatbridge`` field, which says who answered and what was
tried; OpenAI clients ignore unknown fields."""

from __future__ import annotations

import os
import random
import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .._types import HistoryTrimmed, ToolCallDelta

__all__ = [
    "Attempt",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionMessage",
    "ChatCompletionMessageToolCall",
    "ChatbridgeInfo",
    "Choice",
    "ChoiceDelta",
    "ChoiceDeltaToolCall",
    "ChoiceDeltaToolCallFunction",
    "ChunkChoice",
    "CompletionUsage",
    "Function",
    "HistoryNote",
    "attempt",
    "chatbridge_info",
    "completion",
    "completion_usage",
    "content_chunk",
    "finish_chunk",
    "history_note",
    "new_completion_id",
    "role_chunk",
    "tool_call_chunk",
    "usage_chunk",
]


_ids = random.Random()
os.register_at_fork(after_in_child=_ids.seed)
_bits = _ids.getrandbits


def new_completion_id() -> str:
    """A fresh ``chatcmpl-`` id: 96 random bits from a generator of our own (seeded from the
    OS, reseeded in each forked worker, untouched by ``random.seed``): unique, not secret."""
    return f"chatcmpl-{_bits(96):024x}"


def now() -> int:
    return int(time.time())


def _is_none(value: object) -> bool:
    return value is None


class Attempt(BaseModel):
    """One try of one target during a call. Frozen: a record of what happened, shared by
    every chunk and error of the call that reports it."""

    model_config = ConfigDict(frozen=True)

    target: str
    provider: str
    #: The error's class name; ``None`` for the attempt that answered.
    error: str | None = None
    #: The error's one-line message (no secrets), or why the target was skipped.
    message: str | None = None
    seconds: float = 0.0
    #: ``"answered"``, ``"failed"``, ``"skipped"`` or ``"continued"`` (a continuation).
    outcome: Literal["answered", "failed", "skipped", "continued"] = "failed"


class HistoryNote(BaseModel):
    """What the answering site was not sent of the conversation as written
    (:class:`~chatbridge.HistoryTrimmed`). AI Power: it had to go as one message of at most
    ``budget`` characters, so ``dropped`` earlier turns were left out whole and ``shortened``
    turns lost their middle, ``removed_chars`` characters in all. AI Engine: it had more
    messages than the bot keeps (``max_messages``), so the ``folded`` oldest went, as lines,
    into one system message."""

    model_config = ConfigDict(frozen=True)

    dropped: int
    shortened: int
    removed_chars: int
    budget: int | None
    folded: int = 0
    max_messages: int | None = None
    #: The same in one line.
    message: str


class ChatbridgeInfo(BaseModel):
    """Who answered, and every attempt made on the way; ``history`` only when the answering
    site was not sent the whole conversation."""

    route: str
    provider: str | None = None
    site: str | None = None
    target: str | None = None
    attempts: list[Attempt] = []
    history: HistoryNote | None = Field(default=None, exclude_if=_is_none)


class CompletionUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class Function(BaseModel):
    """The function a tool call names, and its arguments (a JSON text, as the model wrote
    it: parse it yourself, it may not be valid)."""

    name: str
    arguments: str


class ChatCompletionMessageToolCall(BaseModel):
    id: str
    type: Literal["function"] = "function"
    function: Function


class ChatCompletionMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    #: ``None`` when the answer is only tool calls.
    content: str | None = None
    tool_calls: list[ChatCompletionMessageToolCall] | None = Field(
        default=None, exclude_if=_is_none
    )


class Choice(BaseModel):
    index: int = 0
    message: ChatCompletionMessage
    logprobs: None = None
    finish_reason: str = "stop"


class ChatCompletion(BaseModel):
    """A whole answer (``stream=False``)."""

    model_config = ConfigDict(extra="allow")

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    #: Only when the upstream reported it; never estimated.
    usage: CompletionUsage | None = Field(default=None, exclude_if=_is_none)
    chatbridge: ChatbridgeInfo | None = None


class ChoiceDeltaToolCallFunction(BaseModel):
    name: str | None = Field(default=None, exclude_if=_is_none)
    arguments: str | None = Field(default=None, exclude_if=_is_none)


class ChoiceDeltaToolCall(BaseModel):
    """A piece of tool call ``index``: the first carries ``id``, ``type`` and the function's
    name; later ones a fragment of its arguments."""

    index: int
    id: str | None = Field(default=None, exclude_if=_is_none)
    type: Literal["function"] | None = Field(default=None, exclude_if=_is_none)
    function: ChoiceDeltaToolCallFunction | None = Field(default=None, exclude_if=_is_none)


class ChoiceDelta(BaseModel):
    """OpenAI sends the role on the first delta only, and an empty delta with the finish."""

    role: Literal["assistant"] | None = Field(default=None, exclude_if=_is_none)
    content: str | None = Field(default=None, exclude_if=_is_none)
    tool_calls: list[ChoiceDeltaToolCall] | None = Field(default=None, exclude_if=_is_none)


class ChunkChoice(BaseModel):
    index: int = 0
    delta: ChoiceDelta
    logprobs: None = None
    finish_reason: str | None = None


class ChatCompletionChunk(BaseModel):
    """One piece of a streamed answer (``stream=True``). The ``chatbridge`` field is set on
    the first chunk (who started answering) and on the final one (every attempt)."""

    model_config = ConfigDict(extra="allow")

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    #: Only on the usage chunk of ``stream_options={"include_usage": True}``.
    usage: CompletionUsage | None = Field(default=None, exclude_if=_is_none)

    def with_info(self, info: ChatbridgeInfo) -> ChatCompletionChunk:
        """This chunk carrying the ``chatbridge`` field (an extra: only set chunks have it)."""
        self.__pydantic_extra__ = {"chatbridge": info}
        return self

    @property
    def chatbridge(self) -> ChatbridgeInfo | None:
        extra: dict[str, Any] = self.__pydantic_extra__ or {}
        info = extra.get("chatbridge")
        return info if isinstance(info, ChatbridgeInfo) else None


# Trusted construction. Every response object the client hands out is built from values the
# router made itself (text a provider yielded, counts, names), so the client builds them
# without validating again: a fraction of the cost, on the path every call and every streamed
# chunk takes. ``tests/client/test_models_fast.py`` holds each builder equal to the validated
# construction: field for field, fields set, and byte for byte in JSON.

_new = object.__new__
# The setters of BaseModel's four slots, taken once: no attribute look-up through the
# model class per assignment (about a quarter cheaper, more when the classes are not in cache).
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_given = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def _trusted(cls: type[Any], values: dict[str, Any], given: set[str], extra: Any = None) -> Any:
    """An instance of ``cls`` holding ``values`` as is (``given``: the fields the caller set;
    ``extra``: ``{}`` for models that allow extra fields, else ``None``)."""
    model = _new(cls)
    _set_dict(model, values)
    _set_given(model, given)
    _set_extra(model, extra)
    _set_private(model, None)
    return model


def _delta(role: str | None, text: str | None, given: set[str]) -> ChoiceDelta:
    values = {"role": role, "content": text, "tool_calls": None}
    return _trusted(ChoiceDelta, values, given)  # type: ignore[no-any-return]


def _chunk(
    ident: str,
    created: int,
    model: str,
    choice: ChunkChoice | None,
    info: ChatbridgeInfo | None = None,
    usage: CompletionUsage | None = None,
) -> ChatCompletionChunk:
    given = {"id", "created", "model", "choices"}
    if usage is not None:
        given.add("usage")
    chunk: ChatCompletionChunk = _trusted(
        ChatCompletionChunk,
        {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [choice] if choice is not None else [],
            "usage": usage,
        },
        given,
        {"chatbridge": info} if info is not None else {},
    )
    return chunk


def content_chunk(ident: str, created: int, model: str, text: str) -> ChatCompletionChunk:
    """A chunk of answer text (every streamed piece after the first)."""
    choice = _trusted(
        ChunkChoice,
        {
            "index": 0,
            "delta": _delta(None, text, {"content"}),
            "logprobs": None,
            "finish_reason": None,
        },
        {"delta"},
    )
    return _chunk(ident, created, model, choice)


def role_chunk(
    ident: str, created: int, model: str, text: str, info: ChatbridgeInfo | None
) -> ChatCompletionChunk:
    """The first chunk: the role, the first text and (``info``) who started answering."""
    choice = _trusted(
        ChunkChoice,
        {
            "index": 0,
            "delta": _delta("assistant", text, {"role", "content"}),
            "logprobs": None,
            "finish_reason": None,
        },
        {"delta"},
    )
    return _chunk(ident, created, model, choice, info)


def finish_chunk(
    ident: str, created: int, model: str, finish: str, info: ChatbridgeInfo | None
) -> ChatCompletionChunk:
    """The last chunk of the answer: an empty delta, the finish reason, every attempt."""
    choice = _trusted(
        ChunkChoice,
        {"index": 0, "delta": _delta(None, None, set()), "logprobs": None, "finish_reason": finish},
        {"delta", "finish_reason"},
    )
    return _chunk(ident, created, model, choice, info)


def tool_call_chunk(
    ident: str,
    created: int,
    model: str,
    piece: ToolCallDelta,
    first: bool,
    info: ChatbridgeInfo | None,
) -> ChatCompletionChunk:
    """A piece of a tool call, as OpenAI streams it (``first``: the answer's first chunk,
    which also carries the role and ``info``). Validated: tool calls are not the hot path."""
    function = ChoiceDeltaToolCallFunction(
        name=piece.name, arguments=piece.arguments if piece.arguments or piece.id else None
    )
    call = ChoiceDeltaToolCall(
        index=piece.index,
        id=piece.id,
        type="function" if piece.id else None,
        function=function,
    )
    delta = ChoiceDelta(role="assistant" if first else None, tool_calls=[call])
    return _chunk(ident, created, model, ChunkChoice(delta=delta), info)


def usage_chunk(
    ident: str, created: int, model: str, usage: CompletionUsage
) -> ChatCompletionChunk:
    """``stream_options={"include_usage": True}``: after the last, no choices and the usage."""
    return _chunk(ident, created, model, None, usage=usage)


def completion_usage(prompt: int, completion: int, total: int) -> CompletionUsage:
    usage: CompletionUsage = _trusted(
        CompletionUsage,
        {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total},
        {"prompt_tokens", "completion_tokens", "total_tokens"},
    )
    return usage


def attempt(
    target: str,
    provider: str,
    outcome: str,
    seconds: float | None = None,
    error: str | None = None,
    message: str | None = None,
) -> Attempt:
    """An :class:`Attempt` as the router records it (``None``: a field it did not set)."""
    given = {"target", "provider", "outcome"}
    if seconds is not None:
        given.add("seconds")
    if error is not None:
        given.add("error")
    if message is not None:
        given.add("message")
    made: Attempt = _trusted(
        Attempt,
        {
            "target": target,
            "provider": provider,
            "error": error,
            "message": message,
            "seconds": 0.0 if seconds is None else seconds,
            "outcome": outcome,
        },
        given,
    )
    return made


def chatbridge_info(
    route: str,
    provider: str | None,
    site: str | None,
    target: str | None,
    attempts: list[Attempt],
    history: HistoryNote | None = None,
) -> ChatbridgeInfo:
    """The ``chatbridge`` field: who answered, every attempt made so far, and what the
    answering site was not sent of the conversation (``history``)."""
    given = {"route", "provider", "site", "target", "attempts"}
    if history is not None:
        given.add("history")
    info: ChatbridgeInfo = _trusted(
        ChatbridgeInfo,
        {
            "route": route,
            "provider": provider,
            "site": site,
            "target": target,
            "attempts": list(attempts),
            "history": history,
        },
        given,
    )
    return info


def history_note(trimmed: HistoryTrimmed) -> HistoryNote:
    """The ``chatbridge.history`` field of what a provider said it left out."""
    fields = trimmed.fields()
    note: HistoryNote = _trusted(HistoryNote, fields, set(fields))
    return note


def completion(
    ident: str,
    created: int,
    model: str,
    text: str,
    finish: str,
    usage: CompletionUsage | None,
    info: ChatbridgeInfo | None,
    tool_calls: list[ChatCompletionMessageToolCall] | None = None,
) -> ChatCompletion:
    """A whole answer (``stream=False``); with ``tool_calls``, an empty text is ``None``."""
    if tool_calls:
        message = ChatCompletionMessage(content=text or None, tool_calls=tool_calls)
    else:
        message = _trusted(
            ChatCompletionMessage,
            {"role": "assistant", "content": text, "tool_calls": None},
            {"content"},
        )
    choice = _trusted(
        Choice,
        {"index": 0, "message": message, "logprobs": None, "finish_reason": finish},
        {"message", "finish_reason"},
    )
    answer: ChatCompletion = _trusted(
        ChatCompletion,
        {
            "id": ident,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [choice],
            "usage": usage,
            "chatbridge": info,
        },
        {"id", "created", "model", "choices", "usage", "chatbridge"},
        {},
    )
    return answer
