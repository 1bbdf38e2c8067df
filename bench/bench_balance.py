"""Balancing, quotas and the usage ledger, measured in one run.

Run: .venv/bin/python bench/bench_balance.py [--requests 10000] [--phase 20] [--calls 4000]

Four fake OpenAI-compatible upstreams (``python -m chatbridge.upstream``, each in its own
process) answer after 0, 5, 10 and 20 ms (their first token); Debian's ``redis-server`` is
started here twice on free ports: one as a cache (nothing on disk), one that writes every
write to disk before it answers (a killed one restarts with all it acknowledged: --only 6).
  1. one process (``AsyncClient``, state in memory), 16 callers at once:
     round robin over ``--requests`` calls: every target within 1 % of its share (goal);
     weighted 1:2:3:4: within 2 % of the weights (goal);
     least busy and latency: three phases of ``--phase`` s (as set; the slowest target then
     200 ms slow; then recovered): the slow target's share per phase (goal: it drops), and
     how long after its recovery it is asked again (goal: within a minute);
  2. the same through ``chatbridge serve --workers 4 --redis`` (one Redis for the four);
  3. a strategy's CPU per call over ``ordered`` in one process (scripted targets that
     answer at once, no I/O; median of 7 rounds; goal <= 20 us);
  4. with Redis: the p50 latency a strategy adds per call over ``ordered`` (scripted
     targets, calls interleaved; goal <= 0.3 ms);
  5. quota counting with Redis: the p50 latency it adds per request through the server
     (in-process app; quotas on vs off, interleaved; goal <= 0.2 ms), and ``admit`` alone;
  6. counts lost: ``serve --workers 4 --redis`` with a quota, Redis killed a third of the
     way and restarted two thirds of the way: requests answered vs requests in the ledger
     and in the quota (goal: 0 lost, none twice).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import chatbridge_process as process
from chatbridge import AsyncClient, AsyncGeneratorProvider, FinishReason, Target, close_pool
from chatbridge._client._config import load_config
from chatbridge._client._health import HealthBook
from chatbridge._state import FallbackStore, StateStore
from chatbridge._state._redis import RedisStore
from chatbridge.server import build_app, parse_settings
from chatbridge.server._run import deployment_namespace
from chatbridge.server._usage import Usage
from tests.redisd import RedisServer
from tests.server.conftest import listening

ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}
USER = [{"role": "user", "content": "Tell me about balance"}]
NAMES = ("a", "b", "c", "d")
DELAYS = (0.0, 0.005, 0.010, 0.020)
SLOW = 0.2
#: The first-token delay of all four in the balancing-by-load phases.
EVEN = 0.005
#: Seconds watched after the slow target recovers, for the latency strategy (``--after``).
AFTER = 65.0
STRATEGIES = ("round_robin", "weighted", "least_busy", "latency")
#: Rounds of the CPU measure (each strategy's added cost is the median of the rounds' own).
ROUNDS = 11


# --- processes ------------------------------------------------------------------------------


def serve(config: Path, redis: RedisServer) -> Any:
    """``chatbridge serve --workers 4`` with ``config``, sharing ``redis``."""
    return process(
        "serve", "--port", "0", "--config", str(config), "--redis", redis.url, "--workers", "4",
        "--no-ui",
    )  # fmt: skip


async def plan(session: aiohttp.ClientSession, upstream: str, seconds: float) -> None:
    """Every request of ``upstream`` gets its first token after ``seconds``."""
    root = upstream.removesuffix("/v1")
    steps = [{"kind": "first_token_delay", "seconds": seconds}] if seconds else []
    async with session.post(root + "/__upstream__/plan", json=steps) as response:
        response.raise_for_status()


def routes_toml(upstreams: list[str], strategy: str, extra: str = "") -> str:
    targets = [
        f'  {{ provider = "OpenAICompatible", base_url = "{url}", model = "{name}", '
        f'name = "{name}", weight = {index + 1} }},'
        for index, (name, url) in enumerate(zip(NAMES, upstreams, strict=True))
    ]
    return (
        f'[routes.r]\nstrategy = "{strategy}"\ntargets = [\n' + "\n".join(targets) + f"\n]\n{extra}"
    )


# --- load -----------------------------------------------------------------------------------

Ask = Callable[[], Awaitable[str]]


async def load(
    ask: Ask, count: int | None, seconds: float | None, callers: int = 16
) -> list[tuple[float, str]]:
    """``callers`` callers at once, until ``count`` answers or ``seconds`` passed: each
    answer's time and target."""
    answers: list[tuple[float, str]] = []
    stop = time.monotonic() + seconds if seconds is not None else float("inf")
    left = [count if count is not None else -1]

    async def caller() -> None:
        while time.monotonic() < stop and left[0] != 0:
            left[0] -= 1  # a call is taken before it is made: exactly ``count`` calls
            answers.append((time.monotonic(), await ask()))

    await asyncio.gather(*(caller() for _ in range(callers)))
    return answers


