"""Anthropic's objects, built from an answer: the ``message``, its content blocks, the stop
reason, the usage, and the error shape (``{"type": "error", "error": {"type", "message"}}``).
Pure.

Usage: Anthropic's types require ``input_tokens`` and ``output_tokens``. Where the target
reported counts (an OpenAI-compatible upstream) they are those counts; where it reported none
(an AI Power site) both are 0 and the ``chatbridge`` field says ``"usage_reported": false``:
a 0 is never an estimate presented as a count.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from ..._client._models import ChatCompletionMessageToolCall, CompletionUsage
from .._errors import ApiError

__all__ = ["error_body", "error_json", "message_object", "new_message_id", "stop_reason", "usage"]

_STOP = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}
_STOP_OTHER = {"content_filter": "refusal"}
#: Anthropic's error type for each status it uses.
_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    503: "overloaded_error",
    529: "overloaded_error",
}


def new_message_id() -> str:
    return f"msg_{secrets.token_hex(16)}"


def stop_reason(finish: str | None) -> str:
    """Anthropic's stop reason for a finish reason (``stop_sequence`` cannot be told apart
    from ``end_turn``: an OpenAI-compatible target reports both as ``stop``)."""
    if finish is None:
        return "end_turn"
    return _STOP.get(finish) or _STOP_OTHER.get(finish, "end_turn")


def usage(counts: CompletionUsage | None) -> dict[str, int]:
    if counts is None:
        return {"input_tokens": 0, "output_tokens": 0}
    return {"input_tokens": counts.prompt_tokens, "output_tokens": counts.completion_tokens}


def extension(info: Any, counts: Any, ignored: list[str]) -> dict[str, Any]:
    """The ``chatbridge`` field: who answered, whether the usage is real, tools left out."""
    field: dict[str, Any] = info.model_dump() if info is not None else {}
    field["usage_reported"] = counts is not None
    if ignored:
        field["ignored_tools"] = ignored
    return field


def blocks(
    text: str | None, calls: list[ChatCompletionMessageToolCall] | None
) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = []
    if text or not calls:
        content.append({"type": "text", "text": text or ""})
    for call in calls or ():
        try:
            arguments = json.loads(call.function.arguments or "{}")
        except ValueError:
            arguments = None
        if not isinstance(arguments, dict):  # Anthropic's input is an object: keep the text
            arguments = {"arguments": call.function.arguments}
        content.append(
            {"type": "tool_use", "id": call.id, "name": call.function.name, "input": arguments}
        )
    return content


def message_object(
    ident: str,
    model: str,
    content: list[dict[str, Any]],
    finish: str | None,
    counts: CompletionUsage | None,
    chatbridge: dict[str, Any],
) -> dict[str, Any]:
    return {
        "id": ident,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason(finish) if finish is not None or content else None,
        "stop_sequence": None,
        "usage": usage(counts),
        "chatbridge": chatbridge,
    }


def error_body(error: ApiError) -> dict[str, Any]:
    kind = _TYPES.get(error.status, "api_error" if error.status >= 500 else "invalid_request_error")
    inner: dict[str, Any] = {"type": kind, "message": error.message}
    if error.attempts:
        inner["chatbridge"] = {"attempts": error.attempts}
    return {"type": "error", "error": inner}


def error_json(error: ApiError) -> str:
    return json.dumps(error_body(error), ensure_ascii=False)
