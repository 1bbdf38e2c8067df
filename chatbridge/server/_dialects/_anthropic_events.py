"""An Anthropic Messages stream, in Anthropic's event order::

    message_start, content_block_start (text), ping, content_block_delta (text_delta) …,
    content_block_stop, content_block_start (tool_use), content_block_delta
    (input_json_delta) …, content_block_stop, message_delta (stop_reason, usage),
    message_stop

Nothing goes out before the route's first text or tool call (the pipeline awaits it: any
failure until then is an HTTP error in Anthropic's shape, and the route fails over
invisibly). A failure after ``message_start`` is one ``event: error`` in Anthropic's error
shape, and nothing after it.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import to_json

from ..._client._models import ChatCompletionChunk, ChoiceDeltaToolCall
from .._errors import ApiError
from ._anthropic_objects import error_body, extension, message_object, stop_reason, usage
from ._chunks import ChunkEvents

__all__ = ["MessagesEvents"]

_PING = b'event: ping\ndata: {"type":"ping"}\n\n'


def _event(kind: str, payload: dict[str, Any]) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + to_json(payload) + b"\n\n"


class MessagesEvents(ChunkEvents):
    """One stream's events; it keeps the block being streamed and what message_delta says."""

    def __init__(self, ident: str, ignored_tools: list[str]) -> None:
        super().__init__()
        self.ident = ident
        self.ignored = ignored_tools
        #: Index of the open block (-1: none yet), and whether it is text.
        self.index = -1
        self.open = False
        self.text = False
        self._delta_head = b""

    def start(self, first: ChatCompletionChunk) -> bytes:
        self.info = first.chatbridge
        message = message_object(self.ident, first.model, [], None, None, {})
        message["stop_reason"] = None
        return _event("message_start", {"type": "message_start", "message": message}) + self.chunk(
            first
        )

    def _text(self, text: str) -> bytes:
        out = b"" if self.open and self.text else self._begin({"type": "text", "text": ""})
        return out + self._delta_head + to_json(text) + b"}}\n\n"

    def _piece(self, piece: ChoiceDeltaToolCall) -> bytes:
        function = piece.function
        out = b""
        if self._begins_call(piece, self.open and not self.text):
            name = function.name if function is not None and function.name else ""
            block = {"type": "tool_use", "id": piece.id or "", "name": name, "input": {}}
            out = self._begin(block)
        fragment = function.arguments if function is not None else None
        if fragment:
            delta = {"type": "input_json_delta", "partial_json": fragment}
            payload = {"type": "content_block_delta", "index": self.index, "delta": delta}
            out += _event("content_block_delta", payload)
        return out

    def _begin(self, block: dict[str, Any]) -> bytes:
        out = self._stop()
        self.index += 1
        self.open, self.text = True, block["type"] == "text"
        start = {"type": "content_block_start", "index": self.index, "content_block": block}
        out += _event("content_block_start", start)
        if self.index == 0:
            out += _PING
        self._delta_head = (
            b'event: content_block_delta\ndata: {"type":"content_block_delta","index":'
            + str(self.index).encode()
            + b',"delta":{"type":"text_delta","text":'
        )
        return out

    def _stop(self) -> bytes:
        if not self.open:
            return b""
        self.open = False
        return _event("content_block_stop", {"type": "content_block_stop", "index": self.index})

    async def end(self) -> bytes:
        out = b"" if self.index >= 0 else self._begin({"type": "text", "text": ""})
        out += self._stop()
        delta = {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason(self.finish), "stop_sequence": None},
            "usage": usage(self.usage),
            "chatbridge": extension(self.info, self.usage, self.ignored),
        }
        out += _event("message_delta", delta)
        return out + _event("message_stop", {"type": "message_stop"})

    def error(self, error: ApiError) -> bytes:
        return b"event: error\ndata: " + to_json(error_body(error)) + b"\n\n"