def client_asker(client: AsyncClient) -> Ask:
    async def ask() -> str:
        answer = await client.chat.completions.create(model="r", messages=USER)
        return answer.model

    return ask


def http_asker(session: aiohttp.ClientSession, url: str) -> Ask:
    async def ask() -> str:
        async with session.post(
            url + "/v1/chat/completions", json={"model": "r", "messages": USER}
        ) as response:
            body = await response.json()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}: {body}")
            return str(body["model"])

    return ask


def shares(answers: list[tuple[float, str]]) -> dict[str, float]:
    counted = Counter(model for _, model in answers)
    return {name: counted[name] / max(1, len(answers)) for name in NAMES}


def report_shares(
    label: str, answers: list[tuple[float, str]], wanted: dict[str, float], bound: float
) -> None:
    found = shares(answers)
    worst = max(abs(found[name] - wanted[name]) / wanted[name] for name in NAMES)
    shown = "  ".join(f"{name} {found[name] * 100:5.2f}%" for name in NAMES)
    verdict = "ok" if worst <= bound else "OVER"
    print(
        f"   {label:12s} {len(answers):6d} calls: {shown}  worst {worst * 100:.2f}% off "
        f"(goal <= {bound * 100:.0f}%: {verdict})"
    )


async def dynamics(
    ask: Ask, session: aiohttp.ClientSession, upstreams: list[str], phase: float, after: float
) -> None:
    """Three phases: the four alike (5 ms), d 200 ms slow, d recovered; d's share in each,
    and when it is asked again after recovering."""
    for url in upstreams:
        await plan(session, url, EVEN)
    normal = await load(ask, None, phase)
    await plan(session, upstreams[-1], SLOW)
    slowed = await load(ask, None, phase)
    await plan(session, upstreams[-1], EVEN)
    recovered_at = time.monotonic()
    back_on = await load(ask, None, after)
    back = [moment - recovered_at for moment, model in back_on if model == "d"]
    print(
        f"      d's share: {shares(normal)['d'] * 100:.1f}% all alike, "
        f"{shares(slowed)['d'] * 100:.1f}% at {SLOW * 1000:.0f} ms, "
        f"{shares(back_on)['d'] * 100:.1f}% in the {after:.0f} s after recovering; asked again "
        + (f"{back[0]:.1f} s after recovering" if back else f"NEVER (within {after:.0f} s)")
        + " (goal: drops, then within 60 s)"
    )


async def balance_section(
    make_ask: Callable[[str], Awaitable[tuple[Ask, Callable[[], Awaitable[None]]]]],
    upstreams: list[str],
    requests: int,
    phase: float,
) -> None:
    async with aiohttp.ClientSession() as session:
        for url, delay in zip(upstreams, DELAYS, strict=True):
            await plan(session, url, delay)
        for strategy in STRATEGIES:
            ask, done = await make_ask(strategy)
            try:
                if strategy == "round_robin":
                    answers = await load(ask, requests, None)
                    report_shares(strategy, answers, dict.fromkeys(NAMES, 0.25), 0.01)
                elif strategy == "weighted":
                    answers = await load(ask, requests, None)
                    wanted = {name: (i + 1) / 10 for i, name in enumerate(NAMES)}
                    report_shares(strategy, answers, wanted, 0.02)
                else:
                    print(f"   {strategy}:")
                    after = AFTER if strategy == "latency" else phase  # forgetting takes 30 s
                    await dynamics(ask, session, upstreams, phase, after)
                    for url, delay in zip(upstreams, DELAYS, strict=True):
                        await plan(session, url, delay)
            finally:
                await done()


