"""Parsers of site-controlled text at the size caps: the review's adversarial shapes.

Run: .venv/bin/python bench/bench_parsers.py
Prints seconds per parse at the caps (8 MB pages, 1 MB lines; goal: well under 1 s each),
the n → 2n growth of each (linear ≈ 2×, the old quadratic patterns gave 4×), and the longest
event-loop stall while a provider reads an 8 MB hostile page from a local server (goal:
under 50 ms: the page is parsed in a worker thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import web

from chatbridge import AIPower, ChatbridgeError, LineDecoder, close_pool
from chatbridge._aipower._page import parse_page
from chatbridge._aipower._replies import LegacyStream, interpret_legacy_json
from chatbridge._http._decoders import ServerSentEvent

PAGE_CAP = 8 * 1024 * 1024
LINE_CAP = 1024 * 1024


def _best(run: Callable[[], object], rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def _page(unit: str, size: int) -> Callable[[], object]:
    page = unit * (size // len(unit))
    return lambda: parse_page(page, "http://site.test/")


def _content_tail(size: int) -> Callable[[], object]:
    unit = '"content":"'
    event = ServerSentEvent(data=unit * (size // len(unit)), event="message")
    return lambda: LegacyStream().feed(event)


def _trickle(size: int) -> Callable[[], object]:
    chunks = [b"x" * 64] * (size // 64)

    def run() -> None:
        decoder = LineDecoder(max_line_bytes=2 * size)
        for chunk in chunks:
            decoder.feed(chunk)
        decoder.flush()

    return run


def _legacy_json(size: int) -> Callable[[], object]:
    body = '{"status":"success","data":' + "[" * (size - 30)

    def run() -> None:
        with contextlib.suppress(ChatbridgeError):
            interpret_legacy_json(body)

    return run


CASES: list[tuple[str, Callable[[int], Callable[[], object]], int]] = [
    ("page '<div' * n", lambda size: _page("<div", size), PAGE_CAP),
    ("page '<div \"' * n", lambda size: _page('<div "', size), PAGE_CAP),
    ("page 'wpaicgParams = {' * n", lambda size: _page("wpaicgParams = {", size), PAGE_CAP),
    ('event line \'"content":"\' * n', _content_tail, LINE_CAP),
    ("1 MB line in 64-byte chunks", _trickle, LINE_CAP),
    ("legacy JSON, '[' nested", _legacy_json, LINE_CAP),
]


async def _loop_stall() -> tuple[float, str]:
    """Longest gap of a 1 ms ticker while AIPower reads an 8 MB hostile page."""
    page = '<html><body><div "' * (PAGE_CAP // 18)

    async def serve(request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    app = web.Application()
    app.router.add_get("/{tail:.*}", serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    worst = 0.0
    done = False

    async def tick() -> None:
        nonlocal worst
        last = time.perf_counter()
        while not done:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            worst = max(worst, now - last)
            last = now

    ticker = asyncio.create_task(tick())
    try:
        await AIPower.create_async(
            "", [{"role": "user", "content": "hi"}], site_url=f"http://127.0.0.1:{port}"
        )
        outcome = "answered?!"
    except ChatbridgeError as error:
        outcome = type(error).__name__
    finally:
        done = True
        await ticker
        await close_pool()
        await runner.cleanup()
    return worst, outcome


def main() -> None:
    print("seconds per parse at the cap (best of 3), and growth n -> 2n:")
    for name, make, cap in CASES:
        at_cap = _best(make(cap))
        half = _best(make(cap // 2))
        print(f"  {name:34s} {cap / 1e6:4.1f} MB: {at_cap:7.3f} s   growth x{at_cap / half:.2f}")
    worst, outcome = asyncio.run(_loop_stall())
    print(
        f"longest event-loop stall while reading an 8 MB hostile page: {worst * 1000:.1f} ms "
        f"(goal < 50 ms; the call ended with {outcome})"
    )


if __name__ == "__main__":
    main()
