"""OpenAI-compatible benchmarks: the fake upstream's throughput, and OpenAICompatible's cost.

Run: .venv/bin/python bench/bench_openai.py [--seconds 3] [--runs 3] [--messages 300]

The fake upstream (``python -m chatbridge.upstream``) runs in its own process, pinned to one
core where the OS allows, so only the side being measured counts. Prints, from one run:
  1. requests/s the fake upstream serves on one core, non-streamed and streamed (60 tokens),
     loaded by raw-socket keep-alive clients in other processes (goal: thousands/s);
  2. client CPU per message: OpenAICompatible vs a raw aiohttp loop that posts the same JSON
     and reads the SSE lines with one json.loads each (the floor any client pays), streamed
     and not.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import aiohttp  # noqa: E402

from chatbridge import OpenAICompatible, close_pool  # noqa: E402
from chatbridge.upstream import expected_answer  # noqa: E402

MESSAGES = [{"role": "user", "content": "How fast is this upstream?"}]
ANSWER = "".join(expected_answer(MESSAGES))


def _pin(pid: int, cpus: set[int]) -> None:
    if hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(pid, cpus)


def start_upstream(cpu: int | None) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "chatbridge.upstream", "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    if cpu is not None:
        _pin(process.pid, {cpu})
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("Serving on"):
        process.kill()
        raise SystemExit(f"upstream did not start: {line!r}")
    return process, line.split()[-1]


# --- 1. throughput of the fake upstream ---------------------------------------------------


async def _connection(host: str, port: int, request: bytes, deadline: float) -> tuple[int, int]:
    reader, writer = await asyncio.open_connection(host, port)
    ok = bad = 0
    try:
        while time.perf_counter() < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            match = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
            if match:
                body = await reader.readexactly(int(match.group(1)))
                good = b'"finish_reason": "stop"' in body
            else:  # chunked SSE: up to the terminating chunk
                body = await reader.readuntil(b"\r\n0\r\n\r\n")
                good = b"data: [DONE]" in body
            if head.startswith(b"HTTP/1.1 200") and good:
                ok += 1
            else:
                bad += 1
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return ok, bad


def _loader(args: tuple[str, bytes, int, float, int | None]) -> tuple[int, int]:
    url, body, connections, seconds, cpu = args
    if cpu is not None:
        _pin(0, {cpu})
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body

    async def load() -> tuple[int, int]:
        deadline = time.perf_counter() + seconds
        results = await asyncio.gather(
            *(_connection(host, port, request, deadline) for _ in range(connections))
        )
        return sum(r[0] for r in results), sum(r[1] for r in results)

    return asyncio.run(load())


def throughput(url: str, spare: list[int | None], runs: int, seconds: float) -> None:
    print("1. Fake upstream requests/s on one core")
    loaders = max(1, len(spare))
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(loaders) as pool:
        for label, stream in (("non-streamed", False), ("streamed, 60 tokens", True)):
            body = json.dumps({"model": "m", "messages": MESSAGES, "stream": stream}).encode()
            rates = []
            for _ in range(runs):
                jobs = [(url, body, 32, seconds, spare[i % len(spare)]) for i in range(loaders)]
                results = pool.map(_loader, jobs)
                ok, bad = sum(r[0] for r in results), sum(r[1] for r in results)
                if bad:
                    raise SystemExit(f"{bad} requests failed")
                rates.append(ok / seconds)
            runs_text = ", ".join(f"{rate:,.0f}" for rate in rates)
            print(f"   {label:22} median {statistics.median(rates):7,.0f}/s  (runs: {runs_text})")


# --- 2. client CPU per message --------------------------------------------------------------


async def raw_floor(url: str, messages: int, stream: bool) -> float:
    """The least a client does: post the JSON, read the SSE lines, one json.loads each."""
    timeout = aiohttp.ClientTimeout(total=120, connect=15, sock_read=60)
    payload = {"model": "m", "messages": MESSAGES, "stream": stream}
    if stream:
        payload["stream_options"] = {"include_usage": True}
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession(timeout=timeout) as session:
        start = time.process_time()
        for _ in range(messages):
            async with session.post(url + "/chat/completions", data=body, headers=headers) as r:
                if stream:
                    parts = []
                    async for line in r.content:
                        if line.startswith(b"data: {"):
                            chunk = json.loads(line[6:])
                            if chunk["choices"]:
                                content = chunk["choices"][0]["delta"].get("content")
                                if content:
                                    parts.append(content)
                    text = "".join(parts)
                else:
                    text = (await r.json())["choices"][0]["message"]["content"]
            assert text == ANSWER
        return (time.process_time() - start) / messages


async def ours(url: str, messages: int, stream: bool) -> float:
    async def one() -> str:
        chunks = OpenAICompatible.create_async_generator("m", MESSAGES, base_url=url, stream=stream)
        return "".join([c async for c in chunks if isinstance(c, str)])

    assert await one() == ANSWER  # warm-up: the shared session and pool
    start = time.process_time()
    for _ in range(messages):
        assert await one() == ANSWER
    elapsed = (time.process_time() - start) / messages
    await close_pool()
    return elapsed


def client_cpu(url: str, messages: int, rounds: int) -> None:
    print("2. Client CPU per message (60-token answers)")
    for label, stream in (("streamed", True), ("non-streamed", False)):
        floors, mine = [], []
        for _ in range(rounds):
            floors.append(asyncio.run(raw_floor(url, messages, stream)))
            mine.append(asyncio.run(ours(url, messages, stream)))
        f, m = statistics.median(floors), statistics.median(mine)
        print(
            f"   {label:13} raw aiohttp {f * 1e6:7.1f} us   OpenAICompatible {m * 1e6:7.1f} us"
            f"   ratio {m / f:5.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--messages", type=int, default=300)
    ns = parser.parse_args()
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    server_cpu = cpus[0] if len(cpus) > 1 else None
    spare: list[int | None] = [c for c in cpus if c != server_cpu] or [None]
    process, url = start_upstream(server_cpu)
    try:
        print(f"upstream {url} on cpu {server_cpu}; clients on {spare}")
        throughput(url, spare, ns.runs, ns.seconds)
        client_cpu(url, ns.messages, ns.runs)
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