# --- 1 and 2 (--only 1 2) -------------------------------------------------------------------


async def in_process(upstreams: list[str], requests: int, phase: float, folder: Path) -> None:
    async def make(strategy: str) -> tuple[Ask, Callable[[], Awaitable[None]]]:
        path = folder / f"{strategy}.toml"
        path.write_text(routes_toml(upstreams, strategy))
        client = AsyncClient(config=str(path), health=HealthBook())
        return client_asker(client), client.aclose

    await balance_section(make, upstreams, requests, phase)


async def in_fleet(
    upstreams: list[str], requests: int, phase: float, folder: Path, redis: RedisServer
) -> None:
    stacks: list[ExitStack] = []
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32))

    async def make(strategy: str) -> tuple[Ask, Callable[[], Awaitable[None]]]:
        path = folder / f"fleet-{strategy}.toml"
        path.write_text(routes_toml(upstreams, strategy))
        stack = ExitStack()
        stacks.append(stack)
        url, _ = stack.enter_context(serve(path, redis))

        async def done() -> None:
            stack.close()

        return http_asker(session, url), done

    try:
        await balance_section(make, upstreams, requests, phase)
    finally:
        await session.close()
        for stack in stacks:
            stack.close()


# --- 3 and 4 (--only 3 4): a strategy's own cost --------------------------------------------


class Instant(AsyncGeneratorProvider):
    """A target that answers at once, with no I/O: what remains is the client's work."""

    url = None
    working = True

    @classmethod
    async def create_async_generator(
        cls, model: str, messages: Any, **kwargs: Any
    ) -> AsyncIterator[Any]:  # type: ignore[override]
        yield "ok"
        yield FinishReason("stop")


def scripted_client(strategy: str, store: StateStore | None) -> AsyncClient:
    targets = [
        Target(Instant, {"site_url": f"http://{name}.invalid"}, model=name, weight=i + 1)
        for i, name in enumerate(NAMES)
    ]
    routes = {"r": {"targets": targets, "strategy": strategy}}
    return AsyncClient(routes=routes, health=HealthBook(state=store))


async def cpu_per_call(strategy: str, calls: int) -> float:
    client = scripted_client(strategy, None)
    for _ in range(200):
        await client.chat.completions.create(model="r", messages=USER)
    started = time.process_time()
    for _ in range(calls):
        await client.chat.completions.create(model="r", messages=USER)
    return (time.process_time() - started) / calls


async def strategy_cpu(calls: int) -> None:
    rounds: dict[str, list[float]] = {name: [] for name in ("ordered", *STRATEGIES)}
    for _ in range(ROUNDS):
        for name in rounds:
            rounds[name].append(await cpu_per_call(name, calls))
    base = statistics.median(rounds["ordered"])
    print(f"   ordered: {base * 1e6:.1f} us CPU per call (median of {ROUNDS} rounds of {calls})")
    for name in STRATEGIES:
        extra = [
            (value - ordered) * 1e6
            for value, ordered in zip(rounds[name], rounds["ordered"], strict=True)
        ]
        added = statistics.median(extra)
        print(
            f"   {name:12s} {added:+6.1f} us per call over ordered "
            f"(goal <= 20 us: {'ok' if added <= 20 else 'OVER'})"
        )


