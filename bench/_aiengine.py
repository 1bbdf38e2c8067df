"""The AI Engine half of ``bench_providers.py`` (every site in its own process):

5. client CPU per message: ``AIEngine`` vs a raw aiohttp loop that sends the same request
   (the same JSON body, nonce known) and reads the same reply (whole: one JSON object;
   streamed: every frame ``json.loads``-ed, the end frame's data decoded again);
6. requests per message: on first contact with a G3 site, and with a cached nonce;
7. 1,000 concurrent streaming conversations on one site, in a process of their own: all
   answered, ``start_session`` calls per nonce rotation, the client's peak RSS.
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench._common import median, server_process  # noqa: E402
from chatbridge import AIEngine, close_pool  # noqa: E402
from chatbridge._aiengine._page import parse_page  # noqa: E402
from chatbridge._constants import (  # noqa: E402
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_HEADERS,
    DEFAULT_READ_GAP,
    DEFAULT_TIMEOUT,
)

SUBMIT = "/mwai-ui/v1/chats/submit"
START = "/mwai/v1/start_session"

__all__ = [
    "cachegrind",
    "engine_cpu",
    "engine_crowd",
    "engine_instructions",
    "engine_requests",
    "engine_site",
    "instruction_line",
    "instructions_per_message",
]


def engine_site(*options: str) -> str:
    args = ", ".join(repr(o) for o in ("--plugin", "ai-engine", "--port", "0", "--quiet", *options))
    return f"from chatbridge.site._main import main; main([{args}])"


def site_stats(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/__site__/stats", timeout=10) as response:
        stats: dict[str, Any] = json.loads(response.read())
        return stats


def advance(url: str, ticks: int) -> None:
    request = urllib.request.Request(f"{url}/__site__/advance?ticks={ticks}", method="POST")
    urllib.request.urlopen(request, timeout=10).read()


async def _raw_stream(response: aiohttp.ClientResponse) -> str:
    """The least a client reading the stream must do: the body in the chunks it arrives in,
    cut into frames, every frame parsed, the text kept, the end frame's data decoded again."""
    parts: list[str] = []
    buffer = b""
    async for chunk in response.content.iter_any():
        buffer += chunk
        while (cut := buffer.find(b"\n\n")) >= 0:
            line, buffer = buffer[:cut], buffer[cut + 2 :]
            if not line.startswith(b"data: "):
                continue
            frame = json.loads(line[6:])
            kind = frame["type"]
            if kind == "live" and frame.get("subtype") in (None, "content"):
                parts.append(frame["data"])
            elif kind == "end":
                reply: str = json.loads(frame["data"])["reply"]
                return reply
    raise RuntimeError("no end frame")


async def raw_floor(url: str, messages: int, stream: bool) -> float:
    """POST the same body with a known nonce, read the same reply. Each message is a new
    conversation, as in ``ours``: its own chatId, and no site session cookie (a jar that
    keeps none, so none is sent and none is parsed: the floor does not keep sessions)."""
    timeout = aiohttp.ClientTimeout(
        total=DEFAULT_TIMEOUT, connect=DEFAULT_CONNECT_TIMEOUT, sock_read=DEFAULT_READ_GAP
    )
    jar = aiohttp.DummyCookieJar()
    async with aiohttp.ClientSession(
        headers=DEFAULT_HEADERS, timeout=timeout, cookie_jar=jar
    ) as session:
        async with session.get(url + "/") as page:
            config = parse_page(await page.text(), url + "/")
        assert config is not None
        async with session.post(config.endpoint(START)) as started:
            nonce = (await started.json())["restNonce"]
        body: dict[str, Any] = {
            "botId": config.bot_id, "customId": None, "session": None, "chatId": "benchchat01",
            "contextId": config.context_id,
            "messages": [{"role": "assistant", "content": config.start_sentence}],
            "newMessage": "", "newFileId": None, "newFileIds": None, "stream": stream,
        }  # fmt: skip
        headers = {
            "Content-Type": "application/json",
            "X-WP-Nonce": nonce,
            "Accept": "text/event-stream" if stream else "application/json",
            "Referer": config.page_url,
        }
        submit = config.endpoint(SUBMIT)
        start = time.process_time()
        for index in range(messages):
            body["newMessage"] = f"message {index}"
            body["chatId"] = f"bench{index:07d}"
            data = json.dumps(body).encode()
            async with session.post(submit, data=data, headers=headers) as response:
                if stream:
                    reply = await _raw_stream(response)
                else:
                    reply = json.loads(await response.read())["reply"]
            assert f"message {index}" in reply
        return (time.process_time() - start) / messages


