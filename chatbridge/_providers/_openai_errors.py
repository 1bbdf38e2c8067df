"""OpenAI-style error bodies to typed errors. Pure: a status, headers and a body in, an error out.

One function, :func:`openai_error`, decides for HTTP failures and for in-band
``data: {"error": {...}}`` stream events alike:

    402/429, rate-limit codes              RateLimitError (retry_after from Retry-After, capped)
    401/403, auth codes                    MissingAuthError (a Cloudflare challenge: ChallengeError)
    content_policy_violation/_filter       ContentFilterError
    context_length_exceeded, or a message
      saying the context is exceeded       ContextLengthError
    other 400/413/422, invalid_request     InvalidRequestError (upstream code and param kept)
    404, 5xx, anything else                ResponseStatusError (status kept)

The shapes read: OpenAI's ``{"error": {"message", "type", "code", "param"}}``, vLLM's flat
``{"object": "error", "message", "type", "code": 400}``, llama.cpp's ``{"error": {"code":
400, "message", "type": "exceed_context_size_error"}}`` and Ollama's ``{"error": "text"}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._constants import MAX_RETRY_AFTER
from .._exceptions import (
    ChallengeError,
    ChatbridgeError,
    ContentFilterError,
    ContextLengthError,
    InvalidRequestError,
    MissingAuthError,
    RateLimitError,
    ResponseStatusError,
    excerpt,
)
from .._http._status import classify_status, is_challenge, retry_after_seconds

__all__ = ["ErrorFields", "error_fields", "openai_error", "retry_after", "scrub"]

_MESSAGE_LIMIT = 500
_CONTEXT_MESSAGE = re.compile(
    r"context[ _-]?(length|size|window)|maximum context|exceed_context_size"
    r"|prompt is too long|too many tokens",
    re.IGNORECASE,
)
_CONTEXT_CODES = frozenset({"context_length_exceeded", "exceed_context_size_error"})
_FILTER_CODES = frozenset({"content_policy_violation", "content_filter"})
_RATE_CODES = frozenset(
    {"rate_limit_exceeded", "rate_limit_error", "insufficient_quota", "too_many_requests"}
)
_AUTH_CODES = frozenset(
    {"invalid_api_key", "authentication_error", "permission_error", "unauthorized"}
)
_REQUEST_STATUSES = frozenset({400, 413, 422})
_KNOWN_CODES = _CONTEXT_CODES | _FILTER_CODES | _RATE_CODES | _AUTH_CODES
#: Characters of an upstream message the context-length words are looked for in.
_CLASSIFY_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class ErrorFields:
    """What an error body said. ``status`` comes from the body only when it carried one
    (vLLM's and llama.cpp's integer ``code``)."""

    message: str
    type: str | None = None
    code: str | None = None
    param: str | None = None
    status: int | None = None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def error_fields(payload: Any, fallback: str = "") -> ErrorFields:
    """The fields of an error payload (a parsed body), whatever its dialect."""
    if not isinstance(payload, dict):
        return ErrorFields(message=fallback or "no error message")
    error = payload.get("error", payload)
    if isinstance(error, str):  # Ollama: {"error": "model 'x' not found"}
        return ErrorFields(message=error)
    if not isinstance(error, dict):
        return ErrorFields(message=fallback or "no error message")
    raw_code = error.get("code")
    status = raw_code if type(raw_code) is int and 100 <= raw_code <= 599 else None
    code = _text(raw_code) or (str(raw_code) if type(raw_code) is int and status is None else None)
    message = _text(error.get("message")) or _text(error.get("detail")) or fallback
    return ErrorFields(
        message=message or "no error message",
        type=_text(error.get("type")),
        code=code,
        param=_text(error.get("param")),
        status=status if status is not None else _status_field(error),
    )


def _status_field(error: dict[str, Any]) -> int | None:
    status = error.get("status")
    return status if type(status) is int and 100 <= status <= 599 else None


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait, from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date),
    capped at :data:`MAX_RETRY_AFTER`."""
    seconds: float | None = None
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            seconds = float(milliseconds) / 1000.0
        except ValueError:
            seconds = None
        else:
            seconds = None if seconds != seconds else max(0.0, seconds)
    if seconds is None:
        seconds = retry_after_seconds(headers.get("Retry-After"))
    if seconds is None:
        return None
    return min(seconds, MAX_RETRY_AFTER)


