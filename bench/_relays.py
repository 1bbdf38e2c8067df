"""The two floors ``bench_server.py`` holds ``chatbridge serve`` against: the least an
OpenAI-compatible gateway can do, on the same aiohttp server.

Run: python -m bench._relays {bytes,parse,client} --key KEY NAME=UPSTREAM_BASE_URL [...]

It prints ``Serving on http://127.0.0.1:PORT`` and relays ``POST /NAME/v1/chat/completions``
to ``UPSTREAM_BASE_URL/chat/completions`` over one keep-alive pool, after checking the
bearer key as ``serve`` does.

- ``bytes``: the upstream's bytes go back untouched, as they arrive.
- ``parse``: the least a gateway that rewrites chunks must do: each SSE ``data`` line is
  read with ``json.loads`` and written back with ``json.dumps`` (``[DONE]`` as it is), one
  write per event, and a whole answer is loaded and dumped once.
- ``client``: the least a gateway over chatbridge's client must do: each request through
  ``AsyncClient`` (a route per upstream, as ``serve`` has), its typed answer or chunks
  written as JSON; no access log, metrics, limits or checks beyond the key. What ``serve``
  costs over it is the server's own; what it costs over ``bytes`` is the library's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json

import aiohttp
from aiohttp import web

HOP_HEADERS = {"Content-Type", "Cache-Control"}


def build(mode: str, upstreams: dict[str, str], key: str) -> web.Application:
    app = web.Application()
    session: dict[str, aiohttp.ClientSession] = {}
    expected = f"Bearer {key}"

    async def start(_: web.Application) -> None:
        connector = aiohttp.TCPConnector(limit=0)
        session["pool"] = aiohttp.ClientSession(connector=connector, auto_decompress=False)

    async def stop(_: web.Application) -> None:
        await session["pool"].close()

    async def relay(request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != expected:
            return web.json_response({"error": {"message": "bad key"}}, status=401)
        url = upstreams[request.match_info["name"]] + "/chat/completions"
        body = await request.read()
        headers = {"Content-Type": "application/json"}
        async with session["pool"].post(url, data=body, headers=headers) as upstream:
            out = {k: v for k, v in upstream.headers.items() if k in HOP_HEADERS}
            if upstream.content_type != "text/event-stream":
                data = await upstream.read()
                if mode == "parse":
                    data = json.dumps(json.loads(data)).encode()
                return web.Response(body=data, status=upstream.status, headers=out)
            response = web.StreamResponse(status=upstream.status, headers=out)
            await response.prepare(request)
            if mode == "bytes":
                async for chunk in upstream.content.iter_any():
                    await response.write(chunk)
            else:
                async for line in upstream.content:
                    if line.strip():  # one write per event, its blank line added back
                        await response.write(_rewritten(line) + b"\n")
            await response.write_eof()
            return response

    app.router.add_post("/{name}/v1/chat/completions", relay)
    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    return app


def build_client(upstreams: dict[str, str], key: str) -> web.Application:
    from chatbridge import AsyncClient

    routes = {
        name: [{"provider": "OpenAICompatible", "base_url": url, "model": "fake-model"}]
        for name, url in upstreams.items()
    }
    client = AsyncClient(routes=routes)
    expected = f"Bearer {key}"

    async def chat(request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != expected:
            return web.json_response({"error": {"message": "bad key"}}, status=401)
        body = json.loads(await request.read())
        create = client.chat.completions.create
        if not body.get("stream"):
            answer = await create(model=body["model"], messages=body["messages"])
            return web.Response(body=answer.model_dump_json(), content_type="application/json")
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        async with create(model=body["model"], messages=body["messages"], stream=True) as chunks:
            async for chunk in chunks:
                await response.write(b"data: " + chunk.model_dump_json().encode() + b"\n\n")
        await response.write(b"data: [DONE]\n\n")
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    return app


def _rewritten(line: bytes) -> bytes:
    if not line.startswith(b"data: ") or line.startswith(b"data: [DONE]"):
        return line
    return b"data: " + json.dumps(json.loads(line[6:])).encode() + b"\n"


async def serve(app: web.Application) -> None:
    runner = web.AppRunner(app, access_log=None, handle_signals=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    print(f"Serving on http://{host}:{port}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["bytes", "parse", "client"])
    parser.add_argument("--key", required=True)
    parser.add_argument("upstreams", nargs="+", help="NAME=BASE_URL")
    args = parser.parse_args()
    upstreams = dict(item.split("=", 1) for item in args.upstreams)
    with contextlib.suppress(KeyboardInterrupt):
        if args.mode == "client":
            asyncio.run(serve(build_client(upstreams, args.key)))
        else:
            asyncio.run(serve(build(args.mode, upstreams, args.key)))


if __name__ == "__main__":
    main()
