"""``chatbridge serve`` measured: what the server adds over its upstream, side by side with
LiteLLM's proxy over the same local OpenAI-compatible fake upstream, in one run.

Run: .venv/bin/python bench/bench_server.py [--requests 300] [--no-litellm] [--doors]
     [--instructions]

Every server runs in its own process on 127.0.0.1; the load comes from this process.
  1. added latency, p50 of sequential requests, server minus the upstream asked directly:
     non-streamed, to the first streamed chunk, to the last (60-chunk answers);
  2. server CPU per request (its /proc CPU time over those requests);
  3. requests/s with 50 concurrent clients (non-streamed, a few seconds);
  4. 1,000 concurrent streaming requests: how many complete, peak server RSS (VmHWM);
  5. start-up: process start to the first answered request;
  6. against the local AI Power site: what the server adds to a direct ``AsyncClient`` call;
  7. the three front doors (chat completions, responses, messages) on one route, streamed
     and not: added latency p50 and CPU per request (``_doors``; ``--doors``: this alone;
     ``--instructions``: the server's instructions per request under callgrind, which do not
     move with the machine's load).
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
from contextlib import contextmanager
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
            ) -> Iterator[tuple[subprocess.Popen[str], str]]:  # fmt: skip
    """Start ``args``; with ``first_line``, wait for a stdout line containing it and return
    its last word (the URL)."""
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
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
    url: str, model: str, n: int, stream: bool, pid: int | None
) -> dict[str, float]:
    async with aiohttp.ClientSession(headers=HEADERS) as session:
        for _ in range(20):  # warm up connections, caches, tokens
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


def measure_server(
    name: str, start: Callable[[], Any], model: str, base: dict[str, dict[str, float]], n: int
) -> dict[str, Any]:
    """Everything for one server; ``start`` is a context manager of (process, url)."""
    out: dict[str, Any] = {"name": name}
    t0 = time.monotonic()
    with start() as (proc, url):
        answered = asyncio.run(wait_until_answering(url, model, t0 + 120))
        out["startup_s"] = answered - t0
        for kind, stream in (("plain", False), ("stream", True)):
            out[kind] = asyncio.run(sequential(url, model, n, stream, proc.pid))
        out["rps50"] = asyncio.run(throughput(url, model, 50, 4.0))
        ok, elapsed = asyncio.run(many_streams(url, model, 1000))
        out["streams_ok"], out["streams_s"] = ok, elapsed
        out["peak_rss_mib"] = peak_rss_mib(proc.pid)
    out["added_plain_ms"] = out["plain"]["first_ms"] - base["plain"]["first_ms"]
    out["added_first_ms"] = out["stream"]["first_ms"] - base["stream"]["first_ms"]
    out["added_last_ms"] = out["stream"]["last_ms"] - base["stream"]["last_ms"]
    return out


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


def report(results: list[dict[str, Any]], base: dict[str, dict[str, float]]) -> None:
    plain, stream = base["plain"], base["stream"]
    print(
        f"\nupstream asked directly (p50): plain {plain['first_ms']:.2f} ms, stream first "
        f"{stream['first_ms']:.2f} ms, last {stream['last_ms']:.2f} ms ({stream['chunks']:.0f} "
        "chunks)"
    )
    rows = [
        ("added latency p50, non-streamed (ms)", "added_plain_ms", "{:.2f}", "<= 1"),
        ("added latency p50, first chunk (ms)", "added_first_ms", "{:.2f}", "<= 1.5"),
        ("added latency p50, last chunk (ms)", "added_last_ms", "{:.2f}", "<= 2"),
        ("server CPU per request, non-streamed (ms)", ("plain", "cpu_ms"), "{:.2f}", "<= 1"),
        ("server CPU per 60-chunk stream (ms)", ("stream", "cpu_ms"), "{:.2f}", "<= 5"),
        ("requests/s, 50 clients", "rps50", "{:.0f}", ">= 10x LiteLLM"),
        ("1,000 concurrent streams completed", "streams_ok", "{:d}", "1000"),
        ("  ... in (s)", "streams_s", "{:.1f}", ""),
        ("peak server RSS (MiB)", "peak_rss_mib", "{:.0f}", "<= 300"),
        ("start-up to first answer (s)", "startup_s", "{:.2f}", "<= 0.5"),
    ]
    names = [r["name"] for r in results]
    print(f"\n{'':44s}" + "".join(f"{n:>14s}" for n in names) + "   goal")
    for title, key, fmt, goal in rows:
        cells = []
        for r in results:
            value = r[key[0]][key[1]] if isinstance(key, tuple) else r[key]
            cells.append(f"{fmt.format(value):>14s}")
        print(f"{title:44s}" + "".join(cells) + f"   {goal}")
    if len(results) == 2:
        ours, theirs = results
        print(
            f"\nrequests/s ratio ours / LiteLLM: {ours['rps50'] / theirs['rps50']:.1f}x "
            "(goal >= 10x)"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--no-litellm", action="store_true")
    parser.add_argument("--doors", action="store_true", help="only the three doors' figures")
    parser.add_argument("--instructions", action="store_true", help="the doors, counted")
    args = parser.parse_args()
    n = args.requests
    if args.doors or args.instructions:
        doors(n, args.instructions)
        return
    upstream_cmd = [sys.executable, "-m", "chatbridge.upstream", "--port", "0"]
    with process(upstream_cmd, first_line="Serving on") as (_, upstream), \
            tempfile.TemporaryDirectory() as tmp:  # fmt: skip
        print(f"fake upstream {upstream} (60-token answers); {n} sequential requests per figure")
        base = {
            kind: asyncio.run(sequential(upstream, "fake-model", n, stream, None))
            for kind, stream in (("plain", False), ("stream", True))
        }
        config = Path(tmp) / "serve.toml"
        config.write_text(
            "[routes.fake]\n"
            f'targets = [{{ provider = "OpenAICompatible", base_url = "{upstream}", '
            'model = "fake-model" }]\n'
        )

        def ours() -> Any:
            args_ = [sys.executable, "-m", "chatbridge", "serve", "--port", "0",
                     "--config", str(config), "--api-key", KEY]  # fmt: skip
            return _with_v1(process(args_, first_line="Serving on"))

        results = [measure_server("chatbridge", ours, "fake", base, n)]
        if not args.no_litellm and ensure_litellm():
            lite_config = Path(tmp) / "litellm.yaml"
            lite_config.write_text(
                "model_list:\n  - model_name: fake\n    litellm_params:\n"
                f"      model: openai/fake-model\n      api_base: {upstream}\n      api_key: x\n"
            )

            def litellm() -> Any:
                port = free_port()
                args_ = [str(HERE / ".venv-litellm" / "bin" / "litellm"), "--config",
                         str(lite_config), "--host", "127.0.0.1", "--port", str(port),
                         "--num_workers", "1"]  # fmt: skip
                env = {"LITELLM_LOG": "ERROR", "LITELLM_TELEMETRY": "False",
                       "LITELLM_MASTER_KEY": KEY}  # fmt: skip
                return _fixed_url(process(args_, env=env), f"http://127.0.0.1:{port}/v1")

            try:
                results.append(measure_server("LiteLLM", litellm, "fake", base, n))
            except Exception as error:  # report and go on: our own figures still stand
                print(f"LiteLLM could not be measured: {type(error).__name__}: {error}")
        elif not args.no_litellm:
            print("LiteLLM's virtualenv could not be made: measured ours only")
        report(results, base)
    site_figures(n)
    doors(n)


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
def _with_v1(ctx: Any) -> Iterator[tuple[subprocess.Popen[str], str]]:
    with ctx as (proc, url):
        yield proc, url + "/v1"


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
