"""``chatbridge serve`` under a long mixed soak, with faults and clients that leave: does its
memory stay flat, do its descriptors, and is every answer right?

Run: .venv/bin/python bench/bench_soak.py [--requests 100000] [--every 10000] [--clients 32]
                                          [--census] [--seed 1]

Processes on 127.0.0.1, each its own: two fake OpenAI-compatible upstreams (the primary meets
a cycle of faults from its plan, re-sent every second: 500s, 503s with Retry-After, resets,
streams cut or stalled mid-answer, malformed events, in-band errors; the fallback continues
cut answers), two local AI Power sites (one with seeded faults: 500s, maintenance pages, PHP
warnings, cut and reset replies), and one ``chatbridge serve`` over routes to both pairs.
This process is the load: ``--clients`` at once, each request drawn from a seeded mix (the
upstream route or the site route, streamed or whole, and one stream in twenty left after a
few events). Every request's message is new, so nothing is answered from a cache.

Each request ends one of these ways: right (the whole expected answer, a stream with its
finish and ``[DONE]``), a clean error (an OpenAI error object with its status, or one
in-band error event after a prefix of the answer), wrong (an answer reported complete that
is not the expected one, or text that is not a prefix of it), lost (none of these: a broken
connection, a stream that ends without its end, no answer within 60 s), or left (ours).

At every ``--every`` requests: the server's resident memory (VmRSS), open descriptors and
threads. The goal: RSS at the end within 5 % of RSS at 20,000 requests, descriptors flat,
0 wrong, 0 lost. With ``--census`` the server counts its live objects by type (``gc``, as
objgraph does) at each checkpoint: a small wrapper installs a SIGUSR1 handler, then runs
``chatbridge serve``; the types that grew most from 20,000 requests to the end are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from bench_server import process

from chatbridge.site._responder import local_answer
from chatbridge.upstream import expected_answer

#: The primary upstream's plan: one cycle of 100 requests, 14 of them faulty.
FAULTS = [
    {"kind": "status", "status": 500},
    {"kind": "status", "status": 503, "retry_after": "1"},
    {"kind": "reset"},
    {"kind": "cut_after", "tokens": 20},
    {"kind": "stall_after", "tokens": 10, "seconds": 0.2},
    {"kind": "malformed_at", "at": 5},
    {"kind": "error_after", "tokens": 30, "message": "the model went away"},
    {"kind": "first_token_delay", "seconds": 0.1},
    {"kind": "no_done"},
    {"kind": "status", "status": 429, "retry_after": "1"},
    {"kind": "cut_after", "tokens": 50},
    {"kind": "status", "status": 502},
    {"kind": "reset"},
    {"kind": "malformed_at", "at": 30},
]
SITE_FAULTS = ["http500", "maintenance", "php_warning", "truncate", "reset"]
#: Seconds a request may take before it counts as lost.
LOST_AFTER = 60.0
CENSUS_CODE = """
import collections, gc, json, signal, sys
def census(signum, frame):
    gc.collect()
    counts = collections.Counter(type(o).__qualname__ for o in gc.get_objects())
    with open(sys.argv[1], "w") as out:
        json.dump(dict(counts), out)
