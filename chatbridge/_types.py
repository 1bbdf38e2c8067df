"""Public typing names: what a message, a conversation and a result stream are."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

#: One chat message: ``{"role": "user", "content": "hi"}``. ``content`` may also be a list
#: of parts, of which ``{"type": "text", "text": ...}`` parts carry text.
Message: TypeAlias = Mapping[str, Any]
#: A conversation, oldest message first.
Messages: TypeAlias = Sequence[Message]
#: What a streaming provider yields: text chunks.
AsyncResult: TypeAlias = AsyncIterator[str]
#: The synchronous counterpart of :data:`AsyncResult`.
CreateResult: TypeAlias = Iterator[str]


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts, yielded by a streaming provider only when its upstream reported them."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@dataclass(frozen=True, slots=True)
class FinishReason:
    """Why the upstream stopped (``"stop"``, ``"length"``…), when it said so."""

    reason: str


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A piece of a tool call the model asked for, as OpenAI streams one: the first piece of
    call ``index`` carries its ``id`` and function ``name``, the later pieces only fragments of
    its ``arguments`` (a JSON text, whole once joined). A non-streamed answer's call is one
    piece with everything."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


#: A chunk a provider may yield: text, and where its upstream reports them, usage, the
#: finish reason and tool calls. ``create_async`` and the synchronous calls keep only the text.
Chunk: TypeAlias = str | Usage | FinishReason | ToolCallDelta
