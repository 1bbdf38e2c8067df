"""Public typing names: what a message, a conversation and a result stream are."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
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
    """The site was not sent the conversation as the caller wrote it.

    AI Power, when the conversation goes as one message of at most ``budget`` characters:
    ``dropped`` turns left out whole (the oldest), ``shortened`` turns that lost their middle,
    ``removed_chars`` characters of their text in all. AI Engine, when the conversation has
    more messages than the site's bot keeps (``max_messages``): the ``folded`` oldest ones went,
    as lines, into one system message (their text is kept; the turns are not).

    A provider that changes the conversation so logs a warning, and tells the listener the
    caller gave it (``on_history=``) once, before the answer's text; the client always gives
    one and puts the note in the answer's ``chatbridge.history``, the command line's
    ``--json`` in ``history``."""

    dropped: int
    shortened: int
    removed_chars: int
    budget: int | None
    folded: int = 0
    max_messages: int | None = None

    @property
    def message(self) -> str:
        """One line saying what was left out or folded."""
        if self.folded:
            oldest = _turns(self.folded, "message")
            return (
                f"the conversation had more messages than the site's bot keeps "
                f"({self.max_messages}): the oldest {oldest} folded into one system message "
                "(their text kept)"
            )
        parts = []
        if self.dropped:
            parts.append(f"{_turns(self.dropped, 'earlier turn')} dropped")
        if self.shortened:
            parts.append(f"{_turns(self.shortened)} shortened in the middle")
        return (
            f"the conversation was too long for one message ({self.budget or 0:,} characters): "
            f"{' and '.join(parts)}, {self.removed_chars:,} characters left out"
        )

    def fields(self) -> dict[str, Any]:
        """Every field and the one-line message: the answer's ``chatbridge.history`` and the
        command line's ``--json`` ``history``."""
        return {
            "dropped": self.dropped,
            "shortened": self.shortened,
            "removed_chars": self.removed_chars,
            "budget": self.budget,
            "folded": self.folded,
            "max_messages": self.max_messages,
            "message": self.message,
        }


def _turns(count: int, what: str = "turn") -> str:
    return f"{count} {what}{'s' if count != 1 else ''}"


#: What a provider calls, once per call, with what the site was not sent of the conversation
#: (its ``on_history=`` option).
HistoryListener: TypeAlias = Callable[[HistoryTrimmed], object]

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
#: finish reason and tool calls. ``create_async`` and the synchronous calls keep only the
#: text. (What was left out of the history goes to the ``on_history=`` listener.)
Chunk: TypeAlias = str | Usage | FinishReason | ToolCallDelta
