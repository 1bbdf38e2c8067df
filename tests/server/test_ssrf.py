"""A request-named site (``allow_site_url``) never makes ``chatbridge serve`` connect inward,
on any hop: the page's redirect, the page's own chat endpoint (legacy ``wpaicgParams``,
AIPKit ``data-config``), a DNS answer that turns to loopback after the first look, or the
cloud metadata address. A real serve process runs on a simulated internet (``tests.netsim``):
public names resolve to public addresses whose packets reach local servers, and every local
server counts what reached it."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from chatbridge.site import LocalSite, SiteConfig
from tests.server.conftest import ENV, USER, Served, post, running

Spawn = Callable[..., Served]
NETSIM = (sys.executable, "-m", "tests.netsim")
ROOT = str(Path(__file__).resolve().parents[2])


@dataclass
class Hits:
    """A local server that counts every request (the "inward" service a caller must not
    reach: the metadata endpoint, an admin panel)."""

    url: str = ""
    count: int = 0
    paths: list[str] = field(default_factory=list)


@asynccontextmanager
async def counting(text: str = "secret-metadata") -> AsyncIterator[Hits]:
    hits = Hits()

    async def handle(request: web.Request) -> web.Response:
        hits.count += 1
        hits.paths.append(request.path)
        return web.Response(text=text)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    async with running(app) as url:
        hits.url = url
        yield hits


@asynccontextmanager
async def redirector(location: str) -> AsyncIterator[str]:
    async def handle(request: web.Request) -> web.Response:
        raise web.HTTPFound(location)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    async with running(app) as url:
        yield url


@asynccontextmanager
async def page_proxy(site: str, rewrite: dict[str, str] | None = None) -> AsyncIterator[str]:
    """A public front for a local AI Power site: every request is passed to ``site`` (whose
    pages then name ``site`` itself as their chat endpoint) and its answer back, with
    ``rewrite`` applied to the text."""

    async def handle(request: web.Request) -> web.Response:
        async with aiohttp.ClientSession() as session:
            async with session.request(
                request.method,
                site + request.path_qs,
                data=await request.read(),
                headers={"Content-Type": request.headers.get("Content-Type", "text/plain")},
            ) as answer:
                text = await answer.text()
                kind = answer.content_type
        for old, new in (rewrite or {}).items():
            text = text.replace(old, new)
        return web.Response(text=text, status=answer.status, content_type=kind)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    async with running(app) as url:
        yield url


def _hostport(url: str) -> str:
    return url.removeprefix("http://").rstrip("/")


def _escaped(url: str) -> str:
    return url.replace("/", "\\/")


def _config(server: str = "") -> str:
    return (
        '[routes.default]\ntargets = [{ provider = "AIPower", site_url = "http://127.0.0.1:9" }]\n'
        f"[server]\nallow_site_url = true\n{server}"
    )


def _spawn(spawn: Spawn, tmp_path: Path, table: dict[str, Any], server: str = "") -> Served:
    """``serve`` on the simulated internet of ``table`` (call it in a thread: the local
    servers answer on the test's loop)."""
    path = tmp_path / f"net{len(list(tmp_path.glob('net*.json')))}.json"
    path.write_text(json.dumps(table))
    paths = [ROOT, *([ENV["PYTHONPATH"]] if ENV.get("PYTHONPATH") else [])]
    env = {"PYTHONPATH": ":".join(paths)}
    return spawn("--no-ui", config=_config(server), env=env, launcher=(*NETSIM, str(path)))


async def _ask(url: str, site_url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session:
        body = {"model": "x", "messages": USER, "site_url": site_url}
        status, _, reply = await post(session, url, body)
    return status, reply


class Net:
    """The simulated internet of one test: names, routes, the local servers behind them."""

    def __init__(self) -> None:
        self.names: dict[str, list[str]] = {}
        self.routes: dict[str, str] = {}
        self._next = 10

    def public(self, name: str, local_url: str) -> str:
        """``name`` resolves to a public address whose port 80 reaches ``local_url``."""
        address = f"93.184.216.{self._next}"
        self._next += 1
        self.names[name] = [address]
        self.routes[f"{address}:80"] = _hostport(local_url)
        return f"http://{name}/"

    def table(self) -> dict[str, Any]:
        return {"names": self.names, "routes": self.routes}


async def test_no_hop_of_a_request_named_site_connects_inward(
    spawn_server: Spawn, tmp_path: Path
) -> None:
    async with AsyncExitStack() as stack:
        site, aipkit = LocalSite(SiteConfig()), LocalSite(SiteConfig(generation="aipkit"))
        local = await stack.enter_async_context(site)
        kit = await stack.enter_async_context(aipkit)
        metadata = await stack.enter_async_context(counting())
        net = Net()
        net.routes["169.254.169.254:80"] = _hostport(metadata.url)  # the old code got there
        fine = net.public(
            "fine.test",
            await stack.enter_async_context(
                page_proxy(
                    local, {_escaped(local): "http:\\/\\/fine.test", local: "http://fine.test"}
                )
            ),
        )
        cases = {
            "redirect to loopback": net.public(
                "moved.test", await stack.enter_async_context(redirector(local + "/"))
            ),
            "redirect to metadata": net.public(
                "cloud.test",
                await stack.enter_async_context(redirector("http://169.254.169.254/latest/")),
            ),
            "endpoint on loopback": net.public(
                "front.test", await stack.enter_async_context(page_proxy(local))
            ),
            "endpoint on metadata": net.public(
                "meta.test",
                await stack.enter_async_context(
                    page_proxy(local, {_escaped(local): "http:\\/\\/169.254.169.254"})
                ),
            ),
            "AIPKit endpoint on loopback": net.public(
                "kit.test", await stack.enter_async_context(page_proxy(kit))
            ),
        }
        net.names["rebind.test"] = ["93.184.216.99", "127.0.0.1"]  # public once, then inward
        cases["DNS rebinding"] = f"http://rebind.test:{local.rsplit(':', 1)[1]}/"
        served = await asyncio.to_thread(_spawn, spawn_server, tmp_path, net.table())
        status, reply = await _ask(served.url, fine)
        assert status == 200, reply  # a public site works through the guard
        chats = site.stats.chat_requests
        for why, url in cases.items():
            before = (site.stats.requests, aipkit.stats.chat_requests)
            status, reply = await _ask(served.url, url)
            assert status != 200, (why, reply)
            assert (
                "may not reach" in reply["error"]["message"]
                or "another origin" in reply["error"]["message"]
            ), (why, reply)
            if why in ("redirect to loopback", "DNS rebinding"):
                assert site.stats.requests == before[0], why  # not one byte reached it
        assert site.stats.chat_requests == chats  # no chat went inward
        assert aipkit.stats.chat_requests == 0 and aipkit.stats.aipkit_cache_requests == 0
        assert metadata.count == 0, metadata.paths
        assert served.stop() == 0


async def test_allowed_foreign_endpoints_are_still_never_inward(
    spawn_server: Spawn, tmp_path: Path
) -> None:
    async with AsyncExitStack() as stack:
        site = LocalSite(SiteConfig())
        local = await stack.enter_async_context(site)
        metadata = await stack.enter_async_context(counting())
        net = Net()
        net.routes["169.254.169.254:80"] = _hostport(metadata.url)
        front = net.public("front.test", await stack.enter_async_context(page_proxy(local)))
        meta = net.public(
            "meta.test",
            await stack.enter_async_context(
                page_proxy(local, {_escaped(local): "http:\\/\\/169.254.169.254"})
            ),
        )
        star = 'endpoint_origins = ["*"]\n'
        served = await asyncio.to_thread(_spawn, spawn_server, tmp_path, net.table(), star)
        for url in (front, meta):
            status, reply = await _ask(served.url, url)
            assert status != 200 and "may not reach" in reply["error"]["message"], reply
        assert site.stats.chat_requests == 0 and metadata.count == 0
        assert served.stop() == 0
