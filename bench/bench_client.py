"""Client CPU per message through ``AsyncClient`` against calling the provider directly.

Run: .venv/bin/python bench/bench_client.py [--messages 100] [--rounds 31]

The local site (2.2, streaming, about 20 chunks per answer; and 2.2 JSON) runs in its own
process, so only client work is measured. Each round runs the four ways back to back; a
ratio is the median over the rounds of that round's ratio (steadier than a ratio of medians:
a round's ways share its clock speed and load):
  1. ``AIPower`` called directly (``create_async_generator`` / ``create_async``);
  2. the floor: 1, with its answer turned into the client's typed response (no routing);
  3. ``AsyncClient`` with a one-target route (goal <= 1.05x of 1);
  4. ``AsyncClient`` with a two-target route whose primary's breaker is open (goal <= 1.10x:
     an open breaker costs nothing).
Also the wall time of ``python -c "import chatbridge"`` (goal <= 0.15 s).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench._common import median, server_process  # noqa: E402
from chatbridge import AIPower, AsyncClient, Policy, close_pool  # noqa: E402
from chatbridge._client._health import HealthBook  # noqa: E402
from chatbridge._client._models import (  # noqa: E402
    ChatbridgeInfo,
    attempt,
    chatbridge_info,
    completion,
    content_chunk,
    finish_chunk,
    new_completion_id,
    now,
    role_chunk,
)

ASK = "message {} about the benchmark"


def site(*options: str) -> str:
    args = ", ".join(repr(o) for o in ("--port", "0", "--quiet", *options))
    return f"from chatbridge.site._main import main; main([{args}])"


Ask = Callable[[int], Awaitable[str]]


def direct_asker(url: str, stream: bool, provider: Any = AIPower) -> Ask:
    """Message ``index`` asked of ``provider`` directly; returns the answer's text."""

    async def one(index: int) -> str:
        question = [{"role": "user", "content": ASK.format(index)}]
        if not stream:
            return await provider.create_async("", question, site_url=url)  # type: ignore[no-any-return]
        return "".join(
            [c async for c in provider.create_async_generator("", question, site_url=url)]
        )

    return one


def typed_asker(url: str, stream: bool, provider: Any = AIPower) -> Ask:
    """The floor: ``provider`` (``AIPower``) called directly, its answer turned into the
    client's typed response (a ``ChatCompletion`` with its ``chatbridge`` field, or a typed
    chunk per piece with the role and finish chunks), built the way the client builds them. No
    route, breaker, deadline or policy: what the response types alone cost."""
    ident, created = new_completion_id(), now()

    def info() -> ChatbridgeInfo:
        return chatbridge_info("r", "AIPower", url, "t", [attempt("t", "AIPower", "answered", 0.1)])

    async def one(index: int) -> str:
        question = [{"role": "user", "content": ASK.format(index)}]
        if not stream:
            text = await provider.create_async("", question, site_url=url)
            answer = completion(new_completion_id(), now(), "m", text, "stop", None, info())
            return answer.choices[0].message.content or ""
        parts = []
        first = True
        async for piece in provider.create_async_generator("", question, site_url=url):
            if first:
                chunk = role_chunk(ident, created, "m", piece, info())
                first = False
            else:
                chunk = content_chunk(ident, created, "m", piece)
            parts.append(chunk.choices[0].delta.content or "")
        finish_chunk(ident, created, "m", "stop", info())
        return "".join(parts)

    return one


def client_asker(url: str, stream: bool, open_primary: bool) -> Ask:
    """Message ``index`` asked through ``AsyncClient``: a one-target route, or with
    ``open_primary`` a two-target route whose first target's breaker is open for an hour."""
    policy = Policy(cooldown=3600, cooldown_max=3600, failure_threshold=1)
    health = HealthBook(policy)
    targets = [{"provider": "AIPower", "site_url": url}]
    if open_primary:
        targets.insert(0, {"provider": "AIPower", "site_url": "http://127.0.0.1:9"})
    client = AsyncClient(routes={"r": targets}, policy=policy, health=health)
    if open_primary:
        health.get(client.routes["r"].targets[0].key).failure()  # tripped: open for an hour
    return routed_asker(client, stream)


def routed_asker(client: AsyncClient, stream: bool) -> Ask:
    """Message ``index`` asked through ``client``'s route ``r``, whole or streamed."""
    completions = client.chat.completions

    async def one(index: int) -> str:
        question = [{"role": "user", "content": ASK.format(index)}]
        if not stream:
            answer = await completions.create(model="r", messages=question)
            return answer.choices[0].message.content or ""
        chunks = completions.create(model="r", messages=question, stream=True)
        return "".join([c.choices[0].delta.content or "" async for c in chunks])

    return one


async def cpu_per_message(one: Ask, messages: int) -> float:
    """Process CPU seconds per message over ``messages`` messages, after one to warm up."""
    await one(-1)
    start = time.process_time()
    for index in range(messages):
        assert ASK.format(index) in await one(index)
    elapsed = (time.process_time() - start) / messages
    await close_pool()
    return elapsed


def measure(url: str, messages: int, rounds: int, stream: bool) -> None:
    plain, typed, one, two = [], [], [], []
    for _ in range(rounds):
        plain.append(asyncio.run(cpu_per_message(direct_asker(url, stream), messages)))
        typed.append(asyncio.run(cpu_per_message(typed_asker(url, stream), messages)))
        one.append(asyncio.run(cpu_per_message(client_asker(url, stream, False), messages)))
        two.append(asyncio.run(cpu_per_message(client_asker(url, stream, True), messages)))
    p = median(plain)

    def line(label: str, runs: list[float], goal: str) -> None:
        # Each round runs the ways back to back, so a round's ratios share its conditions
        # (clock speed, other load): their median is steadier than a ratio of medians.
        paired = median([b / a for a, b in zip(plain, runs, strict=True)])
        print(f"   {label:36s}{median(runs) * 1e6:7.1f} us  {paired:5.3f}x {goal}")

    print(f"   {'AIPower directly:':36s}{p * 1e6:7.1f} us")
    line("floor: typed response, no routing:", typed, "(what the response types cost)")
    line("AsyncClient, one-target route:", one, "(goal <= 1.05x)")
    line("AsyncClient, primary breaker open:", two, "(goal <= 1.10x)")


def import_time() -> None:
    runs = []
    for _ in range(7):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import chatbridge"], check=True)
        runs.append(time.perf_counter() - start)
    bare = []
    for _ in range(7):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare.append(time.perf_counter() - start)
    print(
        f"import chatbridge: {median(runs):.3f} s wall, median of 7 (goal <= 0.15 s); "
        f"bare interpreter {median(bare):.3f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=31)
    args = parser.parse_args()
    print(f"client CPU per message, median of {args.rounds} rounds x {args.messages} messages")
    with server_process(site("--generation", "2.2")) as url:
        print("1. streamed answers (site 2.2, streaming)")
        measure(url, args.messages, args.rounds, True)
    with server_process(site("--generation", "2.2", "--no-stream")) as url:
        print("2. whole answers (site 2.2, JSON replies)")
        measure(url, args.messages, args.rounds, False)
    import_time()


if __name__ == "__main__":
    main()