async def strategy_redis(redis: RedisServer, calls: int) -> None:
    names = ("ordered", *STRATEGIES)
    stores = {
        name: FallbackStore(RedisStore(redis.url, namespace=f"bench-{name}")) for name in names
    }
    for store in stores.values():
        for _ in range(20):  # connected before anything is timed
            if await store.check():
                break
            await asyncio.sleep(0.5)
    clients = {name: scripted_client(name, store) for name, store in stores.items()}
    times: dict[str, list[float]] = {name: [] for name in clients}
    for _ in range(300):
        for client in clients.values():
            await client.chat.completions.create(model="r", messages=USER)
    outages = sum(store.outages for store in stores.values())
    for _ in range(calls):
        for name, client in clients.items():
            started = time.perf_counter()
            await client.chat.completions.create(model="r", messages=USER)
            times[name].append(time.perf_counter() - started)
    lost = sum(store.outages for store in stores.values()) - outages
    base = statistics.median(times["ordered"])
    print(
        f"   ordered: p50 {base * 1000:.3f} ms per call (Redis holds the breakers); "
        f"Redis {'answered every call' if not lost else f'WENT AWAY {lost} times'}"
    )
    for name in STRATEGIES:
        added = (statistics.median(times[name]) - base) * 1000
        print(
            f"   {name:12s} {added:+.3f} ms p50 per call (goal <= 0.3 ms: "
            f"{'ok' if added <= 0.3 else 'OVER'})"
        )
    for store in stores.values():
        await store.close()


# --- 5 (--only 5): quota counting -----------------------------------------------------------


async def quota_cost(redis: RedisServer, calls: int) -> None:
    routes = {"r": [Target(Instant, {"site_url": "http://q.invalid"}, model="q")]}
    with_quota = parse_settings(
        {"api_keys": ["k1"], "quotas": {"default": {"requests_per_day": 10**9}}}, "bench"
    )
    without = parse_settings({"api_keys": ["k1"]}, "bench")
    stores = [FallbackStore(RedisStore(redis.url, namespace=f"quota-{n}")) for n in range(2)]
    usages = [Usage(stores[0], with_quota), Usage(stores[1], without)]
    client = AsyncClient(routes=routes, health=HealthBook())
    apps = [
        build_app(client, with_quota, usage=usages[0]),
        build_app(client, without, usage=usages[1]),
    ]
    headers = {"Authorization": "Bearer k1"}
    body = {"model": "r", "messages": USER}
    async with listening(apps[0], with_quota) as counted, listening(apps[1], without) as plain:
        async with aiohttp.ClientSession() as session:

            async def one(url: str) -> float:
                started = time.perf_counter()
                async with session.post(
                    url + "/v1/chat/completions", json=body, headers=headers
                ) as response:
                    await response.read()
                return time.perf_counter() - started

            for _ in range(200):
                await one(counted)
                await one(plain)
            times: list[list[float]] = [[], []]
            for _ in range(calls):
                times[0].append(await one(counted))
                times[1].append(await one(plain))
        admits = []
        for _ in range(calls):
            started = time.perf_counter()
            await usages[0].admit("key-bench")
            admits.append(time.perf_counter() - started)
    for usage in usages:
        await usage.drain()
    for store in stores:
        await store.close()
    added = (statistics.median(times[0]) - statistics.median(times[1])) * 1000
    print(
        f"   p50 per request: {statistics.median(times[1]) * 1000:.3f} ms without quotas, "
        f"{statistics.median(times[0]) * 1000:.3f} ms with; added {added:+.3f} ms "
        f"(goal <= 0.2 ms: {'ok' if added <= 0.2 else 'OVER'})"
    )
    print(
        f"   admit alone (one atomic count in Redis): p50 {statistics.median(admits) * 1000:.3f} ms"
    )


# --- 6 (--only 6): counts lost --------------------------------------------------------------


