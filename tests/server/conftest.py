"""The server under test: in-process apps on 127.0.0.1 for the many cheap cases, and real
``chatbridge serve`` processes for the SDK, SIGTERM and access-log tests."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from chatbridge import AsyncClient, Policy
from chatbridge._client._health import HealthBook
from chatbridge.server import ServerSettings, build_app
from chatbridge.server._connections import Listener
from chatbridge.server._run import connection_limits, make_runner
from chatbridge.site import LocalSite, SiteConfig
from chatbridge.site._app import build_app as build_site_app
from chatbridge.site._state import SiteState
from chatbridge.upstream import Behaviour, LocalUpstream

CLI = (sys.executable, "-m", "chatbridge")
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}
ENV.pop("CHATBRIDGE_API_KEYS", None)
USER = [{"role": "user", "content": "Hello there"}]
ECHO = "[local AI Power site] Echo: Hello there"


@asynccontextmanager
async def running(app: web.Application) -> AsyncIterator[str]:
    """``app`` on 127.0.0.1 with handler cancellation on, as ``serve`` runs it."""
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def listening(app: web.Application, settings: ServerSettings) -> AsyncIterator[str]:
    """The server ``app`` on 127.0.0.1 as ``serve`` runs it: its runner, and its connections
    (cap, timeouts, half-close) under ``settings``."""
    runner = make_runner(app)
    await runner.setup()
    listener = Listener(runner, connection_limits(settings))
    host, port = await listener.start("127.0.0.1", 0)
    try:
        yield f"http://{host}:{port}"
    finally:
        listener.close()
        await runner.cleanup()


ServeApp = Callable[..., AbstractAsyncContextManager[str]]


@pytest.fixture
def serve_app() -> ServeApp:
    """``async with serve_app(routes=..., settings=..., policy=...) as base_url``: the server
    app over a client with its own health book (no breaker state leaks between tests)."""

    @asynccontextmanager
    async def start(
        routes: dict[str, Any] | None = None,
        settings: ServerSettings | None = None,
        policy: Policy | None = None,
        **settings_fields: Any,
    ) -> AsyncIterator[str]:
        policy = policy or Policy()
        settings = settings or ServerSettings(**settings_fields)
        client = AsyncClient(routes=routes, policy=policy, health=HealthBook(policy))
        async with client, listening(build_app(client, settings), settings) as url:
            yield url

    return start


@pytest.fixture
async def site_url() -> AsyncIterator[str]:
    async with LocalSite(SiteConfig()) as url:
        yield url


@dataclass
class WatchedSite:
    """A local AI Power site that records when each chat request ends and whether it ended
    because the caller went away (its app runs with handler cancellation)."""

    url: str = ""
    started: int = 0
    ended: int = 0
    disconnected: int = 0
    ended_at: list[float] = field(default_factory=list)
    began: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)


@asynccontextmanager
async def watched_site(config: SiteConfig) -> AsyncIterator[WatchedSite]:
    watched = WatchedSite()
    app = build_site_app(SiteState(config))

    @web.middleware
    async def watch(request: web.Request, handler: Any) -> web.StreamResponse:
        chat = request.method == "POST" or "stream" in request.query_string
        if chat:
            watched.started += 1
            watched.began.set()
        try:
            return await handler(request)
        except asyncio.CancelledError:
            if chat:
                watched.disconnected += 1
            raise
        finally:
            if chat:
                watched.ended += 1
                watched.ended_at.append(asyncio.get_running_loop().time())
                watched.finished.set()

    app.middlewares.insert(0, watch)
    async with running(app) as url:
        watched.url = url
        yield watched


async def post(
    session: aiohttp.ClientSession, url: str, body: Any, **kwargs: Any
) -> tuple[int, dict[str, str], Any]:
    """POST a chat request; the status, headers and JSON body (or text for SSE)."""
    data = body if isinstance(body, bytes | str) else None
    json_body = None if data is not None else body
    async with session.post(
        url + "/v1/chat/completions", data=data, json=json_body, **kwargs
    ) as response:
        text = await response.text()
        headers = dict(response.headers)
        if response.content_type == "application/json":
            return response.status, headers, await response.json()
        return response.status, headers, text


@asynccontextmanager
async def stalling_server(
    spawn: Callable[..., Served], route: str
) -> AsyncIterator[tuple[Served, LocalUpstream]]:
    """A ``chatbridge serve`` process (``grace_seconds`` 0.3) whose ``route`` goes to an
    upstream that stalls after three tokens: a stream for SIGTERM to cut."""
    upstream = LocalUpstream()
    upstream.set_plan(Behaviour("stall_after", tokens=3, seconds=30))
    async with upstream as base:
        toml = f"""
