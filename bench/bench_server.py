"""``chatbridge serve`` measured against the least a gateway can do, in one interleaved run:
two minimal aiohttp gateways over the same upstream (one relays the upstream's bytes
untouched, one parses each SSE ``data`` line with ``json.loads`` and writes it back with
``json.dumps``), a third that goes through chatbridge's client and does nothing else (the
floor of any gateway over the library: ``_relays.py``), and optionally LiteLLM's proxy.

Run: .venv/bin/python bench/bench_server.py [--rounds 5] [--requests 200] [--streams 60]
                                            [--many 2000] [--no-litellm] [--doors]
                                            [--instructions]

Two fake OpenAI-compatible upstreams, each its own process: one paces its 60 chunks as a
model does (about 70 ms for the answer), one sends them in a burst. Every gateway is its own
process over both; the load comes from this process. Each round measures every gateway in
turn (the order rotating round by round), and the figures are medians over the rounds:
  1. server CPU per paced stream and per burst stream (sequential streams, the gateway's
     /proc CPU time over them), with the time to the first and to the last chunk;
  2. server CPU per non-streamed request (sequential), with its latency;
  3. requests/s with 50 concurrent clients (non-streamed, a few seconds);
then, once: ``--many`` concurrent paced streams through each gateway (how many complete, in
how long, peak RSS), ``serve``'s start-up to its first answer, and what ``serve`` adds to a
direct ``AsyncClient`` call against the local AI Power site. The goals are ratios within a
round: ``serve`` at most 1.15x the parsing relay's CPU per paced stream, at most 1.5x the
byte relay's CPU per request, and at least 0.6x its requests/s; every one of the ``--many``
streams answered. Last, the three front doors (chat completions, responses, messages) on
one route, streamed and not: added latency p50 and CPU per request (``_doors``; ``--doors``:
this alone; ``--instructions``: the server's instructions per request under callgrind, which
do not move with the machine's load).
LiteLLM 1.108.7 (``litellm[proxy]``, one worker, no database) lives in its own virtualenv,
``bench/.venv-litellm``, made on first use (needs PyPI; ``--no-litellm`` skips it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

HERE = Path(__file__).resolve().parent
LITELLM_VERSION = "1.108.7"
LITELLM_PYTHON = HERE / ".venv-litellm" / "bin" / "python"
USER = [{"role": "user", "content": "Tell me about benchmarks"}]
CLK_TCK = os.sysconf("SC_CLK_TCK")
#: Both servers check an API key (LiteLLM refuses to start without a master key).
KEY = "sk-bench-" + "0123456789abcdef" * 2
HEADERS = {"Authorization": f"Bearer {KEY}"}


def cpu_seconds(pid: int) -> float:
    """CPU time of every thread of ``pid``, to the microsecond (the scheduler's
    ``se.sum_exec_runtime``, in ms; the tick counts of ``/proc/PID/stat`` are 10 ms apart,
    too coarse for a fraction of a millisecond), else from the ticks."""
    try:
        total = 0.0
        for task in Path(f"/proc/{pid}/task").iterdir():
            for line in (task / "sched").read_text().splitlines():
                if line.startswith("se.sum_exec_runtime"):
                    total += float(line.rsplit(":", 1)[1])
        if total > 0:
            return total / 1000
    except (OSError, ValueError):
        pass
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def process(args: list[str], *, first_line: str | None = None, env: dict[str, str] | None = None,
            cwd: Path | None = None) -> Iterator[tuple[subprocess.Popen[str], str]]:  # fmt: skip
    """Start ``args``; with ``first_line``, wait for a stdout line containing it and return
    its last word (the URL)."""
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}, cwd=cwd,
    )  # fmt: skip
    try:
        url = ""
        if first_line is not None:
            assert proc.stdout is not None
            for _ in range(50):
                line = proc.stdout.readline()
                if not line:
                    raise RuntimeError(f"{args[:3]} exited before saying {first_line!r}")
                if first_line in line:
                    url = line.split()[-1].strip()
                    break
        yield proc, url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


async def wait_until_answering(url: str, model: str, deadline: float) -> float:
    """Poll until one chat request is answered 200; the monotonic time it was."""
    body = {"model": model, "messages": USER}
    async with aiohttp.ClientSession(headers=HEADERS) as session:
        while time.monotonic() < deadline:
            try:
                async with session.post(url + "/chat/completions", json=body) as response:
                    if response.status == 200:
                        await response.read()
                        return time.monotonic()
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.005)
    raise RuntimeError(f"{url} never answered")


async def one(
    session: aiohttp.ClientSession, url: str, model: str, stream: bool
) -> tuple[float, float, float]:
    """(time to the response / first chunk, time to the last chunk, chunks) of one request."""
    body: dict[str, Any] = {"model": model, "messages": USER, "stream": stream}
    started = time.perf_counter()
    async with session.post(url + "/chat/completions", json=body) as response:
        if response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response.status}: {(await response.text())[:200]}")
        if not stream:
            await response.read()
            done = time.perf_counter() - started
            return done, done, 1
        first = 0.0
        chunks = 0
        async for line in response.content:
            if line.startswith(b"data: {"):
                chunks += 1
                if chunks == 1:
                    first = time.perf_counter() - started
            elif line.startswith(b"data: [DONE]"):
                break
        return first, time.perf_counter() - started, chunks


async def sequential(
    url: str, model: str, n: int, stream: bool, pid: int | None, warm: int = 20
) -> dict[str, float]:
    async with aiohttp.ClientSession(headers=HEADERS) as session:
        for _ in range(warm):  # warm up connections, caches, tokens
            await one(session, url, model, stream)
        cpu = cpu_seconds(pid) if pid else 0.0
        results = [await one(session, url, model, stream) for _ in range(n)]
        cpu = (cpu_seconds(pid) - cpu) / n if pid else 0.0
    return {
        "first_ms": statistics.median(r[0] for r in results) * 1000,
        "last_ms": statistics.median(r[1] for r in results) * 1000,
        "chunks": statistics.median(r[2] for r in results),
        "cpu_ms": cpu * 1000,
    }


async def throughput(url: str, model: str, clients: int, seconds: float) -> float:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, headers=HEADERS) as session:
        done = 0
        stop = time.monotonic() + seconds

        async def client() -> None:
            nonlocal done
            while time.monotonic() < stop:
                await one(session, url, model, False)
                done += 1

        started = time.monotonic()
        await asyncio.gather(*(client() for _ in range(clients)))
        return done / (time.monotonic() - started)


async def many_streams(url: str, model: str, count: int) -> tuple[int, float]:
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, headers=HEADERS
    ) as session:
        started = time.monotonic()
        results = await asyncio.gather(
            *(one(session, url, model, True) for _ in range(count)), return_exceptions=True
        )
        elapsed = time.monotonic() - started
    ok = sum(1 for r in results if isinstance(r, tuple) and r[2] >= 60)
    return ok, elapsed


@dataclass
class Gateway:
    """One server under test: its name, how to start it (a context manager of (process,
    URL)), and the base URL and model a case (``paced`` / ``burst``) is asked at."""

    name: str
    start: Callable[[], Any]
    where: Callable[[str, str], tuple[str, str]]
    proc: subprocess.Popen[str] | None = None
    url: str = ""
    figures: dict[str, list[float]] = field(default_factory=dict)

    def note(self, key: str, value: float) -> None:
        self.figures.setdefault(key, []).append(value)

    def median(self, key: str) -> float:
        values = self.figures.get(key)
        return statistics.median(values) if values else float("nan")


def one_round(gateway: Gateway, n: int, streams: int) -> None:
    """Every figure of one round for ``gateway`` (already running)."""
    assert gateway.proc is not None
    pid = gateway.proc.pid
    for case in ("paced", "burst"):
        base, model = gateway.where(gateway.url, case)
        got = asyncio.run(sequential(base, model, streams, True, pid, warm=5))
        gateway.note(f"cpu_stream_{case}", got["cpu_ms"])
        gateway.note(f"first_{case}", got["first_ms"])
        gateway.note(f"last_{case}", got["last_ms"])
    base, model = gateway.where(gateway.url, "burst")
    got = asyncio.run(sequential(base, model, n, False, pid, warm=10))
    gateway.note("cpu_plain", got["cpu_ms"])
    gateway.note("plain", got["first_ms"])
    gateway.note("rps50", asyncio.run(throughput(base, model, 50, 3.0)))


def ratios_of_round(gateways: dict[str, Gateway], index: int) -> dict[str, float]:
    """The goals' ratios within round ``index`` (the same round's figures, side by side)."""
    ours, byte, parse = gateways["serve"], gateways["byte relay"], gateways["parse relay"]

    def at(gateway: Gateway, key: str) -> float:
        return gateway.figures[key][index]

    floor = gateways["client floor"]
    return {
        "paced stream CPU, serve / parse relay": at(ours, "cpu_stream_paced")
        / at(parse, "cpu_stream_paced"),
        "request CPU, serve / byte relay": at(ours, "cpu_plain") / at(byte, "cpu_plain"),
        "requests/s, serve / byte relay": at(ours, "rps50") / at(byte, "rps50"),
        "paced stream CPU, client floor / parse relay": at(floor, "cpu_stream_paced")
        / at(parse, "cpu_stream_paced"),
        "request CPU, client floor / byte relay": at(floor, "cpu_plain") / at(byte, "cpu_plain"),
        "requests/s, client floor / byte relay": at(floor, "rps50") / at(byte, "rps50"),
        "request CPU, serve / client floor": at(ours, "cpu_plain") / at(floor, "cpu_plain"),
        "paced stream CPU, serve / client floor": at(ours, "cpu_stream_paced")
        / at(floor, "cpu_stream_paced"),
    }


def ensure_litellm() -> bool:
    if LITELLM_PYTHON.exists():
        return True
    print(f"creating bench/.venv-litellm (litellm[proxy]=={LITELLM_VERSION}) ...", flush=True)
    made = subprocess.run([sys.executable, "-m", "venv", str(HERE / ".venv-litellm")])
    if made.returncode == 0:
        made = subprocess.run(
            [
                str(LITELLM_PYTHON),
                "-m",
                "pip",
                "install",
                "-q",
                f"litellm[proxy]=={LITELLM_VERSION}",
            ]
        )
    return made.returncode == 0


ROWS = [
    ("server CPU per paced stream (ms)", "cpu_stream_paced", "{:.2f}"),
    ("server CPU per burst stream (ms)", "cpu_stream_burst", "{:.2f}"),
    ("server CPU per request, non-streamed (ms)", "cpu_plain", "{:.3f}"),
    ("requests/s, 50 clients", "rps50", "{:.0f}"),
    ("p50 non-streamed (ms)", "plain", "{:.2f}"),
    ("p50 paced stream, first chunk (ms)", "first_paced", "{:.2f}"),
    ("p50 paced stream, last chunk (ms)", "last_paced", "{:.2f}"),
    ("p50 burst stream, first chunk (ms)", "first_burst", "{:.2f}"),
    ("p50 burst stream, last chunk (ms)", "last_burst", "{:.2f}"),
]
GOALS = {
    "paced stream CPU, serve / parse relay": "<= 1.15",
    "request CPU, serve / byte relay": "<= 1.5",
    "requests/s, serve / byte relay": ">= 0.6",
    "paced stream CPU, client floor / parse relay": "(floor)",
    "request CPU, client floor / byte relay": "(floor)",
    "requests/s, client floor / byte relay": "(floor)",
    "request CPU, serve / client floor": "(server)",
    "paced stream CPU, serve / client floor": "(server)",
}


def report(gateways: dict[str, Gateway], rounds: int) -> None:
    names = list(gateways)
    print(f"\nmedians of {rounds} rounds{'':8s}" + "".join(f"{n:>14s}" for n in names))
    for title, key, fmt in ROWS:
        cells = "".join(f"{fmt.format(gateways[n].median(key)):>14s}" for n in names)
        print(f"{title:44s}{cells}")
    per_round = [ratios_of_round(gateways, index) for index in range(rounds)]
    print("\nratios within each round (median; each round's)")
    for name, goal in GOALS.items():
        values = [r[name] for r in per_round]
        shown = ", ".join(f"{v:.2f}" for v in values)
        print(f"   {name:45s} {statistics.median(values):5.2f}x  goal {goal:8s} ({shown})")


def many_figures(gateways: dict[str, Gateway], count: int) -> None:
    print(f"\n{count:,} concurrent paced streams through each gateway:")
    for gateway in gateways.values():
        with gateway.start() as (proc, url):
            asyncio.run(wait_until_answering(*gateway.where(url, "burst"), time.monotonic() + 120))
            base, model = gateway.where(url, "paced")
            ok, elapsed = asyncio.run(many_streams(base, model, count))
            rss = peak_rss_mib(proc.pid)
        print(
            f"   {gateway.name:12s} {ok:>6,} of {count:,} complete in {elapsed:5.1f} s, "
            f"peak RSS {rss:.0f} MiB"
        )


#: Seconds between two streamed chunks of the paced upstream: 60 chunks in about 70 ms.
PACE = 0.07 / 60


def gateways_over(upstreams: dict[str, str], folder: Path, litellm: bool) -> dict[str, Gateway]:
    """The servers under test, each set to reach both upstreams."""
    py = sys.executable
    pairs = [f"{case}={url}" for case, url in upstreams.items()]

    def relay(mode: str) -> Callable[[], Any]:
        args = [py, "-m", "bench._relays", mode, "--key", KEY, *pairs]
        return lambda: process(args, first_line="Serving on", cwd=HERE.parent)

    def at_prefix(url: str, case: str) -> tuple[str, str]:
        return f"{url}/{case}/v1", "fake-model"

    config = folder / "serve.toml"
    config.write_text(
        "".join(
            f'[routes.{case}]\ntargets = [{{ provider = "OpenAICompatible", base_url = "{url}", '
            'model = "fake-model" }]\n'
            for case, url in upstreams.items()
        )
    )
    serve = [py, "-m", "chatbridge", "serve", "--port", "0", "--config", str(config),
             "--api-key", KEY, "--no-ui"]  # fmt: skip
    found = {
        "byte relay": Gateway("byte relay", relay("bytes"), at_prefix),
        "parse relay": Gateway("parse relay", relay("parse"), at_prefix),
        "client floor": Gateway(
            "client floor", relay("client"), lambda url, case: (url + "/v1", case)
        ),
        "serve": Gateway(
            "serve",
            lambda: process(serve, first_line="Serving on"),
            lambda url, case: (url + "/v1", case),
        ),
    }
    if litellm and ensure_litellm():
        found["LiteLLM"] = litellm_gateway(upstreams, folder)
    elif litellm:
        print("LiteLLM's virtualenv could not be made: measured without it")
    return found


def litellm_gateway(upstreams: dict[str, str], folder: Path) -> Gateway:
    config = folder / "litellm.yaml"
    config.write_text(
        "model_list:\n"
        + "".join(
            f"  - model_name: {case}\n    litellm_params:\n      model: openai/fake-model\n"
            f"      api_base: {url}\n      api_key: x\n"
            for case, url in upstreams.items()
        )
    )

    def start() -> Any:
        port = free_port()
        args = [str(HERE / ".venv-litellm" / "bin" / "litellm"), "--config", str(config),
                "--host", "127.0.0.1", "--port", str(port), "--num_workers", "1"]  # fmt: skip
        env = {"LITELLM_LOG": "ERROR", "LITELLM_TELEMETRY": "False", "LITELLM_MASTER_KEY": KEY}
        return _fixed_url(process(args, env=env), f"http://127.0.0.1:{port}")

    return Gateway("LiteLLM", start, lambda url, case: (url + "/v1", case))


def run_rounds(gateways: dict[str, Gateway], args: argparse.Namespace) -> None:
    """Every gateway running at once; each round measures them one after another, the
    order rotated, so a noisy moment is spread over all of them."""
    with ExitStack() as stack:
        for gateway in gateways.values():
            started = time.monotonic()
            gateway.proc, gateway.url = stack.enter_context(gateway.start())
            base, model = gateway.where(gateway.url, "burst")
            answered = asyncio.run(wait_until_answering(base, model, started + 120))
            gateway.note("startup_s", answered - started)
        order = list(gateways.values())
        for index in range(args.rounds):
            shift = index % len(order)
            for gateway in order[shift:] + order[:shift]:
                one_round(gateway, args.requests, args.streams)
            print(f"round {index + 1} of {args.rounds} done", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200, help="non-streamed, per figure")
    parser.add_argument("--streams", type=int, default=60, help="streams, per figure")
    parser.add_argument("--many", type=int, default=2000, help="concurrent paced streams")
    parser.add_argument("--no-litellm", action="store_true")
    parser.add_argument("--doors", action="store_true", help="only the three doors' figures")
    parser.add_argument("--instructions", action="store_true", help="the doors, counted")
    args = parser.parse_args()
    if args.doors or args.instructions:
        doors(args.requests, args.instructions)
        return
    upstream = [sys.executable, "-m", "chatbridge.upstream", "--port", "0"]
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        upstreams = {
            "paced": stack.enter_context(
                process([*upstream, "--token-delay", f"{PACE:.6f}"], first_line="Serving on")
            )[1],
            "burst": stack.enter_context(process(upstream, first_line="Serving on"))[1],
        }
        print(
            f"upstreams: paced {upstreams['paced']} (60 chunks, {PACE * 1000:.2f} ms apart), "
            f"burst {upstreams['burst']}; {args.rounds} rounds of {args.streams} sequential "
            f"streams per case and {args.requests} sequential requests, per gateway"
        )
        direct = {
            case: asyncio.run(sequential(url, "fake-model", args.streams, True, None, warm=5))
            for case, url in upstreams.items()
        }
        for case, got in direct.items():
            print(
                f"upstream asked directly, {case}: first chunk {got['first_ms']:.2f} ms, last "
                f"{got['last_ms']:.2f} ms ({got['chunks']:.0f} chunks)"
            )
        gateways = gateways_over(upstreams, Path(tmp), not args.no_litellm)
        run_rounds(gateways, args)
        report(gateways, args.rounds)
        startup = gateways["serve"].median("startup_s")
        print(f"\nserve start-up to its first answer: {startup:.2f} s")
        many_figures(gateways, args.many)
    site_figures(args.requests)
    doors(args.requests)


def doors(n: int, instructions: bool = False) -> None:
    """The three front doors on one route, over the fake upstream (``_doors``)."""
    sys.path.insert(0, str(HERE.parent))  # (run as a script: the repository root)
    from bench import _doors

    upstream_cmd = [sys.executable, "-m", "chatbridge.upstream", "--port", "0"]
    with process(upstream_cmd, first_line="Serving on") as (_, upstream), \
            tempfile.TemporaryDirectory() as tmp:  # fmt: skip
        base = {
            stream: asyncio.run(sequential(upstream, "fake-model", n, stream, None))["last_ms"]
            / 1000
            for stream in (False, True)
        }
        config = Path(tmp) / "serve.toml"
        config.write_text(
            "[routes.fake]\n"
            f'targets = [{{ provider = "OpenAICompatible", base_url = "{upstream}", '
            'model = "fake-model" }]\n'
        )
        args_ = [sys.executable, "-m", "chatbridge", "serve", "--port", "0", "--no-ui",
                 "--config", str(config), "--api-key", KEY]  # fmt: skip
        if instructions:
            valgrind = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                        f"--callgrind-out-file={tmp}/callgrind.out.%p"]  # fmt: skip
            env = {"PYTHONHASHSEED": "0"}
            with process([*valgrind, *args_], first_line="Serving on", env=env) as (proc, url):
                counts = _doors.door_instructions(url + "/v1", HEADERS, proc.pid, Path(tmp))
            _doors.report_instructions(counts)
            print(json.dumps({"door_instructions": counts}))
            return
        with process(args_, first_line="Serving on") as (proc, url):
            figures = _doors.door_figures(url + "/v1", HEADERS, _doors.run_time(proc.pid), base, n)
    _doors.report(figures)
    print(json.dumps({"doors": figures}))


@contextmanager
def _fixed_url(ctx: Any, url: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    with ctx as (proc, _):
        yield proc, url


def site_figures(n: int) -> None:
    """What the server adds to a direct library call against the local AI Power site."""
    from chatbridge import AsyncClient, Target
    from chatbridge._providers.aipower import AIPower

    site_cmd = [sys.executable, "-m", "chatbridge", "site", "--port", "0"]
    with process(site_cmd, first_line="listening on") as (_, site):

        async def direct() -> float:
            client = AsyncClient(routes={"site": [Target(AIPower, {"site_url": site})]})
            async with client:
                for _ in range(20):
                    await client.chat.completions.create(model="site", messages=USER)
                times = []
                for _ in range(n):
                    started = time.perf_counter()
                    await client.chat.completions.create(model="site", messages=USER)
                    times.append(time.perf_counter() - started)
            return statistics.median(times) * 1000

        direct_ms = asyncio.run(direct())
        serve_cmd = [sys.executable, "-m", "chatbridge", "serve", "--port", "0", "--site", site]
        with process(serve_cmd, first_line="Serving on") as (proc, url):
            served = asyncio.run(sequential(url + "/v1", "default", n, False, proc.pid))
    added = served["first_ms"] - direct_ms
    print(
        f"\nlocal AI Power site: direct AsyncClient call p50 {direct_ms:.2f} ms, through the "
        f"server {served['first_ms']:.2f} ms: the server adds {added:.2f} ms; its CPU per "
        f"request {served['cpu_ms']:.2f} ms (the library's own work included)"
    )
    print(json.dumps({"site_direct_ms": direct_ms, "site_served_ms": served["first_ms"]}))


if __name__ == "__main__":
    main()