async def counts_lost(upstreams: list[str], redis: RedisServer, total: int, folder: Path) -> None:
    path = folder / "quota.toml"
    path.write_text(
        routes_toml(
            upstreams,
            "round_robin",
            '[server]\napi_keys = ["k1"]\n'
            "[server.quotas]\ndefault = { requests_per_day = 100000000 }\n",
        )
    )
    config = load_config(path)
    settings = parse_settings(config.server, str(path))
    namespace = deployment_namespace(config, None, settings, str(path))
    served = 0
    with serve(path, redis) as (url, child):
        async with aiohttp.ClientSession() as session:
            headers = {"Authorization": "Bearer k1"}

            async def ask() -> str:
                nonlocal served
                async with session.post(
                    url + "/v1/chat/completions",
                    json={"model": "r", "messages": USER},
                    headers=headers,
                ) as response:
                    await response.read()
                    if response.status == 200:
                        served += 1
                    return "a"

            await load(ask, total // 3, None, callers=8)
            redis.kill()
            killed = time.monotonic()
            await load(ask, total // 3, None, callers=8)
            redis.start()
            print(
                f"   Redis away for {time.monotonic() - killed:.1f} s, "
                f"{total // 3} requests meanwhile"
            )
            await load(ask, total - 2 * (total // 3), None, callers=8)
            await asyncio.sleep(6)  # every worker tries Redis again within 5 s
            await load(ask, 200, None, callers=8)  # each worker answers some, and settles
        child.send_signal(signal.SIGTERM)  # drain: the ledger's last lines, what is owed
        child.wait(timeout=60)
    store = RedisStore(redis.url, namespace=namespace)
    from chatbridge.server._quotas import windows
    from chatbridge.server._record import key_id

    day = windows(time.time())
    key = key_id("k1")
    ledger, quota = await store.tallies(f"usage:{key}:{day.day}", f"quota:{key}:{day.month}")
    await store.close()
    in_ledger = sum(value for name, value in ledger.items() if name.endswith("\trequests"))
    print(
        f"   answered {served}; in the ledger {in_ledger}; in the quota {quota.get('req', 0)} "
        f"(goal: equal: {'ok' if served == in_ledger == quota.get('req', 0) else 'DIFFERS'})"
    )


# --- main -----------------------------------------------------------------------------------


async def run(
    args: argparse.Namespace,
    upstreams: list[str],
    redis: RedisServer,
    durable: RedisServer,
    folder: Path,
) -> None:
    sections: dict[int, tuple[str, Callable[[], Awaitable[None]]]] = {
        1: (
            f"one process, state in memory, {len(upstreams)} upstreams (first token "
            f"{', '.join(f'{d * 1000:.0f}' for d in DELAYS)} ms), 16 callers:",
            lambda: in_process(upstreams, args.requests, args.phase, folder),
        ),
        2: (
            "chatbridge serve --workers 4 --redis (one Redis for the four):",
            lambda: in_fleet(upstreams, args.requests, args.phase, folder, redis),
        ),
        3: ("a strategy's CPU per call over ordered, one process, no I/O:",
            lambda: strategy_cpu(args.calls)),
        4: ("with Redis, the p50 a strategy adds per call over ordered:",
            lambda: strategy_redis(redis, args.calls // 2)),
        5: ("quota counting with Redis:", lambda: quota_cost(redis, args.calls // 2)),
        6: (
            "counts lost when Redis is killed and restarted mid-way (4 workers):",
            lambda: counts_lost(upstreams, durable, args.calls, folder),
        ),
    }  # fmt: skip
    for number, (title, section) in sections.items():
        if args.only and number not in args.only:
            continue
        print(f"\n{number}. {title}")
        await section()
        await close_pool()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--phase", type=float, default=20.0, help="seconds per phase")
    parser.add_argument("--calls", type=int, default=4000)
    parser.add_argument("--after", type=float, default=65.0, help="seconds after recovery")
    parser.add_argument("--only", type=int, nargs="*", default=[], help="section numbers")
    args = parser.parse_args()
    global AFTER
    AFTER = args.after
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="bench-balance-") as folder:
        redis = stack.enter_context(RedisServer())
        durable = stack.enter_context(RedisServer(persist=True))
        upstreams = [
            stack.enter_context(
                process("--port", "0", "--model", name, module="chatbridge.upstream")
            )[0]
            for name in NAMES
        ]
        print(f"upstreams {', '.join(upstreams)}; Redis {redis.url}; {os.cpu_count()} cores")
        asyncio.run(run(args, upstreams, redis, durable, Path(folder)))


if __name__ == "__main__":
    main()