async def ours(url: str, messages: int, stream: bool) -> float:
    async def one(text: str) -> str:
        parts = [
            chunk
            async for chunk in AIEngine.create_async_generator(
                "", [{"role": "user", "content": text}], site_url=url, stream=stream
            )
            if isinstance(chunk, str)
        ]
        return "".join(parts)

    await one("warm-up")
    start = time.process_time()
    for index in range(messages):
        assert f"message {index}" in await one(f"message {index}")
    elapsed = (time.process_time() - start) / messages
    await close_pool()
    return elapsed


def engine_cpu(messages: int, rounds: int) -> None:
    print("5. AI Engine: client CPU per message (site 3.6, one message per conversation)")
    goals = {False: 1.15, True: 1.30}
    with server_process(engine_site()) as url:
        for stream in (False, True):
            floors, mine = [], []
            for _ in range(rounds):  # alternated, so both see the same machine load
                floors.append(asyncio.run(raw_floor(url, messages, stream)))
                mine.append(asyncio.run(ours(url, messages, stream)))
            ratios = sorted(m / f for m, f in zip(mine, floors, strict=True))
            f, m = median(floors), median(mine)
            how = "streamed" if stream else "whole   "
            print(
                f"   {how}: raw aiohttp {f * 1e6:6.1f} us, AIEngine {m * 1e6:6.1f} us, "
                f"ratio {m / f:.2f}x (per round: {', '.join(f'{r:.2f}' for r in ratios)}; "
                f"goal <= {goals[stream]:.2f}x)"
            )