signal.signal(signal.SIGUSR1, census)
from chatbridge._cli._main import main
sys.exit(main(sys.argv[2:]))
"""


@dataclass
class Tally:
    outcomes: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    done: int = 0


@dataclass
class Sample:
    requests: int
    rss_mib: float
    descriptors: int
    threads: int
    per_second: float
    census: dict[str, int] = field(default_factory=dict)


def status_of(pid: int) -> tuple[float, int]:
    """(resident MiB, threads) of a process."""
    rss = threads = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
        elif line.startswith("Threads:"):
            threads = int(line.split()[1])
    return rss, int(threads)


def expected(route: str, text: str) -> str:
    messages = [{"role": "user", "content": text}]
    if route == "fake":
        return "".join(expected_answer(messages))
    return local_answer(text, [])


async def ask(session: aiohttp.ClientSession, url: str, body: dict[str, Any], leave: bool,
              tally: Tally) -> None:  # fmt: skip
    """One request, sorted into right / error / wrong / lost / left."""
    route, text = body["model"], body["messages"][0]["content"]
    want = expected(route, text)
    try:
        async with asyncio.timeout(LOST_AFTER):
            async with session.post(url + "/v1/chat/completions", json=body) as response:
                if response.status != 200:
                    reply = await response.json(content_type=None)
                    ok = isinstance(reply, dict) and "message" in reply.get("error", {})
                    tally.statuses[str(response.status)] += 1
                    tally.outcomes["error" if ok else "lost"] += 1
                    return
                if not body["stream"]:
                    reply = await response.json()
                    got = reply["choices"][0]["message"]["content"]
                    tally.outcomes["right" if got == want else "wrong"] += 1
                    return
                tally.outcomes[await _read_stream(response, want, leave)] += 1
    except (aiohttp.ClientError, TimeoutError, ValueError, KeyError):
        tally.outcomes["lost"] += 1


async def _read_stream(response: aiohttp.ClientResponse, want: str, leave: bool) -> str:
    got, events, finished = "", 0, False
    async for line in response.content:
        if line.startswith(b"data: [DONE]"):
            if not finished:
                return "lost"
            return "right" if got == want else "wrong"
        if not line.startswith(b"data: "):
            continue
        event = json.loads(line[6:])
        if "error" in event:
            return "error" if want.startswith(got) else "wrong"
        events += 1
        if leave and events == 3:
            response.close()
            return "left"
        for choice in event.get("choices", []):
            got += choice.get("delta", {}).get("content") or ""
            finished = finished or bool(choice.get("finish_reason"))
    return "lost"  # the body ended with neither [DONE] nor an error event


async def load(url: str, args: argparse.Namespace, tally: Tally, on_checkpoint: Any) -> None:
    """``args.requests`` requests from ``args.clients`` clients, counted in ``tally``;
    ``on_checkpoint(done)`` at every ``args.every``."""
    rng = random.Random(args.seed)
    numbers = iter(range(args.requests))
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client() -> None:
            for number in numbers:
                route = "fake" if rng.random() < 0.6 else "site"
                stream = rng.random() < 0.6
                body = {
                    "model": route,
                    "messages": [{"role": "user", "content": f"soak {number}: tell me more"}],
                    "stream": stream,
                }
                await ask(session, url, body, stream and rng.random() < 0.05, tally)
                tally.done += 1
                if tally.done % args.every == 0:
                    await on_checkpoint(tally.done)

        await asyncio.gather(*(client() for _ in range(args.clients)))


async def keep_faulting(upstream: str) -> None:
    """Re-send the primary's plan every second: a cycle of 100 with the faults spread."""
    steps: list[dict[str, Any]] = [{"kind": "ok"}] * 100
    for index, fault in enumerate(FAULTS):
        steps[index * 7 + 3] = fault
    steps.append({"kind": "ok"})
    base = upstream.rsplit("/v1", 1)[0]
    async with aiohttp.ClientSession() as session:
        while True:
            async with session.post(base + "/__upstream__/plan", json=steps) as response:
                await response.read()
            await asyncio.sleep(1)


def census(pid: int, path: Path) -> dict[str, int]:
    """Ask the server for its object census (SIGUSR1) and read it once written."""
    path.unlink(missing_ok=True)
    os.kill(pid, signal.SIGUSR1)
    for _ in range(500):
        if path.exists():
            try:
                counts: dict[str, int] = json.loads(path.read_text())
                return counts
            except ValueError:
                pass  # still being written
        time.sleep(0.02)
    return {}


def config(primary: str, fallback: str, faulty_site: str, site: str) -> str:
    return (
        "[routes.fake]\ntargets = [\n"
        f'  {{ provider = "OpenAICompatible", base_url = "{primary}", model = "fake-model" }},\n'
        f'  {{ provider = "OpenAICompatible", base_url = "{fallback}", model = "fake-model",'
        " continues_prefill = true },\n]\n"
        "[routes.site]\ntargets = [\n"
        f'  {{ provider = "AIPower", site_url = "{faulty_site}" }},\n'
        f'  {{ provider = "AIPower", site_url = "{site}" }},\n]\n'
    )


