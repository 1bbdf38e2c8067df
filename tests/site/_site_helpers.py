"""Helpers shared by the local-site tests (plain aiohttp over real loopback HTTP)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import aiohttp

from chatbridge.site import SiteConfig

AJAX = "/wp-admin/admin-ajax.php"
SHORTCODE = "wpaicg_chat_shortcode_message"
_CONTAINER = re.compile(r'<div class="(wpaicg-chat-shortcode|wpaicg-chatbox)"(.*?)\n>', re.S)
_ATTR = re.compile(r'([\w-]+)\s*=\s*"([^"]*)"')


def config(**kwargs: Any) -> SiteConfig:
    """A test config: huge ticks so a real tick boundary never falls inside a test."""
    kwargs.setdefault("tick_seconds", 1e9)
    return SiteConfig(**kwargs)


@dataclass
class Reply:
    status: int
    content_type: str
    text: str
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.text)


async def fetch(http: aiohttp.ClientSession, method: str, url: str, **kw: Any) -> Reply:
    async with http.request(method, url, **kw) as resp:
        body = await resp.read()
        return Reply(resp.status, resp.headers.get("Content-Type", ""),
                     body.decode("utf-8", "replace"), dict(resp.headers))


def container(html: str) -> tuple[str, dict[str, str], str]:
    """(class, attributes, raw tag) of the legacy chat container."""
    match = _CONTAINER.search(html)
    assert match is not None, "no legacy chat container"
    return match.group(1), dict(_ATTR.findall(match.group(2))), match.group(0)


async def legacy_nonce(http: aiohttp.ClientSession, url: str, path: str = "/") -> str:
    page = await fetch(http, "GET", url + path)
    return container(page.text)[1]["data-nonce"]


async def chat(http: aiohttp.ClientSession, base: str, nonce: str, message: str = "hello",
               **fields: str) -> Reply:
    data = {"_wpnonce": nonce, "action": SHORTCODE, "message": message, "bot_id": "0",
            "post_id": "7", "url": base, "chatbot_identity": "shortcode",
            "wpaicg_chat_client_id": "AbCdEf1234"}
    data.update(fields)
    return await fetch(http, "POST", base + AJAX, data=data)


def sse_events(text: str) -> list[tuple[str | None, str]]:
    """(event name, data) per SSE event; comments skipped."""
    events: list[tuple[str | None, str]] = []
    name: str | None = None
    data: list[str] = []
    for line in text.split("\n"):
        if line == "":
            if data:
                events.append((name, "\n".join(data)))
            name, data = None, []
        elif line.startswith(":"):
            continue
        elif line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
    if data:
        events.append((name, "\n".join(data)))
    return events


def stream_text(text: str) -> str:
    """Concatenated OpenAI delta contents of a legacy success stream."""
    out = []
    for name, data in sse_events(text):
        if name is None and data.startswith("{"):
            obj = json.loads(data)
            if "choices" in obj:
                out.append(obj["choices"][0]["delta"].get("content") or "")
    return "".join(out)


def echo(message: str, users: int = 0, assistants: int = 0) -> str:
    return (f"[local AI Power site] Echo: {message} | history turns: {users + assistants} "
            f"(user {users}, assistant {assistants})")
