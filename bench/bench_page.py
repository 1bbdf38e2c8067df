"""The chat page's costs: rendering answer text (markdown-it-py, code highlighted with
Pygments), POST /ui/render through a real ``chatbridge serve`` process, and what a first
visit downloads.

    .venv/bin/python bench/bench_page.py

Goals: rendering grows linearly with the text (doubling ratio ~2, not ~4); what highlighting
adds, as a ratio to the same rendering without it (measured in the same run, interleaved);
code on which a Pygments lexer is quadratic costs no more than the highlighting budget; a
4 KB answer's render round trip well under the page's 250 ms re-render interval; the first
visit under 100 KB in a handful of requests.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import subprocess
import sys
import time
from collections.abc import Callable
from statistics import median

import aiohttp

from chatbridge import _constants as defaults
from chatbridge.web import render_markdown

PARAGRAPH = (
    "Here is **some** text with `code`, a [link](https://example.org) and a list:\n\n"
    "- one\n- two\n\n```python\nprint('hello')\n```\n\n"
)


def text_of(chars: int) -> str:
    return (PARAGRAPH * (chars // len(PARAGRAPH) + 1))[:chars]


def _plain(text: str) -> str:
    """The same rendering without highlighting: a clock a second ahead at every look spends
    the budget on the first code block's first token."""
    return render_markdown(text, clock=itertools.count().__next__)


def _took(render: Callable[[str], str], text: str) -> float:
    """CPU seconds (a shared machine's load does not count; the budget itself is wall time)."""
    start = time.process_time()
    render(text)
    return time.process_time() - start


def render_times() -> None:
    print("render_markdown, CPU ms, median of 7, highlighted and plain interleaved:")
    render_markdown(text_of(4_000))  # the lexer is imported on first use
    previous = None
    for chars in (4_000, 8_000, 16_000, 32_000, 64_000, 128_000):
        text = text_of(chars)
        pairs = [(_took(render_markdown, text), _took(_plain, text)) for _ in range(7)]
        took = median(lit for lit, _ in pairs)
        extra = median(lit / plain for lit, plain in pairs)
        ratio = f"  x{took / previous:.2f} for double the text" if previous else ""
        print(f"  {chars:>7,} chars: {took * 1000:8.2f} ms, x{extra:.2f} plain's{ratio}")
        previous = took


#: Code on which a Pygments lexer takes time growing with the square of its length.
QUADRATIC = {
    "html, an unterminated <!--": "```html\n" + "<!--\n" * 12_800 + "```\n",
    "java, lines of x": "```java\n" + ("x" * 79 + "\n") * 800 + "```\n",
}


def budget_times() -> None:
    budget = defaults.UI_HIGHLIGHT_SECONDS * 1000
    print(f"64 KB of code a lexer is quadratic on, CPU ms, median of 5 (budget {budget:.0f} ms):")
    for name, text in QUADRATIC.items():
        pairs = [(_took(render_markdown, text), _took(_plain, text)) for _ in range(5)]
        took = median(lit for lit, _ in pairs)
        plain = median(plain for _, plain in pairs)
        print(f"  {name:<28} {took * 1000:8.2f} ms ({plain * 1000:.2f} ms plain)")


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
    budget_times()
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
