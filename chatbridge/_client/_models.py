"""The response types, field for field OpenAI's: ``.model_dump_json()`` is what a server
sends. The one addition is the ``chatbridge`` field, which says who answered and what was
tried; OpenAI clients ignore unknown fields."""

from __future__ import annotations

import os
import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Attempt",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionMessage",
    "ChatbridgeInfo",
    "Choice",
    "ChoiceDelta",
    "ChunkChoice",
    "CompletionUsage",
    "content_chunk",
    "new_completion_id",
]


def new_completion_id() -> str:
    return "chatcmpl-" + os.urandom(12).hex()


def now() -> int:
    return int(time.time())


def _is_none(value: object) -> bool:
    return value is None


class Attempt(BaseModel):
    """One try of one target during a call."""

    target: str
    provider: str
    #: The error's class name; ``None`` for the attempt that answered.
    error: str | None = None
    #: The error's one-line message (no secrets), or why the target was skipped.
    message: str | None = None
    seconds: float = 0.0
    #: ``"answered"``, ``"failed"``, ``"skipped"`` or ``"continued"`` (a continuation).
    outcome: Literal["answered", "failed", "skipped", "continued"] = "failed"


class ChatbridgeInfo(BaseModel):
    """Who answered, and every attempt made on the way."""

    route: str
    provider: str | None = None
    site: str | None = None
    target: str | None = None
    attempts: list[Attempt] = []


class CompletionUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletionMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str | None = None


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


class ChoiceDelta(BaseModel):
    """OpenAI sends the role on the first delta only, and an empty delta with the finish."""

    role: Literal["assistant"] | None = Field(default=None, exclude_if=_is_none)
    content: str | None = Field(default=None, exclude_if=_is_none)


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


_new = object.__new__
_set = object.__setattr__
_DELTA_SET = frozenset({"content"})
_CHOICE_SET = frozenset({"delta"})
_CHUNK_SET = frozenset({"id", "created", "model", "choices"})


def _built(cls: type[BaseModel], values: dict[str, Any], fields_set: frozenset[str]) -> Any:
    model = _new(cls)
    _set(model, "__dict__", values)
    _set(model, "__pydantic_fields_set__", set(fields_set))
    _set(model, "__pydantic_extra__", {} if cls is ChatCompletionChunk else None)
    _set(model, "__pydantic_private__", None)
    return model


def content_chunk(ident: str, created: int, model: str, text: str) -> ChatCompletionChunk:
    """A content chunk, built without re-validating values the router made itself: about
    half the cost of validating, on the path every streamed token takes. A test holds it
    equal, field for field and byte for byte, to the validated construction."""
    delta = _built(ChoiceDelta, {"role": None, "content": text}, _DELTA_SET)
    choice = _built(
        ChunkChoice,
        {"index": 0, "delta": delta, "logprobs": None, "finish_reason": None},
        _CHOICE_SET,
    )
    values = {
        "id": ident,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [choice],
        "usage": None,
    }
    chunk: ChatCompletionChunk = _built(ChatCompletionChunk, values, _CHUNK_SET)
    return chunk
