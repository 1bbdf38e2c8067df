"""``GET /v1/responses/{id}`` and ``DELETE /v1/responses/{id}``: a stored response, only to
the API key that made it; anything else (unknown, expired, another key's) is a 404."""

from __future__ import annotations

from aiohttp import web

from .._auth import OWNER
from .._errors import ApiError
from ._stored import forget, recall

__all__ = ["delete_response", "get_response"]


def _missing(ident: str) -> ApiError:
    return ApiError(
        404, f"No response found with id '{ident:.80}'.", "invalid_request_error", "not_found"
    )


async def get_response(request: web.Request) -> web.Response:
    ident = request.match_info["id"]
    stored = await recall(ident, request.get(OWNER, ""))
    if stored is None:
        raise _missing(ident)
    return web.json_response(stored.response)


async def delete_response(request: web.Request) -> web.Response:
    ident = request.match_info["id"]
    if not await forget(ident, request.get(OWNER, "")):
        raise _missing(ident)
    return web.json_response({"id": ident, "object": "response", "deleted": True})
