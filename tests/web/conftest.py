"""The chat page under test: a real ``chatbridge serve`` process and Debian's Chromium driven
by Playwright (never a browser that Playwright downloads)."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.server.conftest import CLI, ENV, Served
from tests.server.conftest import serve_app as serve_app  # the in-process server fixture

#: Debian's package; another build can be named with CHATBRIDGE_CHROMIUM.
CHROMIUM = os.environ.get("CHATBRIDGE_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: The last answer of the conversation shown.
LAST = "article.message.assistant >> nth=-1"
_RESOURCE = re.compile(
    r"^Failed to load resource: (?:the server responded with a status of )?(\S+)"
)


@dataclass
class Watch:
    """What a page did that it should not: console errors, uncaught exceptions, dialogs
    (``alert`` from injected markup would open one), requests to another origin."""

    origin: str
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("console", lambda m: self.console.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("dialog", self._dialog)
        page.on("request", self._request)

    async def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        await dialog.dismiss()

    def _request(self, request: Any) -> None:
        self.requests.append(request.url)
        if not (request.url.startswith(self.origin + "/") or request.url.startswith("data:")):
            self.foreign.append(request.url)

    def assert_clean(self, *provoked: int | str) -> None:
        """No dialog, no uncaught error, no foreign request, and no console error except
        Chromium's "Failed to load resource" line for an HTTP status (``502``) or network
        error (``"net::ERR_CONNECTION_REFUSED"``) the test provoked."""
        allowed = {str(item) for item in provoked}
        unexpected = [
            line
            for line in self.console
            if not ((m := _RESOURCE.match(line)) and m.group(1) in allowed)
        ]
        assert unexpected == [], unexpected
        assert self.errors == [], self.errors
        assert self.dialogs == [], self.dialogs
        assert self.foreign == [], self.foreign
        assert self.requests, "the page made no request at all"


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Any]:
    """A fresh Chromium (its own profile folder under ``tmp_path``)."""
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 (one stat before any I/O)
        pytest.fail(
            f"Chromium is not at {CHROMIUM}: the browser tests need Debian's chromium "
            "(apt-get install chromium) or CHATBRIDGE_CHROMIUM naming another build"
        )
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=FLAGS, headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    """``await serve(*options, config=TOML)``: ``chatbridge serve --port 0`` as a process."""
    processes: list[subprocess.Popen[str]] = []

    def start(*options: str, config: str | None = None) -> Served:
        args = [*CLI, "serve", "--port", "0", *options]
        if config is not None:
            path = tmp_path / f"serve{len(processes)}.toml"
            path.write_text(config)
            args += ["--config", str(path)]
        log = tmp_path / f"serve{len(processes)}.log"
        with log.open("w") as stderr:  # the access log; read back when start-up fails
            process = subprocess.Popen(
                args, stdout=subprocess.PIPE, stderr=stderr, text=True, env=ENV
            )
        processes.append(process)
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("Serving on http://127.0.0.1:"), (first, log.read_text())
        lines = [process.stdout.readline() for _ in range(3)]
        assert lines[2].startswith("Chat page: http://127.0.0.1:"), lines
        return Served(first.split()[-1], process, lines)

    async def spawn(*options: str, config: str | None = None) -> Served:
        return await asyncio.to_thread(start, *options, config=config)

    yield spawn
    for process in processes:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


def fake_route(base_url: str, name: str = "fake") -> str:
    return f"""
[[routes.{name}.targets]]
provider = "OpenAICompatible"
base_url = "{base_url}"
model = "fake-model"
name = "up0"
"""


# --- driving the page ------------------------------------------------------------------


async def open_page(
    browser: Any, url: str, *, width: int = 1000, height: int = 700, dark: bool = False
) -> tuple[Any, Any, Watch]:
    context = await browser.new_context(
        viewport={"width": width, "height": height},
        color_scheme="dark" if dark else "light",
        reduced_motion="reduce",  # the phone drawer opens without a transition
    )
    page, watch = await open_tab(context, url)
    return context, page, watch


async def open_tab(context: Any, url: str) -> tuple[Any, Watch]:
    """The page in another tab of ``context`` (the same browser profile), once it is ready."""
    page = await context.new_page()
    watch = Watch(url)
    watch.attach(page)
    await page.goto(url + "/")
    await expect(page.locator("body")).to_have_attribute("data-ready", "true")
    return page, watch


async def ask(page: Any, text: str) -> None:
    box = page.locator("#input")
    lines = text.split("\n")
    await box.click()
    for i, line in enumerate(lines):
        await box.type(line) if len(line) < 40 else await box.fill(await box.input_value() + line)
        if i < len(lines) - 1:
            await box.press("Shift+Enter")
    await box.press("Enter")


async def answered(page: Any, state: str = "done") -> Any:
    last = page.locator(LAST)
    await expect(last).to_have_attribute("data-state", state, timeout=15_000)
    return last


async def shown(message: Any) -> str:
    """An answer's text as shown: rendered, then any tail not rendered yet (as text)."""
    text: str = await message.evaluate(
        "e => e.querySelector('.md').textContent + e.querySelector('.raw').textContent"
    )
    return text


async def until_words(message: Any, count: int) -> None:
    """Wait (at most 10 s) until ``message`` shows ``count`` words."""
    for _ in range(200):
        if len((await shown(message)).split()) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {count} words shown within 10 s")
