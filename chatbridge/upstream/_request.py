"""Reading and checking a chat-completion request: OpenAI-shaped 400s for bad input."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from ._answer import message_text
from ._tools import check_tools

__all__ = ["BadRequest", "ChatRequest", "parse_request"]

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_NUMBERS = ("temperature", "top_p", "presence_penalty", "frequency_penalty")
_COUNTS = ("max_tokens", "max_completion_tokens", "n", "seed")


class BadRequest(Exception):
    """Input the upstream refuses; becomes a 400 ``invalid_request_error``."""

    def __init__(self, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


@dataclass(frozen=True, slots=True)
class ChatRequest:
    model: str
    messages: list[dict[str, Any]]
    stream: bool
    include_usage: bool
    #: Upper bound on content deltas (``max_completion_tokens`` or ``max_tokens``).
    max_tokens: int | None
    #: The trailing assistant message's text, when there is one.
    prefill: str | None
    #: The fields other than model, messages and stream, as sent.
    options: dict[str, Any]


def _check_message(index: int, message: Any) -> dict[str, Any]:
    where = f"messages[{index}]"
    if not isinstance(message, dict):
        raise BadRequest(f"Invalid type for '{where}': expected an object.", where)
    role = message.get("role")
    if not isinstance(role, str) or role not in _ROLES:
        raise BadRequest(
            f"Invalid value for '{where}.role': expected one of {sorted(_ROLES)}.",
            f"{where}.role",
        )
    content = message.get("content")
    if content is not None and not isinstance(content, str | list):
        raise BadRequest(
            f"Invalid type for '{where}.content': expected a string or an array of parts.",
            f"{where}.content",
        )
    return message


def _check_options(body: dict[str, Any]) -> None:
    for name in _NUMBERS:
        value = body.get(name)
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise BadRequest(f"Invalid type for '{name}': expected a number.", name)
    for name in _COUNTS:
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise BadRequest(f"Invalid type for '{name}': expected an integer.", name)
    for name in ("max_tokens", "max_completion_tokens", "n"):
        value = body.get(name)
        if value is not None and value < 1:
            raise BadRequest(f"Invalid '{name}': integer below minimum value 1.", name)
    if body.get("n") not in (None, 1):
        raise BadRequest("This upstream only supports n=1.", "n")
    stream_options = body.get("stream_options")
    if stream_options is not None and not isinstance(stream_options, dict):
        raise BadRequest("Invalid type for 'stream_options': expected an object.", "stream_options")
    wrong = check_tools(body.get("tools"))
    if wrong is not None:
        raise BadRequest(wrong, "tools")


def parse_request(raw: bytes) -> ChatRequest:
    """The request in ``raw``, or :class:`BadRequest` saying what is wrong."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(
            "We could not parse the JSON body of your request. (HINT: This likely means you "
            "aren't using your HTTP library correctly.)"
        ) from None
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise BadRequest("you must provide a model parameter", "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("'messages' must be a non-empty array.", "messages")
    checked = [_check_message(index, message) for index, message in enumerate(messages)]
    stream = body.get("stream", False)
    if stream is None:
        stream = False
    if not isinstance(stream, bool):
        raise BadRequest("Invalid type for 'stream': expected a boolean.", "stream")
    _check_options(body)
    stream_options = body.get("stream_options") or {}
    last = checked[-1]
    prefill = message_text(last.get("content")) if last["role"] == "assistant" else None
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    options = {k: v for k, v in body.items() if k not in ("model", "messages", "stream")}
    return ChatRequest(
        model=model,
        messages=checked,
        stream=stream,
        include_usage=bool(stream_options.get("include_usage")),
        max_tokens=limit,
        prefill=prefill,
        options=options,
    )
