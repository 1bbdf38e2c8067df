"""Provider benchmarks: client CPU, requests per message, gpt4free, nonce soak (AI Power),
and the same for AI Engine with 1,000 concurrent conversations (``_aiengine``).

Run: .venv/bin/python bench/bench_providers.py [--messages 300] [--rounds 3] [--soak 2000]
     [--skip-g4f] [--only ai-power|ai-engine] [--crowd 1000] [--instructions 100]
     [--instruction-rounds 3]

Every site runs in its own process (``python -m chatbridge.site``), so only client work is
measured. Prints, from one run:
  1. steady-state client CPU per message: Chatgpt4o, ChatGptt and AIPower vs a raw aiohttp
     loop posting the same form with a known nonce (goal <= 1.15x, issue 17 item 15); with
     ``--instructions N`` also as instruction counts under valgrind (1b, medians of
     ``--instruction-rounds``);
  2. HTTP requests per message in steady state per generation (goal 1.0 legacy, 2.0 AIPKit);
  3. ours vs gpt4free 6.7.1's Chatgpt4o and ChatGptt on the same sites (bench/.venv-g4f is
     created on first use: pip install g4f==6.7.1 curl_cffi==0.16.3);
  4. a nonce-rotation soak: N messages, the site's nonce tick moved forward every 200;
  5.-7. AI Engine: CPU per message against a raw aiohttp floor (goal <= 1.15x whole, 1.3x
     streamed), requests per message, and 1,000 concurrent streaming conversations; with
     --instructions N, also as instructions (5b) and what the issue's own rules cost alone
     (5c, ``_aiengine_rules``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import aiohttp  # noqa: E402

from bench._aiengine import (  # noqa: E402
    cachegrind,
    engine_cpu,
    engine_crowd,
    engine_instructions,
    engine_requests,
    engine_site,
)
from bench._aiengine_rules import engine_rules  # noqa: E402
from bench._common import median, server_process  # noqa: E402
from chatbridge import AIPower, Chatgpt4o, ChatGptt, close_pool  # noqa: E402
from chatbridge._aipower._page import parse_page  # noqa: E402
from chatbridge._constants import (  # noqa: E402
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_HEADERS,
    DEFAULT_READ_GAP,
    DEFAULT_TIMEOUT,
)

G4F_PYTHON = HERE / ".venv-g4f" / "bin" / "python"


def site(*options: str) -> str:
    args = ", ".join(repr(o) for o in ("--port", "0", "--quiet", *options))
    return f"from chatbridge.site._main import main; main([{args}])"


async def raw_floor(url: str, messages: int) -> float:
    """The least any client must do: POST the form with a known nonce, read the JSON."""
    timeout = aiohttp.ClientTimeout(
        total=DEFAULT_TIMEOUT, connect=DEFAULT_CONNECT_TIMEOUT, sock_read=DEFAULT_READ_GAP
    )
    async with aiohttp.ClientSession(headers=DEFAULT_HEADERS, timeout=timeout) as session:
        async with session.get(url + "/") as response:
            tokens = parse_page(await response.text(), url + "/")
        assert tokens is not None
        form = {
            "_wpnonce": tokens.nonce,
            "post_id": tokens.post_id,
            "url": tokens.data_url,
            "action": tokens.action,
            "message": "",
            "bot_id": tokens.bot_id,
            "chatbot_identity": tokens.chatbot_identity,
            "wpaicg_chat_history": "[]",
            "wpaicg_chat_client_id": "abcdefghij",
        }
        start = time.process_time()
        for index in range(messages):
            form["message"] = f"message {index}"
            async with session.post(tokens.ajax_url, data=form) as response:
                data = await response.json(content_type=None)
                assert f"message {index}" in data["data"]
        return (time.process_time() - start) / messages


#: The AI Power providers the floor is held against, each asked its own way.
PROVIDERS = ("Chatgpt4o", "ChatGptt", "AIPower")


async def _ask(provider: str, url: str, text: str) -> str:
    messages = [{"role": "user", "content": text}]
    if provider == "Chatgpt4o":
        Chatgpt4o.url = url
        return await Chatgpt4o.create_async("", messages)
    if provider == "ChatGptt":
        ChatGptt.url = url
        return "".join([c async for c in ChatGptt.create_async_generator("", messages)])
    chunks = AIPower.create_async_generator("", messages, site_url=url)
    return "".join([c async for c in chunks])


async def ours(url: str, messages: int, provider: str = "Chatgpt4o") -> float:
    await _ask(provider, url, "warm-up")
    start = time.process_time()
    for index in range(messages):
        answer = await _ask(provider, url, f"message {index}")
        assert f"message {index}" in answer
    elapsed = (time.process_time() - start) / messages
    await close_pool()
    return elapsed


def _count(impl: str, url: str, messages: int) -> int:
    """Instructions of one run of ``impl`` (``raw`` or a provider) under cachegrind."""
    code = (
        f"import runpy, sys; sys.argv[0] = {__file__!r}; "
        "runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    return cachegrind(code, "--count", impl, url, str(messages))


def power_instructions(messages: int, rounds: int) -> None:
    """Instructions per message (runs of 2n and n messages, so start-up, the page and the
    warm-up cancel out), medians of ``rounds``: the timings' ratio without the machine's
    noise."""
    print(
        f"1b. AI Power: instructions per message under cachegrind ({messages} messages a way, "
        f"medians of {rounds} rounds)"
    )
    per_round: list[dict[str, float]] = []
    with server_process(site("--generation", "2.2", "--no-stream", "--quiet")) as url:
        for _ in range(rounds):
            per_round.append({
                impl: (_count(impl, url, 2 * messages) - _count(impl, url, messages)) / messages
                for impl in ("raw", *PROVIDERS)
            })  # fmt: skip
    raw = median([per["raw"] for per in per_round])
    print(f"   raw aiohttp loop, known nonce: {raw:11,.0f}")
    for provider in PROVIDERS:
        ratios = sorted(per[provider] / per["raw"] for per in per_round)
        shown = ", ".join(f"{r:.3f}" for r in ratios)
        count = median([per[provider] for per in per_round])
        print(
            f"   chatbridge {provider:19s} {count:11,.0f}  {median(ratios):.3f}x "
            f"(rounds: {shown}; goal <= 1.15x)"
        )


def counted(impl: str, url: str, messages: str) -> None:
    """The run :func:`_count` counts (in this process, under valgrind)."""
    if impl == "raw":
        asyncio.run(raw_floor(url, int(messages)))
    else:
        asyncio.run(ours(url, int(messages), impl))


def cpu_ratio(messages: int, rounds: int) -> None:
    """Each round times the floor and the three providers back to back; the ratios are
    medians of the rounds' own ratios (a round shares the machine's load of its moment)."""
    print("1. Steady-state client CPU per message (site 2.2, JSON replies)")
    with server_process(site("--generation", "2.2", "--no-stream")) as url:
        floors: list[float] = []
        mine: dict[str, list[float]] = {provider: [] for provider in PROVIDERS}
        for _ in range(rounds):
            floors.append(asyncio.run(raw_floor(url, messages)))
            for provider in PROVIDERS:
                mine[provider].append(asyncio.run(ours(url, messages, provider)))
    print(f"   raw aiohttp loop, known nonce: {median(floors) * 1e6:7.1f} us")
    for provider, times in mine.items():
        ratios = sorted(t / f for t, f in zip(times, floors, strict=True))
        shown = ", ".join(f"{r:.2f}" for r in ratios)
        print(
            f"   chatbridge {provider:19s} {median(times) * 1e6:7.1f} us  "
            f"{median(ratios):.3f}x (rounds: {shown}; goal <= 1.15x)"
        )


def worker(impl: str, provider: str, url: str, messages: int, advance: int | None = None) -> dict:
    python = str(G4F_PYTHON) if impl == "g4f" else sys.executable
    command = [
        python,
        str(HERE / "_worker.py"),
        "--impl",
        impl,
        "--provider",
        provider,
        "--url",
        url,
        "--messages",
        str(messages),
    ]
    if advance:
        command += ["--advance-every", str(advance)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1]}
    result: dict = json.loads(lines[-1])
    return result


SITES = {
    "1.7 JSON": ("--generation", "1.7"),
    "1.8 JSON": ("--generation", "1.8", "--no-stream"),
    "2.2 streaming": ("--generation", "2.2"),
    "AIPKit": ("--generation", "aipkit"),
}


def requests_per_message(messages: int) -> None:
    print("2. HTTP requests per message in steady state (ours, ChatGptt)")
    for name, options in SITES.items():
        with server_process(site(*options)) as url:
            result = worker("ours", "ChatGptt", url, messages)
        print(
            f"   {name:14s} {result.get('requests_per_message', result)}   "
            f"(answered {result.get('answered')}/{messages})"
        )


def ensure_g4f() -> bool:
    if G4F_PYTHON.exists():
        return True
    print("   creating bench/.venv-g4f (g4f==6.7.1, curl_cffi==0.16.3) ...", flush=True)
    made = subprocess.run([sys.executable, "-m", "venv", str(HERE / ".venv-g4f")])
    if made.returncode == 0:
        made = subprocess.run(
            [str(G4F_PYTHON), "-m", "pip", "install", "-q", "g4f==6.7.1", "curl_cffi==0.16.3"]
        )
    return made.returncode == 0


def describe(result: dict) -> str:
    if "error" in result:
        return f"could not run: {result['error']}"
    text = (
        f"{result['messages_per_s']:7.0f} msg/s  {result['cpu_per_message_us']:7.0f} us CPU/msg"
        f"  {result['requests_per_message']:.2f} req/msg  answered {result['answered']}"
    )
    if result["failures"]:
        text += f"  failures: {result['failures']}"
    return text


def versus_g4f(messages: int, rounds: int) -> None:
    print("3. Side by side with gpt4free 6.7.1 (sequential messages, medians of rounds)")
    scenarios = {
        "1.8 JSON, no other nonce (what gpt4free can read)": (
            "--generation",
            "1.8",
            "--no-stream",
            "--no-other-plugin-nonce",
        ),
        "2.2 streaming, no other nonce": ("--generation", "2.2", "--no-other-plugin-nonce"),
        "2.2 defaults (streaming, another plugin's nonce first)": ("--generation", "2.2"),
    }
    for title, options in scenarios.items():
        print(f"   site {title}:")
        with server_process(site(*options)) as url:
            for provider in ("Chatgpt4o", "ChatGptt"):
                for impl in ("ours", "g4f"):
                    runs = [worker(impl, provider, url, messages) for _ in range(rounds)]
                    ok = [r for r in runs if "error" not in r]
                    best = dict(ok[0]) if ok else runs[0]
                    if ok:
                        for key in ("messages_per_s", "cpu_per_message_us"):
                            best[key] = median([r[key] for r in ok])
                    print(f"     {impl:4s} {provider:9s} {describe(best)}")


def soak(messages: int) -> None:
    print(f"4. Nonce-rotation soak: {messages} messages, site tick +1 every 200 messages")
    sites = {
        "1.8 JSON, no other nonce": (
            "--generation",
            "1.8",
            "--no-stream",
            "--no-other-plugin-nonce",
        ),
        "2.2 defaults": ("--generation", "2.2"),
        "AIPKit": ("--generation", "aipkit"),
    }
    for title, options in sites.items():
        print(f"   site {title}:")
        for provider in ("Chatgpt4o", "ChatGptt"):
            for impl in ("ours", "g4f"):
                if impl == "g4f" and (
                    not G4F_PYTHON.exists() or title != "1.8 JSON, no other nonce"
                ):
                    continue  # gpt4free cannot read the other sites at all (see 3.)
                with server_process(site(*options)) as url:
                    result = worker(impl, provider, url, messages, advance=200)
                print(f"     {impl:4s} {provider:9s} {describe(result)}")


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--count":
        counted(*sys.argv[2:])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--soak", type=int, default=2000)
    parser.add_argument("--skip-g4f", action="store_true")
    parser.add_argument("--only", choices=("ai-power", "ai-engine"))
    parser.add_argument("--crowd", type=int, default=1000)
    parser.add_argument(
        "--instructions",
        type=int,
        default=0,
        metavar="N",
        help="also count instructions per message under valgrind (N messages a way)",
    )
    parser.add_argument(
        "--instruction-rounds", type=int, default=3, help="rounds of --instructions (medians)"
    )
    args = parser.parse_args()
    if args.only != "ai-engine":
        cpu_ratio(args.messages, args.rounds)
        if args.instructions:
            power_instructions(args.instructions, args.instruction_rounds)
        requests_per_message(min(args.messages, 100))
        if not args.skip_g4f and ensure_g4f():
            versus_g4f(args.messages, args.rounds)
        soak(args.soak)
    if args.only != "ai-power":
        engine_cpu(args.messages, args.rounds)
        if args.instructions:
            floors = engine_instructions(args.instructions, args.instruction_rounds)
            engine_rules(
                10 * args.instructions, args.instruction_rounds, engine_site(), floors["whole"]
            )
        engine_requests(5)
        engine_crowd(args.crowd)


if __name__ == "__main__":
    main()
