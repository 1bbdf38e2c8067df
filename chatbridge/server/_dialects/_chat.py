"""The chat-completions door (``POST /v1/chat/completions``): the request is already the
client's call; the answer is the completion itself, or its chunks as ``data: {chunk}``
events ended by ``data: [DONE]``, and a failure after the first byte is one in-band
``data: {"error": ...}`` event."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from ..._client._models import ChatCompletion, ChatCompletionChunk
from .._errors import ApiError
from .._request import ChatRequest, parse_chat
from .._state import State

__all__ = ["CHAT"]

_DONE = b"data: [DONE]\n\n"


def _event(payload: str) -> bytes:
    return b"data: " + payload.encode() + b"\n\n"


class _ChatEvents:
    __slots__ = ()

    def start(self, first: ChatCompletionChunk) -> bytes:
        return _event(first.model_dump_json())

    def chunk(self, chunk: ChatCompletionChunk) -> bytes:
        return _event(chunk.model_dump_json())

    async def end(self) -> bytes:
        return _DONE

    def error(self, error: ApiError) -> bytes:
        return _event(error.json())


_EVENTS = _ChatEvents()


@dataclass(slots=True)
class _ChatExchange:
    call: ChatRequest

    async def whole(self, completion: ChatCompletion) -> bytes:
        return completion.model_dump_json().encode()

    def events(self) -> _ChatEvents:
        return _EVENTS


class _ChatDoor:
    endpoint = "chat_completions"

    async def read(self, request: web.Request, body: bytes, state: State) -> _ChatExchange:
        return _ChatExchange(parse_chat(body, state.settings))


CHAT = _ChatDoor()
