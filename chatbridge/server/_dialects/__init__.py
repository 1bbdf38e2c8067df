"""The front doors' dialects: each reads its own requests into the one client call the
pipeline (``server._pipeline``) makes, and renders the answer its own way. The chat
completions door is OpenAI's chat API itself; the Responses door (OpenAI's Responses API) and
the Messages door (Anthropic's Messages API) translate.

:data:`ENDPOINTS` names each door's paths (the metrics' ``endpoint`` label, set before any
check so that a refused request counts too); :func:`error_text` shapes an error the way the
caller's dialect expects it: Anthropic's on its paths and for a caller that sends
``anthropic-version`` (its SDK's model list, say), OpenAI's everywhere else."""

from __future__ import annotations

from aiohttp import web

from .._errors import ApiError
from ._anthropic import MESSAGES, count_tokens
from ._anthropic_objects import error_json
from ._chat import CHAT
from ._responses import RESPONSES
from ._responses_views import delete_response, get_response

__all__ = [
    "CHAT",
    "ENDPOINTS",
    "MESSAGES",
    "RESPONSES",
    "count_tokens",
    "delete_response",
    "error_text",
    "get_response",
    "speaks_anthropic",
]

ENDPOINTS = {
    "/v1/chat/completions": CHAT.endpoint,
    "/chat/completions": CHAT.endpoint,
    "/v1/responses": RESPONSES.endpoint,
    "/responses": RESPONSES.endpoint,
    "/v1/messages": MESSAGES.endpoint,
}


def speaks_anthropic(request: web.Request) -> bool:
    return request.path.startswith("/v1/messages") or "anthropic-version" in request.headers


def error_text(request: web.Request, error: ApiError) -> str:
    """``error`` as the JSON body the caller's dialect expects."""
    return error_json(error) if speaks_anthropic(request) else error.json()
