"""Reading one chat-completions request: JSON, types and caps, with no I/O. Every mistake
is an :class:`ApiError` 400 naming the field. :class:`ChatRequest` is also what every other
front door reads its requests into (``_dialects``), with the same caps
(:func:`check_messages`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._errors import ApiError
from ._settings import ServerSettings

__all__ = ["ChatRequest", "bad", "check_messages", "parse_chat", "read_flag", "read_object"]

#: OpenAI's optional fields that are handed on to the targets (each takes what it knows);
#: any other field is accepted and ignored, never an error.
PASSED_ON = frozenset(
    {
        "temperature", "top_p", "n", "stop", "max_tokens", "max_completion_tokens",
        "presence_penalty", "frequency_penalty", "logit_bias", "user", "seed", "tools",
        "tool_choice", "response_format", "logprobs", "top_logprobs", "parallel_tool_calls",
        "reasoning_effort", "metadata", "store", "service_tier",
    }
)  # fmt: skip
#: The extension fields that name a site (only when the config allows it).
SITE_FIELDS = ("site_url", "chat_page", "bot_id")


@dataclass
class ChatRequest:
    """One call of the client, as a front door asks for it."""

    model: str
    messages: list[dict[str, Any]]
    stream: bool = False
    include_usage: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    site: dict[str, Any] = field(default_factory=dict)


def bad(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    """The 400 for a request's mistake."""
    return ApiError(400, message, "invalid_request_error", code, param)


_bad = bad


def _text_length(content: Any, where: str) -> int:
    if content is None or isinstance(content, str):
        return len(content or "")
    if isinstance(content, list):
        total = 0
        for index, part in enumerate(content):
            if not isinstance(part, Mapping) or not isinstance(part.get("type"), str):
                raise _bad(f"{where}[{index}] must be an object with a 'type'", where)
            text = part.get("text", "")
            if not isinstance(text, str):
                raise _bad(f"{where}[{index}].text must be a string", where)
            total += len(text)
        return total
    raise _bad(f"{where} must be a string, a list of parts or null", where)


#: The roles OpenAI's chat API accepts.
_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


def check_messages(value: Any, settings: ServerSettings) -> list[dict[str, Any]]:
    """Chat messages within the caps (count, characters per message), each with a known
    role; a 400 naming the message otherwise."""
    if not isinstance(value, list) or not value:
        raise _bad("'messages' must be a non-empty array", "messages")
    if len(value) > settings.max_messages:
        raise _bad(
            f"too many messages: {len(value)} > {settings.max_messages}",
            "messages",
            "too_many_messages",
        )
    for index, message in enumerate(value):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise _bad(f"{where} must be an object", where)
        role = message.get("role")
        if role not in _ROLES:
            raise _bad(
                f"{where}.role must be one of {', '.join(sorted(_ROLES))}, not {role!r:.40}",
                f"{where}.role",
            )
        length = _text_length(message.get("content"), f"{where}.content")
        if length > settings.max_message_chars:
            raise _bad(
                f"{where} is too long: {length} characters > {settings.max_message_chars}",
                f"{where}.content",
                "message_too_long",
            )
    return value


def read_object(body: bytes) -> dict[str, Any]:
    """The body's JSON object, with ``model`` a non-empty string."""
    try:
        data = json.loads(body)
    except RecursionError:
        raise _bad("the body is nested too deeply to be read") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise _bad(f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise _bad("the body must be a JSON object")
    model = data.get("model")
    if not isinstance(model, str) or not model:
        raise _bad("'model' is required: a route or model name (see GET /v1/models)", "model")
    return data


def read_flag(data: dict[str, Any], name: str, default: bool = False) -> bool:
    """A true/false field (absent or null: ``default``)."""
    value = data.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _bad(f"'{name}' must be true or false", name)
    return value


def parse_chat(body: bytes, settings: ServerSettings) -> ChatRequest:
    data = read_object(body)
    model = data["model"]
    stream = read_flag(data, "stream")
    stream_options = data.get("stream_options")
    if stream_options is not None and not isinstance(stream_options, dict):
        raise _bad("'stream_options' must be an object", "stream_options")
    options = {k: v for k, v in data.items() if k in PASSED_ON and v is not None}
    site = {k: data[k] for k in SITE_FIELDS if data.get(k) is not None}
    return ChatRequest(
        model=model,
        messages=check_messages(data.get("messages"), settings),
        stream=stream,
        include_usage=bool((stream_options or {}).get("include_usage")),
        options=options,
        site=site,
    )
