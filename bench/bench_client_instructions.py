"""Instructions per message (valgrind's count): ``AsyncClient`` against the typed floor.

Run: .venv/bin/python bench/bench_client_instructions.py [--messages 200] [--provider site]

A count of machine instructions, not a timing: the same on a quiet machine and a busy one,
and it sees what bytecode counts miss (C code: allocations, the event loop's async-generator
hooks, pydantic, aiohttp). Each way runs in its own ``python`` under
``valgrind --tool=cachegrind`` twice, with ``--messages`` messages and with none (the same
start-up and warm-up), and the difference divided by the message count is what one message
costs. Four ways, as in ``bench_client.py``: the provider called directly, the floor (its
answer turned into the client's typed response, no routing), a one-target route, and a
two-target route whose primary's breaker is open. Whole answers and streamed ones (20
pieces).

``--provider site`` asks ``AIPower`` of the local site (2.2, JSON replies or streaming), in
its own process outside valgrind: the ratios ``bench_client.py`` times. ``--provider
immediate`` asks a provider that answers at once, in the same process: what is left is the
client's own work, so the gap to the floor is the routing alone (a small count moves there
as a large share).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench._common import server_process  # noqa: E402
from bench.bench_client import (  # noqa: E402
    Ask,
    client_asker,
    direct_asker,
    routed_asker,
    site,
    typed_asker,
)
from chatbridge import AsyncClient, Policy, close_pool  # noqa: E402
from chatbridge._client._config import Target  # noqa: E402
from chatbridge._client._health import HealthBook  # noqa: E402
from chatbridge._providers._base import AsyncGeneratorProvider  # noqa: E402

WAYS = ("direct", "floor", "one", "open")
PIECES = 20
WARM = 3


class Immediate(AsyncGeneratorProvider):
    """Answers at once: the question back, whole or in ``PIECES`` pieces."""

    working = True
    url = "http://127.0.0.1:9"

    @classmethod
    async def create_async_generator(  # type: ignore[override]
        cls, model: str, messages: Any, stream: bool = True, **kwargs: Any
    ) -> AsyncIterator[str]:
        text = str(messages[-1]["content"])
        if not stream:
            yield text
            return
        step = max(1, len(text) // PIECES)
        for start in range(0, PIECES * step, step):
            yield text[start : start + step] if start + step < PIECES * step else text[start:]

    @classmethod
    async def create_async(cls, model: str, messages: Any, **kwargs: Any) -> str:
        """Asked whole, as the client asks a buffered call (``stream=False``)."""
        return "".join([c async for c in cls.create_async_generator(model, messages, False)])


def immediate_asker(way: str, stream: bool) -> Ask:
    """The four ways over :class:`Immediate` (``url`` names nothing that is asked)."""
    if way == "direct":
        return direct_asker("-", stream, Immediate)
    if way == "floor":
        return typed_asker("-", stream, Immediate)
    policy = Policy(cooldown=3600, cooldown_max=3600, failure_threshold=1)
    health = HealthBook(policy)
    targets: list[Target] = [Target(Immediate, {"site_url": "http://127.0.0.1:8"})]
    if way == "open":
        targets.insert(0, Target(Immediate, {"site_url": "http://127.0.0.1:9"}))
        health.get(targets[0].key).failure()  # tripped: open for an hour
    return routed_asker(AsyncClient(routes={"r": targets}, policy=policy, health=health), stream)


async def work(provider: str, way: str, stream: bool, url: str, messages: int) -> None:
    if provider == "immediate":
        one = immediate_asker(way, stream)
    elif way == "direct":
        one = direct_asker(url, stream)
    elif way == "floor":
        one = typed_asker(url, stream)
    else:
        one = client_asker(url, stream, open_primary=way == "open")
    for index in range(WARM):
        await one(-1 - index)
    for index in range(messages):
        assert f"message {index} about" in await one(index)
    await close_pool()


#: cachegrind's summary lines, by the name this script gives each count.
_COUNTS = {
    "Ir": r"I\s+refs:",
    "I1m": r"I1\s+misses:",
    "D1m": r"D1\s+misses:",
    "LLm": r"LL misses:",
    "Bm": r"Mispredicts:",
}


def instructions(
    provider: str, way: str, stream: bool, url: str, messages: int, cycles: bool = False
) -> int:
    """Instructions valgrind counts for the whole ``python`` process of one run; with
    ``cycles``, cachegrind's cache and branch simulation turned into an estimate of cycles
    (KCachegrind's: an instruction 1, a first-level miss 10, a last-level miss 100, a
    mispredicted branch 10; a model, not a measurement)."""
    sims = ["--cache-sim=yes", "--branch-sim=yes"] if cycles else ["--cache-sim=no"]
    command = [
        "valgrind",
        "--tool=cachegrind",
        *sims,
        "--cachegrind-out-file=/dev/null",
        sys.executable,
        __file__,
        "--worker",
        provider,
        way,
        "1" if stream else "0",
        url,
        str(messages),
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    counts = {}
    for name, label in _COUNTS.items():
        found = re.search(label + r"\s+([\d,]+)", done.stderr)
        if found is not None:
            counts[name] = int(found.group(1).replace(",", ""))
    if "Ir" not in counts:
        raise RuntimeError(done.stderr[-2000:])
    if not cycles:
        return counts["Ir"]
    misses = counts["I1m"] + counts["D1m"]
    return counts["Ir"] + 10 * misses + 100 * counts["LLm"] + 10 * counts["Bm"]


def measure(
    provider: str, stream: bool, url: str, messages: int, ways: list[str], cycles: bool
) -> None:
    per: dict[str, float] = {}
    for way in ways:
        full = instructions(provider, way, stream, url, messages, cycles)
        none = instructions(provider, way, stream, url, 0, cycles)
        per[way] = (full - none) / messages
    base = per.get("direct")
    floor = per.get("floor")
    unit = "est. cycles" if cycles else "instructions"
    for way in ways:
        line = f"   {way:8s}{per[way]:12,.0f} {unit}/message"
        if base:
            line += f"  {per[way] / base:6.3f}x direct"
            if floor and way in ("one", "open"):
                line += f"  (gap over the floor: {(per[way] - floor) / base * 100:5.1f} points)"
        if floor and way in ("one", "open"):
            line += f"  +{per[way] - floor:,.0f} over the floor"
        print(line, flush=True)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        provider, way, stream, url, messages = sys.argv[2:7]
        asyncio.run(work(provider, way, stream == "1", url, int(messages)))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--provider", choices=("site", "immediate"), default="site")
    parser.add_argument("--ways", default=",".join(WAYS))
    parser.add_argument("--only", choices=("whole", "streamed"), default=None)
    parser.add_argument(
        "--cycles", action="store_true", help="simulate caches and branches: estimated cycles"
    )
    args = parser.parse_args()
    ways = args.ways.split(",")
    kinds = [k for k in ("whole", "streamed") if args.only in (None, k)]
    unit = "estimated cycles" if args.cycles else "instructions"
    print(f"{unit} per message (valgrind), {args.messages} messages less none, "
          f"provider: {args.provider}")  # fmt: skip
    for kind in kinds:
        stream = kind == "streamed"
        print(f"{kind} answers")
        if args.provider == "immediate":
            measure("immediate", stream, "-", args.messages, ways, args.cycles)
            continue
        options = ("--generation", "2.2") if stream else ("--generation", "2.2", "--no-stream")
        with server_process(site(*options)) as url:
            measure("site", stream, url, args.messages, ways, args.cycles)


if __name__ == "__main__":
    main()