def engine_requests(messages: int) -> None:
    print("6. AI Engine: HTTP requests per message (a new client each time: a fresh process)")
    code = (
        "import asyncio, sys; from chatbridge import AIEngine\n"
        "async def main(url, n):\n"
        "    for i in range(n):\n"
        "        await AIEngine.create_async('', [{'role': 'user', 'content': f'm{i}'}], "
        "site_url=url)\n"
        "        print(i, flush=True); sys.stdin.readline()\n"
        "asyncio.run(main(sys.argv[1], int(sys.argv[2])))\n"
    )
    for generation in ("3.6", "2.4"):
        with server_process(engine_site("--generation", generation)) as url:
            child = subprocess.Popen(
                [sys.executable, "-c", code, url, str(messages)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert child.stdin is not None and child.stdout is not None
            counts = []
            for _ in range(messages):
                before = site_stats(url)
                child.stdout.readline()
                after = site_stats(url)
                counts.append((after["rest_requests"], after["page_fetches"]))
                child.stdin.write("\n")
                child.stdin.flush()
                del before
            child.wait(30)
        first_rest, first_pages = counts[0]
        steady = (counts[-1][0] - counts[0][0]) / max(len(counts) - 1, 1)
        print(
            f"   {generation}: first message {first_rest} REST request(s) + {first_pages} page; "
            f"then {steady:.2f} per message   (goal: 2 on first contact with 3.6, then 1)"
        )


CROWD = """
import asyncio, json, resource, sys, urllib.request
from chatbridge import AIEngine

URL, N = sys.argv[1], int(sys.argv[2])


def stats():
    with urllib.request.urlopen(URL + "/__site__/stats", timeout=30) as response:
        return json.loads(response.read())


def advance(ticks):
    request = urllib.request.Request(f"{URL}/__site__/advance?ticks={ticks}", method="POST")
    urllib.request.urlopen(request, timeout=30).read()


async def one(i, word):
    text = []
    async for chunk in AIEngine.create_async_generator(
        "", [{"role": "user", "content": f"{word} {i}"}], site_url=URL
    ):
        if isinstance(chunk, str):
            text.append(chunk)
    return f"{word} {i} " in "".join(text)


async def wave(word):
    results = await asyncio.gather(*(one(i, word) for i in range(N)), return_exceptions=True)
    return sum(r is True for r in results)


async def main():
    out = {}
    for name, ticks in (("first contact", 0), ("rotated (+1 tick)", 1), ("expired (+2)", 2)):
        if ticks:
            await asyncio.to_thread(advance, ticks)
        before = await asyncio.to_thread(stats)
        answered = await wave(name.split()[0])
        after = await asyncio.to_thread(stats)
        out[name] = {
            "answered": answered,
            "start_session": after["session_starts"] - before["session_starts"],
            "new_tokens": after["new_tokens"] - before["new_tokens"],
            "refused": after["nonce_failures"] - before["nonce_failures"],
        }
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


asyncio.run(main())
"""


def engine_crowd(conversations: int) -> None:
    print(f"7. AI Engine: {conversations:,} concurrent streaming conversations on one site")
    with server_process(engine_site()) as url:
        done = subprocess.run(
            [sys.executable, "-c", CROWD, url, str(conversations)],
            capture_output=True,
            text=True,
            timeout=900,
            cwd=HERE.parent,
        )
    if done.returncode:
        print(f"   could not run: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
        return
    result = json.loads(done.stdout.strip().splitlines()[-1])
    rss = result.pop("peak_rss_mib")
    for name, wave in result.items():
        print(
            f"   {name:18s} answered {wave['answered']:,}/{conversations:,}, "
            f"start_session {wave['start_session']}, nonces handed over {wave['new_tokens']}, "
            f"refused {wave['refused']}"
        )
    print(f"   client peak RSS {rss:.0f} MiB   (goal: all answered, one start_session per "
          "rotation, <= 150 MiB)")  # fmt: skip
    _ = resource  # (the crowd measures its own RSS, in its own process)


DRIVER = """
import asyncio, sys
sys.path.insert(0, {root!r})
from {module} import ours, raw_floor
impl, url, n, *stream = sys.argv[1:]
run = ours if impl == "ours" else raw_floor
asyncio.run(run(url, int(n), *(way == "stream" for way in stream)))
"""


def cachegrind(code: str, *args: str) -> int:
    """Instructions ``python -c code *args`` ran (``valgrind --tool=cachegrind``: a count)."""
    done = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         sys.executable, "-c", code, *args],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    if done.returncode:  # (valgrind counts a run that failed too: it must not be read)
        raise RuntimeError(done.stderr[-500:])
    for line in done.stderr.splitlines():
        if "I" in line and "refs:" in line:
            return int(line.split("refs:")[1].strip().replace(",", ""))
    raise RuntimeError(done.stderr[-500:])


def _instructions(module: str, impl: str, url: str, messages: int, *stream: str) -> int:
    """Instructions the client ran: ``module``'s ``ours`` or ``raw_floor`` (``impl``), with
    ``"stream"`` or ``"whole"`` when they take it."""
    code = DRIVER.format(root=str(HERE.parent), module=module)
    return cachegrind(code, impl, url, str(messages), *stream)


def instructions_per_message(
    module: str, url: str, messages: int, rounds: int, *stream: str
) -> list[dict[str, float]]:
    """Instructions per message of the floor (``raw``) and of ours, one pair per round: the
    difference of runs of n and 2n messages, so start-up and the page cancel out. A count
    does not move with the machine's load as CPU time does, but it is not exact either: how
    the site's replies fall into reads and turns of the event loop changes a little from run
    to run (a few per cent), hence rounds and medians."""
    per_round = []
    for _ in range(rounds):
        per = {}
        for impl in ("raw", "ours"):
            small = _instructions(module, impl, url, messages, *stream)
            large = _instructions(module, impl, url, 2 * messages, *stream)
            per[impl] = (large - small) / messages
        per_round.append(per)
    return per_round


def instruction_line(name: str, per_round: list[dict[str, float]]) -> str:
    """The medians of ``instructions_per_message``'s rounds, their ratio, each round's ratio."""
    raw, ours = (median([per[impl] for per in per_round]) for impl in ("raw", "ours"))
    ratios = ", ".join(f"{r:.3f}" for r in sorted(per["ours"] / per["raw"] for per in per_round))
    ratio = ours / raw
    return f"raw aiohttp {raw:,.0f}, {name} {ours:,.0f}, ratio {ratio:.3f}x (per round: {ratios})"


def engine_instructions(messages: int, rounds: int) -> dict[str, float]:
    """Instructions per message (``instructions_per_message``), medians of ``rounds``; the
    floor's medians are returned by way (``whole``, ``stream``)."""
    print(
        f"5b. AI Engine: instructions per message under cachegrind ({messages} messages a way, "
        f"medians of {rounds} rounds)"
    )
    floors = {}
    with server_process(engine_site()) as url:
        for stream in (False, True):
            way = "stream" if stream else "whole"
            per_round = instructions_per_message("bench._aiengine", url, messages, rounds, way)
            how = "streamed" if stream else "whole   "
            print(f"   {how}: {instruction_line('AIEngine', per_round)}")
            floors[way] = median([per["raw"] for per in per_round])
    return floors
