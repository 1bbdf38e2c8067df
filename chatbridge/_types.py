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
class HistoryTrimmed:
    """The conversation did not fit the one message a site was sent, so earlier turns were
    left out of it: ``dropped`` turns whole (the oldest), ``shortened`` turns in their middle,
    ``removed_chars`` characters of their text in all, to fit ``budget`` characters.

    An AI Power provider yields it, before the answer's text, when asked to
    (``history_notes=True``; the client always asks and puts it in the answer's
    ``chatbridge.history``), and logs a warning either way."""

    dropped: int
    shortened: int
    removed_chars: int
    budget: int

    @property
    def message(self) -> str:
        """One line saying what was left out."""
        parts = []
        if self.dropped:
            parts.append(f"{self.dropped} earlier turn{'s' if self.dropped != 1 else ''} dropped")
        if self.shortened:
            parts.append(
                f"{self.shortened} turn{'s' if self.shortened != 1 else ''} shortened in the "
                "middle"
            )
        return (
            f"the conversation was too long for one message ({self.budget:,} characters): "
            f"{' and '.join(parts)}, {self.removed_chars:,} characters left out"
        )


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
#: finish reason and tool calls (and, when asked, what was left out of the history).
#: ``create_async`` and the synchronous calls keep only the text.
Chunk: TypeAlias = str | Usage | FinishReason | HistoryTrimmed | ToolCallDelta
