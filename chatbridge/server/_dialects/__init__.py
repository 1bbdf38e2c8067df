"""The front doors' dialects: each reads its own requests into the one client call the
pipeline (``server._pipeline``) makes, and renders the answer its own way. The chat
completions door is OpenAI's chat API itself; the others translate.

:data:`ENDPOINTS` names each door's paths (the metrics' ``endpoint`` label, set before any
check so that a refused request counts too); :func:`error_text` shapes an error the way the
caller's dialect expects it."""

from __future__ import annotations

from aiohttp import web

from .._errors import ApiError
from ._chat import CHAT

__all__ = ["CHAT", "ENDPOINTS", "error_text"]

ENDPOINTS = {
    "/v1/chat/completions": CHAT.endpoint,
    "/chat/completions": CHAT.endpoint,
}


def error_text(request: web.Request, error: ApiError) -> str:
    """``error`` as the JSON body the caller's dialect expects."""
    return error.json()
