"""The OpenAI-compatible HTTP server (``chatbridge serve``).

It owns the HTTP face of the client: the endpoints (``/v1/chat/completions``,
``/v1/models``, health, metrics), OpenAI's error objects and SSE framing, API and monitoring
keys and per-key limits (behind the :class:`LimitStore` interface), caps, CORS, its
connections (cap, timeouts, half-close), the ``site_url`` guard against SSRF (the first look
here; every connection's address in ``chatbridge._http._guard``), the access log and
metrics, draining on SIGTERM, and ``--workers`` (several processes on one port). It calls
the client only through ``AsyncClient``'s public API; the client knows nothing of it.
Shared state (``--redis``) is a state store it opens from ``chatbridge._state`` and passes
down: it never imports Redis itself. ``open_client`` also *installs* that store as the
process-wide current one (``install_store``) for as long as the client is open, and
uninstalls it after: the protocol engine's token cache and conversations, which no argument
reaches, find it there, so while a server runs every client in its process shares that
state.

    app = build_app(AsyncClient(config="chatbridge.toml"), ServerSettings(api_keys=("k",)))
"""

from __future__ import annotations

from ._app import build_app
from ._limits import LimitStore, MemoryLimits, SharedLimits
from ._run import open_client, serve
from ._settings import ServerSettings, parse_settings

__all__ = [
    "LimitStore",
    "MemoryLimits",
    "ServerSettings",
    "SharedLimits",
    "build_app",
    "open_client",
    "parse_settings",
    "serve",
]
