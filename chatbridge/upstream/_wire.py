"""Bytes on the wire, shaped exactly like OpenAI's: error bodies, SSE frames, completions.

Frames are built from pre-encoded pieces: per request only the id, the model and each
delta's JSON string are encoded (deltas through a cache), so the fake stays a cheap floor
for benchmarks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from aiohttp import web

from ._tools import Call

__all__ = ["DONE", "StreamFrames", "completion_body", "error_body", "error_response"]

DONE = b"data: [DONE]\n\n"
_dumps = json.dumps
_token_json = lru_cache(maxsize=8192)(json.dumps)


def error_body(
    message: str, error_type: str, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def error_response(
    status: int,
    message: str,
    error_type: str = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """An OpenAI-shaped error reply."""
    return web.Response(
        body=_dumps(error_body(message, error_type, code, param)).encode(),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


class StreamFrames:
    """The SSE frames of one streamed completion."""

    __slots__ = ("_head", "_prefix")

    def __init__(self, completion_id: str, created: int, model: str) -> None:
        self._head = (
            f'data: {{"id":"{completion_id}","object":"chat.completion.chunk",'
            f'"created":{created},"model":{_dumps(model)},"system_fingerprint":"fp_fake",'
        )
        self._prefix = self._head + '"choices":[{"index":0,"delta":{"content":'

    def role(self) -> bytes:
        return (
            self._head + '"choices":[{"index":0,"delta":{"role":"assistant","content":""},'
            '"logprobs":null,"finish_reason":null}]}\n\n'
        ).encode()

    def content(self, deltas: list[str]) -> list[bytes]:
        prefix = self._prefix
        suffix = '},"logprobs":null,"finish_reason":null}]}\n\n'
        return [(prefix + _token_json(delta) + suffix).encode() for delta in deltas]

    def calls(self, calls: Sequence[Call]) -> list[bytes]:
        """A tool-call answer's deltas, as OpenAI streams them: per call, one delta with its
        index, id, type, name and empty arguments, then one per fragment of the arguments."""
        frames = []
        suffix = '},"logprobs":null,"finish_reason":null}]}\n\n'
        for index, call in enumerate(calls):
            start = {
                "index": index,
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            pieces = [start] + [
                {"index": index, "function": {"arguments": piece}} for piece in call.fragments()
            ]
            for piece in pieces:
                delta = _dumps({"tool_calls": [piece]})[1:-1]
                frames.append((self._head + '"choices":[{"index":0,"delta":{' + delta + suffix)
                              .encode())  # fmt: skip
        return frames

    def finish(self, reason: str) -> bytes:
        return (
            self._head + '"choices":[{"index":0,"delta":{},"logprobs":null,'
            f'"finish_reason":"{reason}"}}]}}\n\n'
        ).encode()

    def usage(self, prompt: int, completion: int) -> bytes:
        return (
            self._head + f'"choices":[],"usage":{_dumps(_usage(prompt, completion))}}}\n\n'
        ).encode()

    @staticmethod
    def error(message: str, error_type: str, code: str | None) -> bytes:
        return b"data: " + _dumps(error_body(message, error_type, code)).encode() + b"\n\n"

    @staticmethod
    def malformed() -> bytes:
        return b'data: {"id":"chatcmpl-broken","choices":[{"index":0,"delta":{"content":\n\n'


def completion_body(
    completion_id: str,
    created: int,
    model: str,
    text: str,
    reason: str,
    usage: tuple[int, int] | None,
    calls: Sequence[Call] = (),
) -> bytes:
    """A non-streamed ``chat.completion`` object, encoded (``calls``: a tool-call answer)."""
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
    if calls:
        message["content"] = None
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in calls
        ]
    body: dict[str, Any] = {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": reason,
            }
        ],
    }
    if usage is not None:
        body["usage"] = _usage(*usage)
    return _dumps(body).encode()
