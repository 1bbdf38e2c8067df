"""Client CPU per request: StreamSession vs a bare aiohttp.ClientSession loop; import time.

Run: .venv/bin/python bench/bench_http.py [--requests 2000] [--rounds 5]
Prints medians of several rounds and their ratio (goal: StreamSession ≤ 1.1× the floor), then
the wall time of ``python -c "import chatbridge"`` (goal ≤ 0.15 s).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from bench._common import median, server_process
from chatbridge import StreamSession, close_pool
from chatbridge._constants import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_HEADERS,
    DEFAULT_READ_GAP,
    DEFAULT_TIMEOUT,
)

SERVER = """
import asyncio, sys
from aiohttp import web
async def hello(request):
    return web.json_response({"status": "success", "data": "hello world"})
async def main():
    app = web.Application(); app.router.add_get("/", hello)
    runner = web.AppRunner(app, access_log=None); await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0); await site.start()
    print("listening on http://127.0.0.1:%d" % site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""


async def floor(url: str, n: int, same_config: bool) -> float:
    """A bare aiohttp loop; with ``same_config``, given the deadlines and headers ours uses,
    so the ratio isolates the wrapper's own cost from the features it switches on."""
    options: dict[str, Any] = {}
    if same_config:
        options = {
            "timeout": aiohttp.ClientTimeout(
                total=DEFAULT_TIMEOUT, connect=DEFAULT_CONNECT_TIMEOUT, sock_read=DEFAULT_READ_GAP
            ),
            "headers": DEFAULT_HEADERS,
        }
    async with aiohttp.ClientSession(**options) as session:
        start = time.process_time()
        for _ in range(n):
            async with session.get(url) as response:
                await response.json()
        return (time.process_time() - start) / n


async def ours(url: str, n: int) -> float:
    async with StreamSession() as session:
        start = time.process_time()
        for _ in range(n):
            async with session.get(url) as response:
                await response.json()
        elapsed = (time.process_time() - start) / n
    await close_pool()
    return elapsed


def import_time(rounds: int) -> tuple[float, float]:
    def wall(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - start

    base = median([wall("pass") for _ in range(rounds)])
    full = median([wall("import chatbridge") for _ in range(rounds)])
    return full, base


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with server_process(SERVER) as url:
        defaults, same, mine = [], [], []
        for _ in range(args.rounds):  # interleaved, so drift hits all alike
            defaults.append(asyncio.run(floor(url, args.requests, same_config=False)))
            same.append(asyncio.run(floor(url, args.requests, same_config=True)))
            mine.append(asyncio.run(ours(url, args.requests)))
    d, f, m = median(defaults), median(same), median(mine)
    print(f"client CPU per request, median of {args.rounds} rounds x {args.requests} requests:")
    print(f"  bare aiohttp, aiohttp defaults:          {d * 1e6:8.1f} us")
    print(f"  bare aiohttp, our deadlines and headers: {f * 1e6:8.1f} us")
    print(f"  chatbridge StreamSession:                {m * 1e6:8.1f} us")
    print(f"  ratio ours / same-config floor:          {m / f:8.2f}x   (goal <= 1.10x)")
    print(f"  ratio ours / aiohttp-defaults floor:     {m / d:8.2f}x")
    full, base = import_time(args.rounds * 2)
    print(f"wall time of python -c 'import chatbridge': {full:.3f} s (goal <= 0.15 s);")
    print(f"  of which bare interpreter start-up: {base:.3f} s")


if __name__ == "__main__":
    main()
