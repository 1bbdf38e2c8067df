"""The app: a declarative list of routes over the handlers, and the middlewares."""

from __future__ import annotations

from aiohttp import web

from .._client._client import AsyncClient
from .._state import MemoryStore
from ..web import add_page
from ._dialects import CHAT, MESSAGES, RESPONSES, count_tokens, delete_response, get_response
from ._limits import LimitStore, MemoryLimits
from ._metrics import Metrics
from ._middleware import MIDDLEWARES, add_cors_headers
from ._pipeline import handler
from ._settings import ServerSettings
from ._state import STATE, State
from ._usage import Usage
from ._views import head, live, metrics, model, models, ready, usage

__all__ = ["ROUTES", "build_app"]

_chat, _responses, _messages = handler(CHAT), handler(RESPONSES), handler(MESSAGES)

ROUTES = (
    web.post("/v1/chat/completions", _chat),
    web.post("/chat/completions", _chat),
    web.post("/v1/responses", _responses),
    web.post("/responses", _responses),
    web.get("/v1/responses/{id}", get_response),
    web.delete("/v1/responses/{id}", delete_response),
    web.post("/v1/messages", _messages),
    web.post("/v1/messages/count_tokens", count_tokens),
    web.get("/v1/models", models),
    web.get("/v1/models/{model}", model),
    web.get("/v1/usage", usage),
    web.get("/health/live", live),
    web.get("/health/ready", ready),
    web.get("/metrics", metrics),
)


def build_app(
    client: AsyncClient,
    settings: ServerSettings | None = None,
    *,
    limits: LimitStore | None = None,
    usage: Usage | None = None,
) -> web.Application:
    """The server app over ``client``. Run it with handler cancellation on (as
    :func:`serve` does) so a client that leaves cancels its upstream call."""
    settings = settings or ServerSettings()
    app = web.Application(middlewares=MIDDLEWARES, client_max_size=settings.max_body_bytes)
    app[STATE] = State(
        client=client,
        settings=settings,
        limits=limits or MemoryLimits(),
        metrics=Metrics(client.health, client.route_names, client.site_stats),
        usage=usage or Usage(MemoryStore(), settings),
    )
    app.add_routes(ROUTES)  # CORS preflights are answered by the middleware, on any path
    app.on_response_prepare.append(add_cors_headers)
    if settings.ui:
        add_page(app)  # the chat page at / (chatbridge.web)
    else:
        app.router.add_route("*", "/", head)
    return app