def scrub(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` (the API key) masked."""
    if secret and secret in text:
        return text.replace(secret, "***")
    return text


def _parse_body(body: str) -> Any:
    text = body.strip()
    if not text.startswith("{"):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _shown_code(code: str | None, secret: str | None) -> str | None:
    """The upstream's code as shown: a code we know keeps its name (masking a short key
    inside ``context_length_exceeded`` would change what it means); any other is scrubbed."""
    if code is None or code in _KNOWN_CODES:
        return code
    return scrub(code, secret)


def openai_error(
    status: int | None,
    headers: Mapping[str, str],
    body: str | None = None,
    *,
    payload: Any = None,
    url: str | None = None,
    provider: str | None = None,
    secret: str | None = None,
) -> ChatbridgeError:
    """The typed error for a failed reply (``status`` and ``body``) or an in-band error event
    (``payload``, status usually ``None``). The error is classified on what the upstream
    sent; then ``secret`` is masked in everything the error shows (message, code, body)."""
    raw = body or ""
    if payload is None:
        payload = _parse_body(raw)
    fields = error_fields(payload, raw[:_CLASSIFY_LIMIT] if payload is None else "")
    kind = _classify(status, headers, raw, fields)
    shown = scrub(raw, secret)
    said = shown if payload is None else scrub(fields.message, secret)  # masked, then cut
    message = excerpt(said, _MESSAGE_LIMIT) or "no error message"
    if status is None:
        status = fields.status
    context: dict[str, Any] = {
        "provider": provider,
        "url": url,
        "status": status,
        "body": shown or None,
    }
    code = _shown_code(fields.code or fields.type, secret)
    param = scrub(fields.param, secret) if fields.param else None
    if kind is RateLimitError:
        return RateLimitError(
            f"Rate limited: {message}", retry_after=retry_after(headers), **context
        )
    if kind is ChallengeError:
        return ChallengeError("Cloudflare challenge: the site wants a browser", **context)
    if kind is MissingAuthError:
        return MissingAuthError(f"Authentication failed: {message}", **context)
    if kind is ContentFilterError:
        return ContentFilterError(message, code=code, param=param, **context)
    if kind is ContextLengthError:
        code = _shown_code(fields.code, secret) or "context_length_exceeded"
        return ContextLengthError(message, code=code, param=param, **context)
    if kind is InvalidRequestError:
        return InvalidRequestError(message, code=code, param=param, **context)
    if status is not None and status >= 400:
        error = classify_status(status, headers, shown, url=url)
        if error is not None and type(error) is not ResponseStatusError:
            return error.with_context(provider=provider)  # a challenge or a firewall page
    label = f"HTTP {status}" if status is not None else "Upstream error"
    kind_label = f" ({code})" if code else ""
    return ResponseStatusError(f"{label}{kind_label}: {message}", **context)


def _classify(
    status: int | None, headers: Mapping[str, str], body: str, fields: ErrorFields
) -> type[ChatbridgeError] | None:
    """Which error the upstream's own words make (before anything is masked), or ``None``
    for a plain status error."""
    if status is None:
        status = fields.status
    labels = {label for label in (fields.code, fields.type) if label}
    if status in (402, 429) or labels & _RATE_CODES:
        return RateLimitError
    if status in (401, 403) or labels & _AUTH_CODES:
        if status == 403 and is_challenge(headers, body):
            return ChallengeError
        return MissingAuthError
    if labels & _FILTER_CODES:
        return ContentFilterError
    request_like = status in _REQUEST_STATUSES or (
        status is None and fields.type == "invalid_request_error"
    )
    message = fields.message[:_CLASSIFY_LIMIT]
    if labels & _CONTEXT_CODES or (request_like and _CONTEXT_MESSAGE.search(message)):
        return ContextLengthError
    if request_like:
        return InvalidRequestError
    return None
