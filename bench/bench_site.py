"""Throughput of the local AI Power site: legacy JSON chat requests per second.

The site runs in its own process (pinned to one core where the OS allows); load comes from
separate processes, each a small raw-socket HTTP/1.1 keep-alive client on asyncio, so the load
generator is much cheaper per request than the server and the server is what gets measured.
Only loopback (127.0.0.1) is used; every run is bounded in time.

    python bench/bench_site.py                 # 5 runs of 3 s, median printed
    python bench/bench_site.py --runs 3 --seconds 2 --loaders 1 --connections 32
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlencode, urlsplit

TARGET = 3000.0


def _pin(pid: int, cpus: set[int]) -> None:
    if hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(pid, cpus)


async def _connection(host: str, port: int, request: bytes, deadline: float) -> tuple[int, int]:
    reader, writer = await asyncio.open_connection(host, port)
    ok = bad = 0
    try:
        while time.perf_counter() < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            match = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
            body = await reader.readexactly(int(match.group(1))) if match else b""
            if head.startswith(b"HTTP/1.1 200") and b'"status":"success"' in body:
                ok += 1
            else:
                bad += 1
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return ok, bad


async def _load(url: str, body: bytes, connections: int, seconds: float) -> tuple[int, int]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = (
        f"POST /wp-admin/admin-ajax.php HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    deadline = time.perf_counter() + seconds
    results = await asyncio.gather(
        *(_connection(host, port, request, deadline) for _ in range(connections))
    )
    return sum(r[0] for r in results), sum(r[1] for r in results)


def _loader(args: tuple[str, bytes, int, float, int | None]) -> tuple[int, int]:
    url, body, connections, seconds, cpu = args
    if cpu is not None:
        _pin(0, {cpu})
    return asyncio.run(_load(url, body, connections, seconds))


def _start_site(generation: str, site_cpu: int | None) -> tuple[subprocess.Popen[str], str]:
    cmd = [
        sys.executable,
        "-m",
        "chatbridge.site",
        "--generation",
        generation,
        "--no-stream",
        "--port",
        "0",
        "--quiet",  # measure the site, not its request log
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    if site_cpu is not None:
        _pin(proc.pid, {site_cpu})
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise SystemExit(f"site did not start: {line!r}")
    return proc, line.split()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--loaders", type=int, default=0, help="0 = one per spare core (>= 1)")
    parser.add_argument("--connections", type=int, default=32, help="per loader process")
    parser.add_argument("--generation", default="2.2", choices=("1.7", "1.8", "2.2"))
    ns = parser.parse_args()

    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    site_cpu = cpus[0] if len(cpus) > 1 else None
    spare: list[int | None] = [c for c in cpus if c != site_cpu] or [None]
    loaders = ns.loaders or max(1, len(spare))
    proc, url = _start_site(ns.generation, site_cpu)
    try:
        html = urllib.request.urlopen(url + "/", timeout=10).read().decode()
        match = re.search(
            r'class="wpaicg-chat-shortcode".*?data-nonce="([0-9a-f]{10})"', html, re.S
        )
        assert match is not None, "no chat container on the home page"
        history = '[{"id":1,"text":"Human: hi"},{"id":2,"text":"AI: hello"}]'
        body = urlencode(
            {
                "_wpnonce": match.group(1),
                "post_id": "7",
                "url": url,
                "action": "wpaicg_chat_shortcode_message",
                "message": "How fast is this site?",
                "bot_id": "0",
                "chatbot_identity": "shortcode",
                "wpaicg_chat_history": history,
                "wpaicg_chat_client_id": "BenchClient",
            }
        ).encode()
        print(
            f"site {url} (generation {ns.generation}, JSON replies) on cpu {site_cpu}; "
            f"{loaders} loader process(es) x {ns.connections} connections, "
            f"{ns.runs} runs of {ns.seconds:g} s"
        )
        rates = []
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(loaders) as pool:
            for run in range(ns.runs):
                jobs = [
                    (url, body, ns.connections, ns.seconds, spare[i % len(spare)])
                    for i in range(loaders)
                ]
                started = time.perf_counter()
                results = pool.map(_loader, jobs)
                elapsed = max(time.perf_counter() - started, ns.seconds)
                ok, bad = sum(r[0] for r in results), sum(r[1] for r in results)
                rate = ok / ns.seconds
                rates.append(rate)
                print(
                    f"run {run + 1}: {ok} ok, {bad} failed in {elapsed:.2f} s "
                    f"-> {rate:,.0f} requests/s"
                )
                if bad:
                    raise SystemExit("some requests failed")
        median = statistics.median(rates)
        verdict = "OK" if median >= TARGET else "BELOW TARGET"
        print(f"median: {median:,.0f} legacy JSON chat requests/s (target {TARGET:,.0f}) {verdict}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
