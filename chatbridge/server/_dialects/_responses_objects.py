"""The objects of OpenAI's Responses API, built from an answer: the ``response`` itself and
its ``output`` items (a ``message`` with ``output_text``, ``function_call`` items). Pure."""

from __future__ import annotations

import os
import random
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from ..._client._models import ChatCompletionMessageToolCall, CompletionUsage

__all__ = [
    "Echo",
    "call_item",
    "item_id",
    "message_item",
    "new_id",
    "now",
    "output_items",
    "response_object",
    "status_of",
    "text_part",
    "usage_of",
]


def new_id(prefix: str) -> str:
    """``resp_…``: 192 random bits from the OS (a response id is what a follow-up names, so
    it must not be guessed; its owner's key is checked too)."""
    return f"{prefix}_{secrets.token_hex(24)}"


_items = random.Random()
os.register_at_fork(after_in_child=_items.seed)
_bits = _items.getrandbits


def item_id(prefix: str) -> str:
    """``msg_…``, ``fc_…``: an output item's id, unique (96 random bits), not secret."""
    return f"{prefix}_{_bits(96):024x}"


@dataclass(slots=True)
class Echo:
    """What the request said that the response object repeats (as OpenAI's does)."""

    model: str
    instructions: str | None = None
    max_output_tokens: int | None = None
    parallel_tool_calls: bool = True
    previous_response_id: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    tool_choice: Any = "auto"
    tools: list[Any] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    store: bool = True
    user: str | None = None
    #: Tools of types left out (only OpenAI's servers run them).
    ignored_tools: list[str] = field(default_factory=list)


def text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def message_item(ident: str, text: str | None, status: str = "completed") -> dict[str, Any]:
    content = [] if text is None else [text_part(text)]
    return {
        "type": "message",
        "id": ident,
        "status": status,
        "role": "assistant",
        "content": content,
    }


def call_item(
    ident: str, call_id: str, name: str, arguments: str, status: str = "completed"
) -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": ident,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": status,
    }


def output_items(
    text: str | None, calls: list[ChatCompletionMessageToolCall] | None
) -> list[dict[str, Any]]:
    """A whole answer's output: its text as a message (also an empty one, when there are no
    calls), then one ``function_call`` per call."""
    items = []
    if text or not calls:
        items.append(message_item(item_id("msg"), text or ""))
    for call in calls or ():
        items.append(call_item(item_id("fc"), call.id, call.function.name, call.function.arguments))
    return items


def status_of(finish: str | None) -> tuple[str, dict[str, str] | None]:
    """The response's status and ``incomplete_details`` for a finish reason."""
    if finish == "length":
        return "incomplete", {"reason": "max_output_tokens"}
    if finish == "content_filter":
        return "incomplete", {"reason": "content_filter"}
    return "completed", None


def usage_of(usage: CompletionUsage | None) -> dict[str, Any] | None:
    """Token counts only when the target reported them (never made up)."""
    if usage is None:
        return None
    return {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": usage.total_tokens,
    }


def response_object(
    ident: str,
    created: int,
    echo: Echo,
    *,
    model: str,
    status: str,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None = None,
    info: Any = None,
    incomplete: dict[str, str] | None = None,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``response`` object, field for field OpenAI's, plus the ``chatbridge`` field (the
    client's own model as it is, when nothing is added to it: it serializes itself)."""
    extension: Any = info
    if echo.ignored_tools:
        extension = info.model_dump() if info is not None else {}
        extension["ignored_tools"] = echo.ignored_tools
    return {
        "id": ident,
        "object": "response",
        "created_at": created,
        "status": status,
        "background": False,
        "error": error,
        "incomplete_details": incomplete,
        "instructions": echo.instructions,
        "max_output_tokens": echo.max_output_tokens,
        "max_tool_calls": None,
        "model": model or echo.model,
        "output": output,
        "parallel_tool_calls": echo.parallel_tool_calls,
        "previous_response_id": echo.previous_response_id,
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": echo.store,
        "temperature": echo.temperature,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": echo.tool_choice,
        "tools": echo.tools,
        "top_p": echo.top_p,
        "truncation": "disabled",
        "usage": usage,
        "user": echo.user,
        "metadata": echo.metadata,
        "chatbridge": extension,
    }


def now() -> int:
    return int(time.time())
