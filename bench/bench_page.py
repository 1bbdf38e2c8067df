"""The chat page's costs: rendering answer text (markdown-it-py), POST /ui/render through a
real ``chatbridge serve`` process, and what a first visit downloads.

    .venv/bin/python bench/bench_page.py

Goals: rendering grows linearly with the text (doubling ratio ~2, not ~4); a 4 KB answer's
render round trip well under the page's 250 ms re-render interval; the first visit under
100 KB in a handful of requests.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from statistics import median

import aiohttp

from chatbridge.web import render_markdown

PARAGRAPH = (
    "Here is **some** text with `code`, a [link](https://example.org) and a list:\n\n"
    "- one\n- two\n\n```python\nprint('hello')\n```\n\n"
)


def text_of(chars: int) -> str:
    return (PARAGRAPH * (chars // len(PARAGRAPH) + 1))[:chars]


def render_times() -> None:
    print("render_markdown, median of 7 (in process):")
    previous = None
    for chars in (4_000, 8_000, 16_000, 32_000, 64_000, 128_000):
        text = text_of(chars)
        times = []
        for _ in range(7):
            start = time.perf_counter()
            render_markdown(text)
            times.append(time.perf_counter() - start)
        took = median(times)
        ratio = f"  x{took / previous:.2f} for double the text" if previous else ""
        print(f"  {chars:>7,} chars: {took * 1000:8.2f} ms{ratio}")
        previous = took


async def over_http(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for chars in (400, 4_000, 40_000):
            body = {"text": text_of(chars)}
            times = []
            for _ in range(30):
                start = time.perf_counter()
                async with session.post(url + "/ui/render", json=body) as response:
                    await response.read()
                    assert response.status == 200
                times.append(time.perf_counter() - start)
            print(f"  POST /ui/render {chars:>6,} chars: p50 {median(times) * 1000:6.2f} ms")
        async with session.get(url + "/") as page:
            html = await page.text()
        paths = ["/", *re.findall(r'(?:src|href)="(/ui/static/[^"]+)"', html)]
        total = len(html.encode())
        for path in paths[1:]:
            async with session.get(url + path) as response:
                body_bytes = await response.read()
                total += len(body_bytes)
                if path.startswith("/ui/static/app.js"):
                    modules = re.findall(r'from "\./([a-z]+\.js)"', body_bytes.decode())
                    paths += [f"/ui/static/{name}" for name in modules]
                    for name in modules:
                        async with session.get(f"{url}/ui/static/{name}") as module:
                            total += len(await module.read())
        print(f"  first visit: {len(paths)} requests, {total / 1024:.1f} KB (uncompressed)")


def main() -> None:
    render_times()
    process = subprocess.Popen(
        [sys.executable, "-m", "chatbridge", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split()[-1]
        print(f"chatbridge serve at {url} (its own process):")
        asyncio.run(over_http(url))
    finally:
        process.terminate()
        process.wait(10)


if __name__ == "__main__":
    main()
