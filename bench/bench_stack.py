"""Which HTTP server stack for ``chatbridge serve``: aiohttp's server or Starlette on uvicorn.

Run: .venv/bin/python bench/bench_stack.py [--requests 1000]

The same minimal OpenAI-shaped endpoint on each stack (read the JSON body, answer a fixed
completion, or 60 SSE chunks then ``[DONE]``), one process each, no upstream: what is
measured is the stack's own cost. Starlette and uvicorn (``uvicorn[standard]``: uvloop and
httptools, its fastest setting) live in ``bench/.venv-stack``, made on first use.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from bench_server import cpu_seconds, free_port, one, peak_rss_mib, process, throughput

HERE = Path(__file__).resolve().parent
STACK_PYTHON = HERE / ".venv-stack" / "bin" / "python"

COMMON = """
import json, sys
COMPLETION = json.dumps({"id": "chatcmpl-1", "object": "chat.completion", "created": 0,
    "model": "m", "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"},
    "finish_reason": "stop"}]}).encode()
CHUNK = b"data: " + json.dumps({"id": "chatcmpl-1", "object": "chat.completion.chunk",
    "created": 0, "model": "m", "choices": [{"index": 0, "delta": {"content": "word "},
    "finish_reason": None}]}).encode() + b"\\n\\n"
PORT = int(sys.argv[1])
"""

AIOHTTP_APP = (
    COMMON
    + """
from aiohttp import web

async def chat(request):
    body = json.loads(await request.read())
    if not body.get("stream"):
        return web.Response(body=COMPLETION, content_type="application/json")
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for _ in range(60):
        await response.write(CHUNK)
    await response.write(b"data: [DONE]\\n\\n")
    return response

app = web.Application()
app.add_routes([web.post("/v1/chat/completions", chat)])
print(f"Serving on http://127.0.0.1:{PORT}", flush=True)
web.run_app(app, host="127.0.0.1", port=PORT, access_log=None, print=None)
"""
)

STARLETTE_APP = (
    COMMON
    + """
import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

async def chat(request):
    body = json.loads(await request.body())
    if not body.get("stream"):
        return Response(COMPLETION, media_type="application/json")
    async def events():
        for _ in range(60):
            yield CHUNK
        yield b"data: [DONE]\\n\\n"
    return StreamingResponse(events(), media_type="text/event-stream")

app = Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])
print(f"Serving on http://127.0.0.1:{PORT}", flush=True)
uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="error", access_log=False)
"""
)


def ensure_stack() -> bool:
    if STACK_PYTHON.exists():
        return True
    print("creating bench/.venv-stack (starlette, uvicorn[standard]) ...", flush=True)
    made = subprocess.run([sys.executable, "-m", "venv", str(HERE / ".venv-stack")])
    if made.returncode == 0:
        made = subprocess.run(
            [str(STACK_PYTHON), "-m", "pip", "install", "-q", "starlette>=0.40,<1",
             "uvicorn[standard]>=0.30,<1"]
        )  # fmt: skip
    return made.returncode == 0


async def cpu_per_request(url: str, pid: int, n: int, stream: bool) -> float:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        for _ in range(50):
            await one(session, url, "m", stream)
        before = cpu_seconds(pid)
        for _ in range(n):
            await one(session, url, "m", stream)
        return (cpu_seconds(pid) - before) / n * 1e6


def wait_for_port(port: int) -> None:
    """The apps print before they bind: wait until the port takes connections."""
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def measure(name: str, python: str, code: str, n: int) -> None:
    port = free_port()
    with process([python, "-c", textwrap.dedent(code), str(port)], first_line="Serving on") as (
        proc,
        url,
    ):
        wait_for_port(port)
        url += "/v1"
        plain = asyncio.run(cpu_per_request(url, proc.pid, n, False))
        streamed = asyncio.run(cpu_per_request(url, proc.pid, n // 4, True))
        rps = asyncio.run(throughput(url, "m", 50, 3.0))
        rss = peak_rss_mib(proc.pid)
    print(
        f"{name:22s} {plain:8.0f} us CPU/request {streamed:8.0f} us CPU/60-chunk stream "
        f"{rps:8.0f} requests/s (50 clients) {rss:6.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    n = parser.parse_args().requests
    measure("aiohttp (asyncio)", sys.executable, AIOHTTP_APP, n)
    if ensure_stack():
        measure("starlette + uvicorn", str(STACK_PYTHON), STARLETTE_APP, n)
    else:
        print("bench/.venv-stack could not be made: measured aiohttp only")


if __name__ == "__main__":
    main()
