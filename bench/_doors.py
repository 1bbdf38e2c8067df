"""The three front doors side by side (``bench_server.py --doors``): ``/v1/chat/completions``,
``/v1/responses`` and ``/v1/messages`` on the same route of one ``chatbridge serve`` process
over the fake upstream, in one run, streamed and not.

For each door: added latency p50 (the server's time to the whole answer, or to the stream's
last event, minus the upstream asked directly) and the server's CPU per request (the time its
threads ran, from ``/proc/PID/task/*/schedstat`` in nanoseconds, over a block of sequential
requests). Blocks alternate between the doors for ``rounds`` rounds, each round starting
with the next door, and each figure is the median of its blocks, so a drift of the machine's
load hits every door alike. Goal: each door within
0.2 ms p50 and 10 % CPU of the chat endpoint. The Responses door stores each answer (``store``
defaults to true, as the SDK sends it), in the process's memory here.

CPU time on a loaded shared machine moves by ±20 % between runs, so ``--instructions`` counts
instead: the server runs under valgrind's callgrind with instrumentation off, and each door's
block of requests is counted alone (``callgrind_control`` turns it on, zeroes, dumps and turns
it off around the block): instructions per request, the same whatever the load.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

__all__ = ["DOORS", "door_figures", "door_instructions", "run_time"]

USER = [{"role": "user", "content": "Tell me about benchmarks"}]
#: path, body(stream), the line that ends a stream.
DOORS: dict[str, tuple[str, Callable[[bool], dict[str, Any]], bytes]] = {
    "chat": (
        "/chat/completions",
        lambda stream: {"model": "fake", "messages": USER, "stream": stream},
        b"data: [DONE]",
    ),
    "responses": (
        "/responses",
        lambda stream: {"model": "fake", "input": USER[0]["content"], "stream": stream},
        b"event: response.completed",
    ),
    "messages": (
        "/messages",
        lambda stream: {"model": "fake", "max_tokens": 1024, "messages": USER, "stream": stream},
        b"event: message_stop",
    ),
}


def run_time(pid: int) -> Callable[[], float]:
    """Seconds the process's threads have run so far (nanosecond counts, not clock ticks)."""

    def read() -> float:
        total = 0
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                total += int((task / "schedstat").read_text().split()[0])
            except (OSError, ValueError):  # a thread that just ended
                continue
        return total / 1e9

    return read


async def _one(session: aiohttp.ClientSession, url: str, door: str, stream: bool) -> float:
    path, body, last = DOORS[door]
    started = time.perf_counter()
    async with session.post(url + path, json=body(stream)) as response:
        if response.status != 200:
            raise RuntimeError(f"{door}: HTTP {response.status}: {(await response.text())[:200]}")
        if not stream:
            await response.read()
            return time.perf_counter() - started
        # The bytes as they come (not parsed line by line: the load's own Python cost would
        # weigh on the door whose stream has more lines), read to the end (the connection is
        # reused); the time is when the last event's bytes arrived.
        ended, tail = 0.0, b""
        async for piece in response.content.iter_any():
            if not ended and last in tail + piece:
                ended = time.perf_counter()
            tail = piece[-len(last) :]
        return ended - started


async def _block(
    url: str, headers: dict[str, str], door: str, stream: bool, n: int, cpu: Callable[[], float]
) -> tuple[float, float]:
    """(p50 seconds, CPU seconds per request) of ``n`` sequential requests at ``door``."""
    async with aiohttp.ClientSession(headers=headers) as session:
        for _ in range(10):  # warm the connection and the door's code
            await _one(session, url, door, stream)
        before = cpu()
        times = [await _one(session, url, door, stream) for _ in range(n)]
        return statistics.median(times), (cpu() - before) / n