def start_all(stack: ExitStack, args: argparse.Namespace, folder: Path) -> tuple[int, str, str]:
    """Every process; returns the server's pid, its URL and the primary upstream's URL."""
    py = sys.executable
    upstream = [py, "-m", "chatbridge.upstream", "--port", "0"]
    _, primary = stack.enter_context(process(upstream, first_line="Serving on"))
    _, fallback = stack.enter_context(process(upstream, first_line="Serving on"))
    site = [py, "-m", "chatbridge", "site", "--port", "0", "--quiet"]
    faults = [word for kind in SITE_FAULTS for word in ("--fault", kind)]
    faulty = [*site, *faults, "--fault-rate", "0.03", "--fault-seed", str(args.seed)]
    _, faulty_site = stack.enter_context(process(faulty, first_line="listening on"))
    _, good_site = stack.enter_context(process(site, first_line="listening on"))
    path = folder / "soak.toml"
    path.write_text(config(primary, fallback, faulty_site, good_site))
    serve = ["serve", "--port", "0", "--config", str(path), "--no-ui"]
    if args.census:
        command = [py, "-c", CENSUS_CODE, str(folder / "census.json"), *serve]
    else:
        command = [py, "-m", "chatbridge", *serve]
    server, url = stack.enter_context(process(command, first_line="Serving on"))
    return server.pid, url, primary


async def soak(args: argparse.Namespace, pid: int, url: str, primary: str, folder: Path
               ) -> tuple[Tally, list[Sample]]:  # fmt: skip
    samples: list[Sample] = []
    faulting = asyncio.create_task(keep_faulting(primary))
    started = last = time.monotonic()

    async def checkpoint(done: int) -> None:
        nonlocal last
        now = time.monotonic()
        rss, threads = status_of(pid)
        descriptors = len(os.listdir(f"/proc/{pid}/fd"))
        counts = census(pid, folder / "census.json") if args.census else {}
        samples.append(Sample(done, rss, descriptors, threads, args.every / (now - last), counts))
        last = time.monotonic()
        print(
            f"{done:>9,}  {rss:8.1f}  {descriptors:6d}  {threads:5d}  "
            f"{samples[-1].per_second:7.0f}   {dict(tally.outcomes)}",
            flush=True,
        )

    tally = Tally()
    print(" requests   RSS MiB  descr.  thr.  req/s     outcomes so far")
    try:
        await load(url, args, tally, checkpoint)
    finally:
        faulting.cancel()
    print(f"{args.requests:,} requests in {time.monotonic() - started:.0f} s")
    return tally, samples


def report(tally: Tally, samples: list[Sample], args: argparse.Namespace) -> None:
    outcomes = tally.outcomes
    print(f"\noutcomes: {dict(outcomes)}; error statuses: {dict(tally.statuses)}")
    print(f"wrong answers: {outcomes['wrong']} (goal 0); lost: {outcomes['lost']} (goal 0)")
    mark = next((s for s in samples if s.requests >= 20_000), samples[0])
    end = samples[-1]
    growth = (end.rss_mib - mark.rss_mib) / mark.rss_mib * 100
    print(
        f"RSS {mark.rss_mib:.1f} MiB at {mark.requests:,} requests, {end.rss_mib:.1f} MiB at "
        f"{end.requests:,}: {growth:+.1f} % (goal within 5 %); descriptors "
        f"{mark.descriptors} -> {end.descriptors}"
    )
    if args.census and mark.census and end.census:
        grown = Counter({k: v - mark.census.get(k, 0) for k, v in end.census.items()})
        print(f"live objects that grew most from {mark.requests:,} to {end.requests:,}:")
        for name, count in grown.most_common(12):
            print(f"   {count:+8d}  {name}  (now {end.census[name]})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--every", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--census", action="store_true")
    args = parser.parse_args()
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        pid, url, primary = start_all(stack, args, Path(tmp))
        tally, samples = asyncio.run(soak(args, pid, url, primary, Path(tmp)))
    report(tally, samples, args)


if __name__ == "__main__":
    main()
