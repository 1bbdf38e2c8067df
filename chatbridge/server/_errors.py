"""One place that turns any failure into OpenAI's error object and an HTTP status.

    {"error": {"message": ..., "type": ..., "param": ..., "code": ...}}

Before the first byte it is the response (with ``Retry-After`` on a 429); after it, the same
object is the one in-band ``data:`` event that ends a stream. An error that ends a route's call
also lists its tries, as the answers' ``chatbridge`` extension does (the chat page shows one
line per target from them; OpenAI clients ignore the extra member)::

    {"error": {..., "chatbridge": {"attempts": [{"target", "outcome", "error", "message"}]}}}
"""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import (
    AllTargetsFailedError,
    ChatbridgeError,
    ContentFilterError,
    ContextLengthError,
    InvalidRequestError,
    ModelNotSupportedError,
    RateLimitError,
    RouteNotFoundError,
    RouteUnavailableError,
    TruncatedStreamError,
)

__all__ = ["ApiError", "from_exception", "quota_exceeded"]


@dataclass
class ApiError(Exception):
    """A failure as the server reports it."""

    status: int
    message: str
    type: str = "invalid_request_error"
    code: str | None = None
    param: str | None = None
    retry_after: float | None = None
    headers: dict[str, str] = field(default_factory=dict)
    #: The route's tries (target, outcome, error class, message), when the error ends a call.
    attempts: list[dict[str, Any]] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "message": self.message,
            "type": self.type,
            "param": self.param,
            "code": self.code,
        }
        if self.attempts:
            error["chatbridge"] = {"attempts": self.attempts}
        return {"error": error}

    def json(self) -> str:
        return json.dumps(self.body(), ensure_ascii=False)

    def all_headers(self) -> dict[str, str]:
        headers = dict(self.headers)
        if self.retry_after is not None:
            headers["Retry-After"] = str(max(1, math.ceil(self.retry_after)))
        return headers


def quota_exceeded(what: str, resets_in: float) -> ApiError:
    """A key's quota is used up (``what``: "1000 requests per day"): OpenAI's 429
    ``insufficient_quota``, with ``Retry-After`` at the end of the quota's window. Every
    front door maps it into its own error shape."""
    return ApiError(
        429,
        f"You exceeded your quota of {what} for this key; it resets in {round(resets_in)} s.",
        "insufficient_quota",
        "insufficient_quota",
        retry_after=max(1.0, resets_in),
    )


def _is_timeout(error: BaseException) -> bool:
    return isinstance(error, TimeoutError | asyncio.TimeoutError)


def _all_failed(error: AllTargetsFailedError) -> ApiError:
    """The caller's 400 when a target refused the request itself (context length, content
    filter, invalid request: the policy gives up on those); 429 when every target said
    "rate limited"; 504 when any ran out of time; 503 when no target could be asked at all
    (breakers open, cooling down); 502 otherwise."""
    errors = error.errors
    message = error.message
    if isinstance(error, RouteUnavailableError):  # at once, saying when to come back
        wait = error.retry_after or 1
        return ApiError(503, message, "server_error", "upstream_unavailable", retry_after=wait)
    if errors and isinstance(errors[-1], InvalidRequestError):
        return from_exception(errors[-1])  # the request itself was refused: the caller's 400
    if errors and all(isinstance(e, RateLimitError) for e in errors):
        said = [e.retry_after for e in errors if isinstance(e, RateLimitError) and e.retry_after]
        wait = error.retry_after or (min(said) if said else 1)
        return ApiError(429, message, "requests", "rate_limit_exceeded", retry_after=wait)
    if any(_is_timeout(e) for e in errors):
        return ApiError(504, message, "server_error", "upstream_timeout")
    if not errors:
        return ApiError(
            503, message, "server_error", "upstream_unavailable", retry_after=error.retry_after
        )
    return ApiError(502, message, "server_error", "upstream_failed")


def from_exception(error: BaseException) -> ApiError:
    """The API error for any exception; unknown ones are a 500 that says nothing inside. A
    route's tries go with it (see the module's docstring)."""
    api = _from_exception(error)
    tries = getattr(error, "attempts", None)
    if isinstance(error, ChatbridgeError) and tries and not api.attempts:
        api.attempts = [_attempt(a) for a in tries]
    return api


def _attempt(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name, None) for name in ("target", "outcome", "error", "message")}


def _from_exception(error: BaseException) -> ApiError:
    if isinstance(error, ApiError):
        return error
    if isinstance(error, AllTargetsFailedError):
        return _all_failed(error)
    if isinstance(error, RouteNotFoundError | ModelNotSupportedError):
        return ApiError(404, error.message, "invalid_request_error", "model_not_found", "model")
    if isinstance(error, ContextLengthError):
        code = error.code or "context_length_exceeded"
        return ApiError(400, error.message, "invalid_request_error", code, error.param)
    if isinstance(error, ContentFilterError):
        code = error.code or "content_filter"
        return ApiError(400, error.message, "invalid_request_error", code, error.param)
    if isinstance(error, InvalidRequestError):
        return ApiError(400, error.message, "invalid_request_error", error.code, error.param)
    if isinstance(error, RateLimitError):
        return ApiError(
            429, str(error), "requests", "rate_limit_exceeded", retry_after=error.retry_after or 1
        )
    if isinstance(error, TruncatedStreamError):
        return ApiError(502, error.message, "server_error", "stream_truncated")
    if _is_timeout(error):
        return ApiError(504, str(error) or "upstream timed out", "server_error", "upstream_timeout")
    if isinstance(error, ChatbridgeError):
        return ApiError(502, str(error), "server_error", "upstream_failed")
    return ApiError(500, "internal server error", "server_error", "internal_error")
