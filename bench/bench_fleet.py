"""Several ``chatbridge serve`` processes sharing one Redis, measured in one run.

Run: .venv/bin/python bench/bench_fleet.py [--seconds 4] [--sequential 400]

Needs Debian's ``redis-server`` (started here on a free port, in a temporary directory). The
local AI Power site runs in its own process (quiet), every server in its own process(es);
the load comes from this process, all on 127.0.0.1.
  1. requests/s with 50 concurrent clients: ``serve --workers 1`` vs ``--workers 2`` (both
     with Redis, both running, rounds alternated), median of 3 rounds each; the load
     generator and the site share the same 2 cores, so this is a floor, not a ceiling;
  2. Redis's added latency per request: sequential non-streamed requests to one process
     with and one without ``--redis``, alternating request by request, p50 of each
     (goal ≤ 0.3 ms);
  3. page fetches per site per nonce rotation across 4 processes sharing Redis: the site's
     clock jumps two ticks (``/__site__/advance``), then every process answers 8 requests at
     once; the site counts its page fetches (goal 1).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import chatbridge_process
from tests.redisd import RedisServer

USER = [{"role": "user", "content": "Tell me about fleets"}]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


@contextmanager
def process(*args: str) -> Iterator[str]:
    """``python -m chatbridge ARGS`` printing "... on http://HOST:PORT" first; its URL."""
    with chatbridge_process(*args) as (url, _):
        yield url


async def chat(session: aiohttp.ClientSession, url: str) -> None:
    body = {"model": "default", "messages": USER}
    async with session.post(url + "/v1/chat/completions", json=body) as response:
        await response.read()
        if response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response.status}")


async def throughput(url: str, seconds: float, clients: int = 50) -> float:
    done = 0
    stop = time.monotonic() + seconds

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal done
        while time.monotonic() < stop:
            await chat(session, url)
            done += 1

    connector = aiohttp.TCPConnector(limit=clients, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        for _ in range(20):
            await chat(session, url)  # warm: tokens fetched, connections open
        started = time.monotonic()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        return done / (time.monotonic() - started)


async def interleaved_p50(urls: list[str], n: int) -> list[float]:
    """p50 of ``n`` sequential requests to each server, alternating server by server on
    every request, so drifting load on a shared machine hits them all alike."""
    times: list[list[float]] = [[] for _ in urls]
    async with aiohttp.ClientSession() as session:
        for _ in range(50):
            for url in urls:
                await chat(session, url)
        for _ in range(n):
            for index, url in enumerate(urls):
                started = time.perf_counter()
                await chat(session, url)
                times[index].append(time.perf_counter() - started)
    return [statistics.median(t) for t in times]


async def site_stats(session: aiohttp.ClientSession, site: str) -> dict[str, int]:
    async with session.get(site + "/__site__/stats") as response:
        stats: dict[str, int] = await response.json()
        return stats


async def rotations(site: str, servers: list[str], rounds: int = 5) -> list[int]:
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(chat(session, url) for url in servers))
        fetches = []
        for _ in range(rounds):
            before = await site_stats(session, site)
            async with session.post(site + "/__site__/advance?ticks=2") as response:
                await response.read()
            await asyncio.gather(*(chat(session, url) for url in servers for _ in range(8)))
            after = await site_stats(session, site)
            fetches.append(after["page_fetches"] - before["page_fetches"])
        return fetches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--sequential", type=int, default=2000)
    args = parser.parse_args()
    with ExitStack() as stack:
        redis = stack.enter_context(RedisServer())
        site = stack.enter_context(process("site", "--port", "0", "--quiet", "--generation", "2.2"))
        print(f"local site {site}, Redis {redis.url}; {os.cpu_count()} cores")

        print("\n1. requests/s, 50 concurrent clients (median of 3 rounds, alternated):")
        options = ("serve", "--port", "0", "--site", site, "--redis", redis.url, "--workers")
        with process(*options, "1") as one, process(*options, "2") as two:
            rounds: dict[int, list[float]] = {1: [], 2: []}
            for _ in range(3):
                for workers, url in ((1, one), (2, two)):
                    rounds[workers].append(asyncio.run(throughput(url, args.seconds)))
        rates = {workers: statistics.median(done) for workers, done in rounds.items()}
        for workers, done in rounds.items():
            shown = ", ".join(f"{r:,.0f}" for r in done)
            print(f"   --workers {workers}: {rates[workers]:,.0f}/s  (rounds: {shown})")
        print(f"   ratio 2 workers / 1 worker: {rates[2] / rates[1]:.2f}x")

        print(f"\n2. Redis's added latency per request (p50 of {args.sequential} sequential):")
        with (
            process("serve", "--port", "0", "--site", site) as plain,
            process("serve", "--port", "0", "--site", site, "--redis", redis.url) as shared,
        ):
            memory, with_redis = asyncio.run(interleaved_p50([plain, shared], args.sequential))
        print(f"   memory state: {memory * 1000:.3f} ms, Redis state: {with_redis * 1000:.3f} ms")
        added = (with_redis - memory) * 1000
        print(f"   added by Redis: {added:+.3f} ms per request (goal <= 0.3 ms)")

        print("\n3. page fetches per site per nonce rotation, 4 processes sharing Redis:")
        fleet = ("serve", "--port", "0", "--site", site, "--redis", redis.url)
        servers = [stack.enter_context(process(*fleet)) for _ in range(4)]
        fetches = asyncio.run(rotations(site, servers))
        print(f"   per rotation: {fetches} (goal 1 each; 4 processes without Redis make 4)")


if __name__ == "__main__":
    main()
