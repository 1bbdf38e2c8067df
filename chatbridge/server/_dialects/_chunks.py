"""What a translating door reads from each chunk of the client's stream: who answered, the
usage, the finish reason, and the text or the tool-call pieces it hands to the door's own
events (:meth:`ChunkEvents._text`, :meth:`ChunkEvents._piece`).

Pieces belong to calls by their ``index``, as the client joins them (``merge_calls``): a
piece with a new index begins a call, and an upstream that repeats a call's ``id`` on every
piece still makes one call."""

from __future__ import annotations

from typing import Any

from ..._client._models import ChatCompletionChunk, ChoiceDeltaToolCall

__all__ = ["ChunkEvents"]


class ChunkEvents:
    """The base of a door's stream renderer: :meth:`chunk` is the door's ``Events.chunk``."""

    def __init__(self) -> None:
        self.finish: str | None = None
        self.usage: Any = None
        self.info: Any = None
        #: The ``index`` of the call whose pieces are streaming (``None``: none yet).
        self.call_index: int | None = None

    def chunk(self, chunk: ChatCompletionChunk) -> bytes:
        if chunk.chatbridge is not None:
            self.info = chunk.chatbridge
        if chunk.usage is not None:
            self.usage = chunk.usage
        if not chunk.choices:
            return b""
        choice = chunk.choices[0]
        delta = choice.delta
        out = b""
        if delta.content:
            out = self._text(delta.content)
        if delta.tool_calls:
            for piece in delta.tool_calls:
                out += self._piece(piece)
        if choice.finish_reason is not None:
            self.finish = choice.finish_reason
        return out

    def _begins_call(self, piece: ChoiceDeltaToolCall, open_call: bool) -> bool:
        """Does ``piece`` begin a call (none is open, or its index is another's)?"""
        begins = not open_call or piece.index != self.call_index
        self.call_index = piece.index
        return begins

    def _text(self, text: str) -> bytes:
        raise TypeError(f"{type(self).__name__} renders no text")

    def _piece(self, piece: ChoiceDeltaToolCall) -> bytes:
        raise TypeError(f"{type(self).__name__} renders no tool calls")
