"""Running the app: bind (127.0.0.1 unless told otherwise), announce, serve until SIGTERM or
SIGINT, then drain: stop accepting, let in-flight requests finish for the grace period,
cancel the rest (a cancelled stream says so in-band), close."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from aiohttp import web

from .. import _constants as defaults
from .._client._client import AsyncClient
from .._client._config import Config, Target, load_config
from .._client._health import HealthBook
from .._client._policy import Policy
from .._providers.aipower import AIPower
from .._providers.anysite import AnySite
from .._state import connect_store, current_store, install_store
from ._app import build_app
from ._connections import ConnectionLimits, Listener
from ._descriptors import descriptor_room
from ._limits import LimitStore, limits_for
from ._namespace import state_namespace, state_timeout
from ._quotas import check_quota_keys, check_token_routes
from ._settings import ServerSettings, parse_settings
from ._state import STATE
from ._usage import Usage

__all__ = [
    "check_quotas",
    "connection_limits",
    "deployment_namespace",
    "make_runner",
    "open_client",
    "serve",
]

#: Seconds cancelled handlers get to write their last event and close.
_CANCEL_WAIT = 2.0


@asynccontextmanager
async def open_client(
    config: str | Path | None = None,
    site: str | None = None,
    *,
    redis_url: str | None = None,
    api_keys: Sequence[str] = (),
) -> AsyncIterator[tuple[AsyncClient, ServerSettings, str]]:
    """The client and settings to serve, and one line saying what is served: the config's
    routes, one site (``site``) as route ``default``, or the built-in local site.
    ``api_keys`` are added to the settings' (``--api-key``).

    State (site tokens, breakers, limits, conversations) lives in the store that
    ``redis_url`` (or the config's ``redis_url``) names, under the deployment's namespace
    (``_namespace``), else in this process's memory; the store is installed as the
    process's current one while the client is open."""
    loaded: Config | None = load_config(config) if config is not None else None
    source = str(config or "config")
    settings = parse_settings(loaded.server if loaded else {}, source).with_keys(api_keys)
    check_quotas(loaded, settings)
    if redis_url:
        settings = replace(settings, redis_url=redis_url)
    namespace = deployment_namespace(loaded, site, settings, source)
    timeout = state_timeout(loaded.state if loaded else {}, source)
    # Redis away: one warning, then memory.
    store = await connect_store(settings.redis_url, namespace, timeout)
    install_store(store)
    try:
        if loaded is not None:
            health = HealthBook(loaded.policy, state=store)
            names = ", ".join(loaded.routes)
            async with AsyncClient(config=loaded, health=health) as client:
                yield client, settings, f"routes from {config}: {names}"
            return
        health = HealthBook(Policy(), state=store)
        if site is not None:
            target = Target(AnySite, {"site_url": site})  # its plugin found from its page
            async with AsyncClient(routes={"default": [target]}, health=health) as client:
                yield client, settings, f"route default: the site {site} (AI Power or AI Engine)"
            return
        from ..site import LocalSite  # only the embedded default needs the site

        async with LocalSite() as url:
            target = Target(AIPower, {"site_url": url}, name=f"built-in local site {url}")
            async with AsyncClient(routes={"default": [target]}, health=health) as client:
                yield (
                    client,
                    settings,
                    (
                        f"route default: the built-in local AI Power site at {url} "
                        "(no --config or --site given; it echoes, for trying things out)"
                    ),
                )
    finally:
        install_store(None)
        await store.close()


def check_quotas(loaded: Config | None, settings: ServerSettings) -> None:
    """The quotas' start-up checks: every key a quota names is an API key, and a token
    quota is refused where a route has no target that reports usage (without a routes file,
    the one route is an AI Power site: none does)."""
    check_quota_keys(settings.quotas, settings.api_keys)
    routes = (
        {name: [t.provider.reports_usage for t in r.targets] for name, r in loaded.routes.items()}
        if loaded is not None
        else {"default": [False]}
    )
    check_token_routes(settings.quotas, routes)


def deployment_namespace(
    loaded: Config | None, site: str | None, settings: ServerSettings, source: str
) -> str:
    """The deployment's namespace in the shared store (``_namespace``): named in
    ``[state]``, else the fingerprint of the routes and keys."""
    if loaded is not None:
        routes = {name: [t.key for t in route.targets] for name, route in loaded.routes.items()}
    else:
        routes = {"default": [Target(AIPower, {"site_url": site}).key if site else "built-in"]}
    return state_namespace(loaded.state if loaded else {}, source, routes, settings.api_keys)


async def serve(
    client: AsyncClient,
    settings: ServerSettings,
    *,
    host: str = defaults.SERVER_HOST,
    port: int = defaults.SERVER_PORT,
    announce: Callable[[str], None] = print,
    stop: asyncio.Event | None = None,
    limits: LimitStore | None = None,
    reuse_port: bool = False,
) -> str:
    """Serve until ``stop`` is set or SIGTERM/SIGINT arrives; returns what stopped it
    (``"SIGTERM"``, ``"SIGINT"`` or ``"stop"``). ``announce`` gets ``http://HOST:PORT``.
    Limits are counted in the process's current state store unless ``limits`` is given."""
    stop = stop or asyncio.Event()
    why = ["stop"]
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):

        def on_signal(signum: signal.Signals = signum) -> None:
            why[0] = signum.name
            stop.set()

        loop.add_signal_handler(signum, on_signal)
    store = current_store()
    usage = Usage(store, settings)
    app = build_app(client, settings, limits=limits or limits_for(store), usage=usage)
    runner = make_runner(app)
    await runner.setup()
    listener = Listener(runner, connection_limits(settings, room=descriptor_room))
    try:
        bound_host, bound_port = await listener.start(host, port, reuse_port=reuse_port)
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        announce(f"http://{shown}:{bound_port}")
        await stop.wait()
        await _drain(runner, listener, app, settings.grace_seconds)
        await usage.drain()  # the ledger's last lines, before the store closes
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        listener.close()
        await runner.cleanup()
    return why[0]


def make_runner(app: web.Application) -> web.AppRunner:
    """The runner every server uses: handler cancellation on (a client that leaves cancels
    its upstream call), aiohttp's own access log off (the app writes its own)."""
    return web.AppRunner(
        app, handle_signals=False, access_log=None, handler_cancellation=True, shutdown_timeout=1
    )


def connection_limits(
    settings: ServerSettings, room: Callable[[int], int] | None = None
) -> ConnectionLimits:
    """The settings' connection limits; ``room`` may lower the cap to what the process's
    descriptors allow (:func:`descriptor_room`)."""
    most = settings.max_connections if room is None else room(settings.max_connections)
    return ConnectionLimits(most, settings.header_timeout, settings.idle_timeout)


async def _drain(
    runner: web.AppRunner, listener: Listener, app: web.Application, grace: float
) -> None:
    state = app[STATE]
    state.draining = True
    listener.close()  # no new connections
    if runner.server is not None:
        runner.server.pre_shutdown()  # keep-alive connections close after their request
    pending = set(state.tasks)
    if pending:
        await asyncio.wait(pending, timeout=grace)
    late = [task for task in state.tasks if not task.done()]
    for task in late:
        task.cancel()
    if late:
        with contextlib.suppress(Exception):
            await asyncio.wait(late, timeout=_CANCEL_WAIT)
