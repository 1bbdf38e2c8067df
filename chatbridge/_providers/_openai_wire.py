"""The OpenAI chat-completions wire format, both ways. Pure: no I/O here.

:func:`request_body` builds the JSON a call sends; :class:`StreamParser` reads a streamed
reply one SSE ``data`` field at a time; :func:`parse_completion` reads a non-streamed one.
Tool calls go both ways as OpenAI sends them: ``tools``, ``tool_choice`` and
``parallel_tool_calls`` out (messages, with assistant ``tool_calls`` and ``tool`` results,
go as given), and the answer's calls back as :class:`ToolCallDelta` pieces.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .._exceptions import ChatbridgeError, InvalidRequestError, ResponseError, excerpt
from .._text import TextBuffer
from .._types import Messages, ToolCallDelta, Usage
from ._openai_errors import openai_error

__all__ = [
    "SENT_OPTIONS",
    "StreamParser",
    "parse_completion",
    "parse_tool_calls",
    "parse_usage",
    "request_body",
]

#: The request fields passed through from ``**options`` when given and not ``None``. Any
#: other option is ignored (never an error).
SENT_OPTIONS = (
    "frequency_penalty",
    "max_completion_tokens",
    "max_tokens",
    "parallel_tool_calls",
    "presence_penalty",
    "response_format",
    "seed",
    "stop",
    "temperature",
    "tool_choice",
    "tools",
    "top_p",
    "user",
)


def request_body(model: str, messages: Messages, stream: bool, options: Mapping[str, Any]) -> bytes:
    """The encoded request. Messages go as given (list contents and a trailing assistant
    message included); ``n`` may only be 1."""
    if not messages:
        raise InvalidRequestError("messages must not be empty", param="messages")
    n = options.get("n")
    if n is not None and n != 1:
        raise InvalidRequestError(f"n={n!r} is not supported: one answer per call", param="n")
    body: dict[str, Any] = {"model": model, "messages": [dict(m) for m in messages]}
    for name in SENT_OPTIONS:
        value = options.get(name)
        if value is not None:
            body[name] = value
    body["stream"] = stream
    if stream:
        body["stream_options"] = {"include_usage": True}
    try:
        return json.dumps(body, ensure_ascii=False).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidRequestError(f"The request cannot be encoded as JSON: {exc}") from exc


def parse_usage(value: Any) -> Usage | None:
    """A :class:`Usage` when the upstream reported token counts, else ``None`` (never made
    up: only a missing total is derived from the two counts)."""
    if type(value) is not dict:
        return None
    prompt = value.get("prompt_tokens")
    completion = value.get("completion_tokens")
    if type(prompt) is not int or type(completion) is not int:
        return None
    total = value.get("total_tokens")
    return Usage(prompt, completion, total if type(total) is int else prompt + completion)


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return "".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


class StreamParser:
    """Reads a streamed completion event by event; keeps the text so far, the finish reason,
    the usage and whether ``[DONE]`` came. ``feed`` returns the event's text ("" for none)
    and raises the typed error for an invalid event or an in-band error.

    The text so far (for a cut stream's ``partial``) is kept in a :class:`TextBuffer`, close
    to its own size, not as the chunks' own strings (about 15 times its size)."""

    __slots__ = (
        "_context",
        "_kept",
        "_secret",
        "calls",
        "done",
        "events",
        "finish_reason",
        "usage",
    )

    def __init__(
        self, *, provider: str | None = None, url: str | None = None, secret: str | None = None
    ) -> None:
        self._context: dict[str, Any] = {"provider": provider, "url": url}
        self._secret = secret
        self.events = 0
        self._kept = TextBuffer()
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.done = False
        #: Tool-call pieces read and not yet taken (:meth:`take_calls`).
        self.calls: list[ToolCallDelta] = []

    def take_calls(self) -> list[ToolCallDelta]:
        calls, self.calls = self.calls, []
        return calls

    @property
    def text(self) -> str:
        return self._kept.text()

    @property
    def parts(self) -> int:
        """Chunks of text so far."""
        return self._kept.pieces

    def feed(self, data: str) -> str:
        self.events += 1
        if data == "[DONE]":
            self.done = True
            return ""
        try:
            chunk = json.loads(data)
        except ValueError as exc:
            if not data.strip():
                return ""  # an empty keep-alive event
            raise ResponseError(
                f"Stream event {self.events} is not valid JSON: {exc}", body=data, **self._context
            ) from exc
        if type(chunk) is not dict:
            raise self._shape_error(data)
        if "error" in chunk:
            raise self._error(chunk, data)
        usage = chunk.get("usage")
        if usage:
            self.usage = parse_usage(usage)
        choices = chunk.get("choices")
        if not choices:
            return ""
        try:
            choice = choices[0]
            delta = choice.get("delta") or choice.get("message") or {}
            content = delta.get("content")
            reason = choice.get("finish_reason")
            calls = delta.get("tool_calls")
        except (AttributeError, IndexError, KeyError, TypeError):
            raise self._shape_error(data) from None
        if calls:
            pieces = parse_tool_calls(calls, streamed=True)
            if pieces is None:
                raise self._shape_error(data)
            self.calls.extend(pieces)
        text = content if type(content) is str else _content_text(content)
        if text:
            self._kept.append(text)
        if reason:
            self.finish_reason = str(reason)
        return text

    def _shape_error(self, data: str) -> ResponseError:
        return ResponseError(
            f"Stream event {self.events} is not a chat completion chunk",
            body=data,
            **self._context,
        )

    def _error(self, payload: dict[str, Any], data: str) -> ChatbridgeError:
        return openai_error(None, {}, data, payload=payload, secret=self._secret, **self._context)


def _tool_call(item: Any, position: int, streamed: bool) -> ToolCallDelta | None:
    if type(item) is not dict:
        return None
    function = item.get("function") or {}
    index = item.get("index", position)
    ident, name = item.get("id"), function.get("name") if type(function) is dict else None
    arguments = function.get("arguments", "") if type(function) is dict else None
    if type(arguments) is dict and not streamed:  # a server that sends the object itself
        arguments = json.dumps(arguments, ensure_ascii=False)
    if arguments is None:
        arguments = ""
    if (
        type(index) is not int
        or not isinstance(arguments, str)
        or not isinstance(ident, str | None)
        or not isinstance(name, str | None)
    ):
        return None
    if not streamed and (not ident or not name):
        return None
    return ToolCallDelta(index, ident or None, name or None, arguments)


def parse_tool_calls(value: Any, *, streamed: bool) -> list[ToolCallDelta] | None:
    """The tool calls of a message (``streamed=False``: each whole, with id and name) or the
    pieces of a delta; ``None`` when they are not in OpenAI's shape."""
    if type(value) is not list:
        return None
    calls = [_tool_call(item, position, streamed) for position, item in enumerate(value)]
    if any(call is None for call in calls):
        return None
    return calls  # type: ignore[return-value]  # (no None left)


def parse_completion(
    payload: Any, *, provider: str | None = None, url: str | None = None, secret: str | None = None
) -> tuple[str, str | None, Usage | None, list[ToolCallDelta]]:
    """``(text, finish_reason, usage, tool calls)`` of a non-streamed ``chat.completion``."""
    context: dict[str, Any] = {"provider": provider, "url": url}
    if type(payload) is not dict:
        raise ResponseError("The reply is not a chat completion object", **context)
    if "error" in payload:
        raise openai_error(None, {}, json.dumps(payload), payload=payload, secret=secret, **context)
    choices = payload.get("choices")
    try:
        choice = choices[0]  # type: ignore[index]
        message = choice.get("message") or {}
        text = _content_text(message.get("content"))
        reason = choice.get("finish_reason")
        raw_calls = message.get("tool_calls")
    except (AttributeError, IndexError, KeyError, TypeError):
        raise ResponseError(
            "The reply has no choices[0].message",
            body=excerpt(json.dumps(payload)),
            **context,
        ) from None
    calls = parse_tool_calls(raw_calls, streamed=False) if raw_calls else []
    if calls is None:
        raise ResponseError(
            "The reply's tool_calls are not in OpenAI's shape",
            body=excerpt(json.dumps(payload)),
            **context,
        )
    return text, str(reason) if reason else None, parse_usage(payload.get("usage")), calls