[routes.{route}]
targets = [{{ provider = "OpenAICompatible", base_url = "{base}", model = "fake-model" }}]
[server]
grace_seconds = 0.3
"""
        served = await asyncio.to_thread(spawn, config=toml)
        yield served, upstream


def fake_and_site(base: str, site: str, *keys: str) -> str:
    """A routes file: ``fake`` (the fake upstream at ``base``), ``site`` (an AI Power site),
    and the API ``keys``."""
    listed = ", ".join(f'"{key}"' for key in keys)
    return f"""
[routes.fake]
targets = [{{ provider = "OpenAICompatible", base_url = "{base}", model = "fake-model" }}]
[routes.site]
targets = [{{ provider = "AIPower", site_url = "{site}" }}]
[server]
api_keys = [{listed}]
"""


def sse_events(text: str) -> list[str]:
    """The ``data:`` payloads of an SSE body, checking OpenAI's framing on the way."""
    assert text.endswith("\n\n"), text[-80:]
    events = text.split("\n\n")[:-1]
    for event in events:
        assert event.startswith("data: ") and "\n" not in event, event
    return [event[len("data: ") :] for event in events]


@dataclass
class Served:
    url: str
    process: subprocess.Popen[str]
    lines: list[str]
    #: Where the process's stderr goes (a file: a chatty server never blocks on a full pipe,
    #: and a test can read the log while the server runs); else its stderr is a pipe.
    log: Path | None = None

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 15) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout)

    def stderr(self) -> str:
        if self.log is not None:
            return self.log.read_text(errors="replace")
        assert self.process.stderr is not None
        return self.process.stderr.read()

    async def log_line(self, *words: str, seconds: float = 10) -> str:
        """The first log line holding every one of ``words``, once it is written."""
        deadline = asyncio.get_running_loop().time() + seconds
        while True:
            for line in self.stderr().splitlines():
                if all(word in line for word in words):
                    return line
            assert asyncio.get_running_loop().time() < deadline, (words, self.stderr()[-2000:])
            await asyncio.sleep(0.02)


Spawn = Callable[..., Awaitable[Served]]


@pytest.fixture
def spawn_server(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """``spawn_server(*options, config=TOML text, env={...})``: ``chatbridge serve --port 0``
    as a real process (stderr to a file: ``Served.stderr()``); returns once it printed
    ``Serving on http://HOST:PORT``. ``launcher`` replaces ``python -m chatbridge`` (a
    simulated network: ``tests.netsim``); other keywords go to ``Popen``."""
    processes: list[subprocess.Popen[str]] = []
    numbers = itertools.count()

    def spawn(
        *options: str,
        config: str | None = None,
        env: dict[str, str] | None = None,
        launcher: Sequence[str] = CLI,
        **popen: Any,
    ) -> Served:
        args = [*launcher, "serve", "--port", "0", *options]
        number = next(numbers)  # spawns may run at once, in threads
        if config is not None:
            path = tmp_path / f"serve{number}.toml"
            path.write_text(config)
            args += ["--config", str(path)]
        log = tmp_path / f"serve{number}.log"
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                args,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                env={**ENV, **(env or {})},
                **popen,
            )
        processes.append(process)
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("Serving on http://127.0.0.1:"), (first, log.read_text())
        lines = [process.stdout.readline(), process.stdout.readline()]
        return Served(first.split()[-1], process, lines, log)

    yield spawn
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        if process.stdout is not None:
            process.stdout.close()
