"""A Responses stream, in OpenAI's event order, each event with its ``sequence_number``::

    response.created, response.in_progress,
    response.output_item.added (message), response.content_part.added,
    response.output_text.delta …, response.output_text.done, response.content_part.done,
    response.output_item.done,
    response.output_item.added (function_call), response.function_call_arguments.delta …,
    response.function_call_arguments.done, response.output_item.done,
    response.completed (or response.incomplete)

Nothing goes out before the route's first text or tool call (the pipeline awaits it, so any
failure until then is an HTTP status and the route fails over invisibly). A failure after
that is one ``response.failed`` event, and nothing after it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic_core import to_json

from ..._client._models import (
    ChatCompletionChunk,
    ChatCompletionMessageToolCall,
    ChoiceDeltaToolCall,
    Function,
)
from .._errors import ApiError
from ._chunks import ChunkEvents
from ._responses_objects import (
    call_item,
    item_id,
    message_item,
    response_object,
    status_of,
    text_part,
    usage_of,
)

if TYPE_CHECKING:
    from ._responses import ResponsesExchange

__all__ = ["ResponsesEvents"]


class ResponsesEvents(ChunkEvents):
    """One stream's events; it also keeps what the final ``response`` object holds."""

    def __init__(self, exchange: ResponsesExchange) -> None:
        super().__init__()
        self.exchange = exchange
        self.sequence = 0
        self.model = exchange.echo.model
        #: Finished output items; the item being streamed is ``message`` or ``call``.
        self.items: list[dict[str, Any]] = []
        self.message: dict[str, Any] | None = None
        self.text: list[str] = []
        self.call: dict[str, Any] | None = None
        self.arguments: list[str] = []
        self.calls: list[Any] = []
        self._delta_head = b""

    def _event(self, kind: str, **fields: Any) -> bytes:
        payload = to_json({"type": kind, "sequence_number": self.sequence, **fields})
        self.sequence += 1
        return b"event: " + kind.encode() + b"\ndata: " + payload + b"\n\n"

    def _with_response(self, kind: str, response: bytes) -> bytes:
        """An event that carries the whole ``response`` (already encoded)."""
        sequence = self.sequence
        self.sequence += 1
        return (
            b"event: " + kind.encode() + b'\ndata: {"type":"' + kind.encode()
            + b'","sequence_number":' + str(sequence).encode() + b',"response":' + response
            + b"}\n\n"
        )  # fmt: skip

    def _object(self, status: str, **extra: Any) -> dict[str, Any]:
        x = self.exchange
        return response_object(
            x.ident, x.created, x.echo, model=self.model, status=status, output=self.items,
            info=self.info, **extra,
        )  # fmt: skip

    def start(self, first: ChatCompletionChunk) -> bytes:
        self.model = first.model
        self.info = first.chatbridge
        begun = to_json(self._object("in_progress"))  # one object, in both events
        opened = self._with_response("response.created", begun)
        opened += self._with_response("response.in_progress", begun)
        return opened + self.chunk(first)

    # Text.

    def _text(self, text: str) -> bytes:
        out = b"" if self.message is not None else self._open_message()
        self.text.append(text)
        sequence = self.sequence
        self.sequence += 1
        return (
            out + self._delta_head + str(sequence).encode() + b',"delta":'
            + to_json(text) + b',"logprobs":[]}\n\n'
        )  # fmt: skip

    def _open_message(self) -> bytes:
        out = self._close()
        index = len(self.items)
        self.message = message_item(item_id("msg"), None, "in_progress")
        ident = self.message["id"]
        out += self._event("response.output_item.added", output_index=index, item=self.message)
        out += self._event(
            "response.content_part.added", item_id=ident, output_index=index, content_index=0,
            part=text_part(""),
        )  # fmt: skip
        self._delta_head = (
            b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta",'
            b'"item_id":"' + ident.encode() + b'","output_index":' + str(index).encode()
            + b',"content_index":0,"sequence_number":'
        )  # fmt: skip
        return out

    def _close_message(self) -> bytes:
        message, self.message = self.message, None
        assert message is not None
        text = "".join(self.text)
        self.text = []
        index, ident = len(self.items), message["id"]
        where = {"item_id": ident, "output_index": index, "content_index": 0}
        out = self._event("response.output_text.done", **where, text=text, logprobs=[])
        out += self._event("response.content_part.done", **where, part=text_part(text))
        done = {**message, "status": "completed", "content": [text_part(text)]}
        self.items.append(done)
        return out + self._event("response.output_item.done", output_index=index, item=done)

    # Tool calls.

    def _piece(self, piece: ChoiceDeltaToolCall) -> bytes:
        function = piece.function
        out = b""
        call = self.call
        if self._begins_call(piece, call is not None) or call is None:
            out = self._close()
            name = function.name if function is not None and function.name else ""
            call = self.call = call_item(item_id("fc"), piece.id or "", name, "", "in_progress")
            self.calls.append(call)
            index = len(self.items)
            out += self._event("response.output_item.added", output_index=index, item=call)
        fragment = function.arguments if function is not None else None
        if fragment:
            self.arguments.append(fragment)
            out += self._event(
                "response.function_call_arguments.delta",
                item_id=call["id"], output_index=len(self.items), delta=fragment,
            )  # fmt: skip
        return out

    def _close_call(self) -> bytes:
        call, self.call = self.call, None
        assert call is not None
        call["arguments"], call["status"] = "".join(self.arguments), "completed"
        self.arguments = []
        index = len(self.items)
        out = self._event(
            "response.function_call_arguments.done",
            item_id=call["id"], output_index=index, name=call["name"],
            arguments=call["arguments"],
        )  # fmt: skip
        self.items.append(call)
        return out + self._event("response.output_item.done", output_index=index, item=call)

    def _close(self) -> bytes:
        if self.message is not None:
            return self._close_message()
        if self.call is not None:
            return self._close_call()
        return b""

    # The end.

    async def end(self) -> bytes:
        out = b""
        if not self.items and self.message is None and self.call is None:
            out = self._open_message()  # an empty answer is still one message
        out += self._close()
        status, incomplete = status_of(self.finish)
        response = self._object(status, usage=usage_of(self.usage), incomplete=incomplete)
        text = "".join(i["content"][0]["text"] for i in self.items if i["type"] == "message")
        encoded = await self.exchange.keep(response, text, _as_calls(self.calls))
        kind = "response.completed" if status == "completed" else "response.incomplete"
        return out + self._with_response(kind, encoded)

    def error(self, error: ApiError) -> bytes:
        failure = {"code": error.code or error.type, "message": error.message}
        return self._event("response.failed", response=self._object("failed", error=failure))


def _as_calls(items: list[dict[str, Any]]) -> list[ChatCompletionMessageToolCall]:
    return [
        ChatCompletionMessageToolCall(
            id=item["call_id"], function=Function(name=item["name"], arguments=item["arguments"])
        )
        for item in items
    ]
