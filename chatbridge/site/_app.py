"""The aiohttp application and :class:`LocalSite`, the in-process handle tests use."""

from __future__ import annotations

from typing import TextIO

import aiohttp
from aiohttp import web

from .._local import LocalServer
from ._aiengine._config import AIEngineSiteConfig
from ._aiengine._rest import handle_engine
from ._aiengine._state import EngineState, EngineStats
from ._config import POST_MAX_SIZE, SiteConfig
from ._dispatch import AJAX_PATH, REST_NO_ROUTE, handle_ajax, handle_page, rest_request
from ._log import request_logger
from ._state import SiteState
from ._stats import RecordedRequest, SiteStats

AnyState = SiteState | EngineState
_STATE: web.AppKey[AnyState] = web.AppKey("state", SiteState | EngineState)  # type: ignore[arg-type]


def _state(request: web.Request) -> AnyState:
    return request.app[_STATE]


def _power(request: web.Request) -> SiteState:
    state = _state(request)
    assert isinstance(state, SiteState)
    return state


async def _page(request: web.Request) -> web.StreamResponse:
    if rest_request(request):  # no REST route of this plugin's: WordPress's 404
        return web.Response(status=404, body=REST_NO_ROUTE, content_type="application/json")
    if request.method not in ("GET", "HEAD"):
        return web.Response(status=405, text="Method Not Allowed")
    return await handle_page(_power(request), request)


async def _ajax(request: web.Request) -> web.StreamResponse:
    return await handle_ajax(_power(request), request)


async def _engine(request: web.Request) -> web.StreamResponse:
    state = _state(request)
    assert isinstance(state, EngineState)
    return await handle_engine(state, request)


async def _stats(request: web.Request) -> web.Response:
    return web.json_response(_state(request).introspection())


async def _requests(request: web.Request) -> web.Response:
    return web.json_response([r.as_dict() for r in _state(request).requests])


async def _advance(request: web.Request) -> web.Response:
    state = _state(request)
    try:
        ticks = int(request.query.get("ticks", "1"))
    except ValueError:
        return web.json_response({"error": "ticks must be an integer"}, status=400)
    state.clock.advance(ticks)
    return web.json_response({"tick": state.clock.tick(), "clock_offset": state.clock.offset})


async def _reset(request: web.Request) -> web.Response:
    state = _state(request)
    state.stats.reset()
    state.requests.clear()
    return web.json_response({"reset": True})


def build_app(state: AnyState, log: TextIO | None = None) -> web.Application:
    """The site as an aiohttp application (declarative route list); with ``log``, one line
    per request is written to it."""
    middlewares = [request_logger(log)] if log is not None else []
    app = web.Application(client_max_size=POST_MAX_SIZE + 1024, middlewares=middlewares)
    app[_STATE] = state
    introspection = [
        web.get("/__site__/stats", _stats),
        web.get("/__site__/requests", _requests),
        web.post("/__site__/advance", _advance),
        web.post("/__site__/reset", _reset),
    ]
    if isinstance(state, EngineState):
        site = [web.route("*", "/{tail:.*}", _engine)]
    else:
        site = [web.route("*", AJAX_PATH, _ajax), web.route("*", "/{tail:.*}", _page)]
    app.add_routes([*introspection, *site])
    return app


class LocalSite(LocalServer):
    """A local WordPress chat site, started with ``async with``: AI Power (a
    :class:`SiteConfig`) or AI Engine (an :class:`AIEngineSiteConfig`)::

    async with LocalSite(SiteConfig(generation="1.8")) as url:
        ...  # url == "http://127.0.0.1:PORT"
    """

    def __init__(
        self,
        config: SiteConfig | AIEngineSiteConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        log: TextIO | None = None,
    ) -> None:
        """``log``: where to write one line per request (method, path, action, status, ms);
        ``None`` (the default) logs nothing and costs nothing."""
        super().__init__(host, port)
        self.config = config or SiteConfig()
        self._log = log
        self._state: AnyState = (
            EngineState(self.config)
            if isinstance(self.config, AIEngineSiteConfig)
            else SiteState(self.config)
        )

    @property
    def plugin(self) -> str:
        """``"ai-power"`` or ``"ai-engine"``."""
        return "ai-engine" if isinstance(self._state, EngineState) else "ai-power"

    @property
    def stats(self) -> SiteStats | EngineStats:
        """Counters since start or the last :meth:`reset_stats`."""
        return self._state.stats

    @property
    def requests(self) -> list[RecordedRequest]:
        """Requests received (oldest first, capped at ``max_recorded_requests``)."""
        return self._state.requests

    @property
    def generation(self) -> str:
        """The generation now served (``"aipkit"`` after an ``upgrade_after`` upgrade)."""
        return self._state.generation

    @property
    def state(self) -> AnyState:
        """The live state (clock, quotas, caches) for tests that need to look deeper."""
        return self._state

    def advance_ticks(self, n: int = 1) -> None:
        """Push the site clock forward by ``n`` nonce ticks."""
        self._state.clock.advance(n)

    def reset_stats(self) -> None:
        """Zero the counters and forget the recorded requests."""
        self._state.stats.reset()
        self._state.requests.clear()

    async def start(self) -> str:
        """Start serving; returns the base URL."""
        if isinstance(self._state, SiteState) and self._state.upstream is not None:
            timeout = aiohttp.ClientTimeout(total=200)
            self._state.session = aiohttp.ClientSession(timeout=timeout)
        return await self._listen(build_app(self._state, self._log))

    async def stop(self) -> None:
        """Stop serving and release everything."""
        await self._close()
        if isinstance(self._state, SiteState) and self._state.session is not None:
            await self._state.session.close()
            self._state.session = None

    def __repr__(self) -> str:
        return f"LocalSite(generation={self.generation!r}, url={self.url!r})"