def door_figures(
    url: str,
    headers: dict[str, str],
    cpu: Callable[[], float],
    base: dict[bool, float],
    n: int,
    rounds: int = 9,
) -> dict[str, dict[str, float]]:
    """Figures per ``door/plain`` and ``door/stream``: ``added_ms`` (p50 minus ``base``, the
    upstream's own p50 for that kind) and ``cpu_ms``, medians over ``rounds`` blocks."""
    samples: dict[str, list[tuple[float, float]]] = {}
    names = list(DOORS)
    for round_ in range(rounds):
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        for stream in (False, True):
            for door in order:
                figure = asyncio.run(_block(url, headers, door, stream, n, cpu))
                samples.setdefault(f"{door}/{'stream' if stream else 'plain'}", []).append(figure)
    out = {}
    for key, values in samples.items():
        kind = key.split("/")[1]
        stream = kind == "stream"
        p50 = statistics.median(v[0] for v in values)
        chat = samples[f"chat/{kind}"]
        out[key] = {
            "added_ms": (p50 - base[stream]) * 1000,
            "cpu_ms": statistics.median(v[1] for v in values) * 1000,
            # The same round's chat block beside it: the machine's drift between rounds,
            # which moves every door alike, cancels out.
            "paired_ms": statistics.median(v[0] - c[0] for v, c in zip(values, chat, strict=True))
            * 1000,
        }
    return out


def report(figures: dict[str, dict[str, float]]) -> None:
    print(
        "\nthe three doors, one route (medians of blocks; vs chat: difference, the median of"
        " each round's difference, ratio)"
    )
    print(
        f"{'':22s}{'added p50 (ms)':>16s}{'vs chat':>10s}{'paired':>10s}{'CPU/req (ms)':>15s}"
        f"{'vs chat':>10s}"
    )
    for kind in ("plain", "stream"):
        chat = figures[f"chat/{kind}"]
        for door in DOORS:
            f = figures[f"{door}/{kind}"]
            print(
                f"{door + ' ' + kind:22s}{f['added_ms']:16.3f}"
                f"{f['added_ms'] - chat['added_ms']:+10.3f}{f['paired_ms']:+10.3f}"
                f"{f['cpu_ms']:15.3f}{f['cpu_ms'] / chat['cpu_ms']:10.2f}x"
            )
    print("goal: each door within +0.2 ms p50 and 1.10x CPU of chat")


def _control(pid: int, *args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(pid)], check=True, capture_output=True)


async def _counted(
    url: str, headers: dict[str, str], door: str, stream: bool, n: int, pid: int
) -> None:
    """``n`` requests at ``door`` counted alone (the server runs under callgrind)."""
    async with aiohttp.ClientSession(headers=headers) as session:
        for _ in range(5):
            await _one(session, url, door, stream)
        _control(pid, "-i", "on")
        _control(pid, "-z")
        for _ in range(n):
            await _one(session, url, door, stream)
        _control(pid, "-d")
        _control(pid, "-i", "off")


def _dumped(dumps: Path, before: set[Path]) -> int:
    """The instruction total of the dump written since ``before`` (by the server's own
    thread: wait for it)."""
    for _ in range(100):
        new = set(dumps.glob("callgrind.out.*")) - before
        if new:
            text = max(new, key=lambda f: f.stat().st_mtime).read_text()
            found = re.search(r"^(?:summary|totals):\s+(\d+)", text, re.M)
            if found:
                return int(found.group(1))
        time.sleep(0.1)
    raise RuntimeError("callgrind wrote no dump")


def door_instructions(
    url: str, headers: dict[str, str], pid: int, dumps: Path, n: int = 30
) -> dict[str, float]:
    """Millions of instructions per request, per ``door/plain`` and ``door/stream``."""
    out = {}
    for stream in (False, True):
        for door in DOORS:
            before = set(dumps.glob("callgrind.out.*"))
            asyncio.run(_counted(url, headers, door, stream, n, pid))
            out[f"{door}/{'stream' if stream else 'plain'}"] = _dumped(dumps, before) / n / 1e6
    return out


def report_instructions(counts: dict[str, float]) -> None:
    print("\nthe three doors, one route: server instructions per request (callgrind)")
    for kind in ("plain", "stream"):
        chat = counts[f"chat/{kind}"]
        for door in DOORS:
            value = counts[f"{door}/{kind}"]
            print(f"{door + ' ' + kind:22s}{value:10.3f} M{value / chat:10.3f}x")
    print("goal: each door within 1.10x of chat")
