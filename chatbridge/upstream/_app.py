"""The aiohttp application (a declarative route list) and :class:`LocalUpstream`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence

from aiohttp import web

from .._local import LocalServer
from ._behaviour import Behaviour, Plan
from ._chat import chat_completions
from ._config import MAX_REQUEST_BYTES, UpstreamConfig
from ._state import UpstreamState
from ._stats import UpstreamStats
from ._wire import error_response

__all__ = ["LocalUpstream", "build_app"]

_STATE: web.AppKey[UpstreamState] = web.AppKey("state", UpstreamState)
#: Seconds a stopping server waits for replies still running (a silent one never ends).
_SHUTDOWN_SECONDS = 0.2


def _state(request: web.Request) -> UpstreamState:
    return request.app[_STATE]


async def _chat(request: web.Request) -> web.StreamResponse:
    return await chat_completions(_state(request), request)


async def _models(request: web.Request) -> web.Response:
    data = [
        {"id": model, "object": "model", "created": 0, "owned_by": "chatbridge-upstream"}
        for model in _state(request).config.models
    ]
    return web.json_response({"object": "list", "data": data})


async def _stats(request: web.Request) -> web.Response:
    return web.json_response(_state(request).stats.as_dict())


async def _get_plan(request: web.Request) -> web.Response:
    return web.json_response(_state(request).plan.as_dict())


async def _set_plan(request: web.Request) -> web.Response:
    state = _state(request)
    try:
        data = json.loads(await request.read())
        plan = Plan.from_json(data, clock=state.clock)
    except (ValueError, TypeError) as error:  # TypeError: a field of the wrong shape
        return error_response(400, f"Invalid plan: {error}", param="plan")
    model = request.query.get("model")  # a plan for that model only
    if model:
        state.model_plans[model] = plan
    else:
        state.plan = plan
    return web.json_response(plan.as_dict())


async def _reset(request: web.Request) -> web.Response:
    state = _state(request)
    state.stats.reset()
    state.plan = Plan(clock=state.clock)
    state.model_plans.clear()
    return web.json_response({"reset": True})


async def _not_found(request: web.Request) -> web.Response:
    return error_response(404, f"Invalid URL ({request.method} {request.path})", code="unknown_url")


def build_app(state: UpstreamState) -> web.Application:
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app[_STATE] = state
    app.add_routes(
        [
            web.post("/v1/chat/completions", _chat),
            web.get("/v1/models", _models),
            web.get("/__upstream__/stats", _stats),
            web.get("/__upstream__/plan", _get_plan),
            web.post("/__upstream__/plan", _set_plan),
            web.post("/__upstream__/reset", _reset),
            web.route("*", "/{tail:.*}", _not_found),
        ]
    )
    return app


class LocalUpstream(LocalServer):
    """A local OpenAI-compatible fake upstream, started with ``async with``::

    async with LocalUpstream(UpstreamConfig(api_key="sk-test")) as base_url:
        ...  # base_url == "http://127.0.0.1:PORT/v1"
    """

    def __init__(
        self,
        config: UpstreamConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(host, port)
        self.config = config or UpstreamConfig()
        self._state = UpstreamState(self.config, clock)

    @property
    def stats(self) -> UpstreamStats:
        """Counters and recent requests since start or the last :meth:`reset`."""
        return self._state.stats

    @property
    def plan(self) -> Plan:
        return self._state.plan

    def set_plan(
        self,
        steps: Sequence[Behaviour] | Behaviour = (),
        *,
        for_seconds: float | None = None,
        then: Sequence[Behaviour] | Behaviour = (),
        model: str | None = None,
    ) -> Plan:
        """Script the next requests: ``steps`` in order, the last repeating; with
        ``for_seconds``, ``steps`` only for that long, then ``then``. With ``model``, only
        the requests for that model (each model with a plan of its own keeps it; the others
        meet the endpoint's plan)."""
        if isinstance(steps, Behaviour):
            steps = [steps]
        if isinstance(then, Behaviour):
            then = [then]
        plan = Plan(steps, for_seconds=for_seconds, then=then, clock=self._state.clock)
        if model is None:
            self._state.plan = plan
        else:
            self._state.model_plans[model] = plan
        return plan

    def reset(self) -> None:
        """Zero the counters, forget the recent requests and go back to answering normally."""
        self._state.stats.reset()
        self._state.plan = Plan(clock=self._state.clock)
        self._state.model_plans.clear()

    async def start(self) -> str:
        """Start serving; returns the base URL (ending in ``/v1``)."""
        return await self._listen(
            build_app(self._state),
            "/v1",
            handler_cancellation=True,  # a client that goes away cancels its reply: counted
            shutdown_timeout=_SHUTDOWN_SECONDS,
        )

    def __repr__(self) -> str:
        return f"LocalUpstream(url={self.url!r})"
