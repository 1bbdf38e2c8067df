"""Where answers come from: the built-in local responder or an OpenAI-compatible upstream.

The local responder is deterministic and labelled as local; its answer shows what the server
understood, so tests can prove that a client's message and history arrived::

    [local AI Power site] Echo: <message> | history turns: 3 (user 2, assistant 1)
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp

from ._config import SiteConfig
from ._history import Turn, count_roles

LOCAL_LABEL = "[local AI Power site]"
_WORDS = re.compile(r"\s*\S+")


def local_answer(message: str, history: list[Turn]) -> str:
    """The local responder's reply."""
    users, assistants = count_roles(history)
    return (
        f"{LOCAL_LABEL} Echo: {message} | history turns: {len(history)} "
        f"(user {users}, assistant {assistants})"
    )


def split_words(text: str) -> list[str]:
    """Stream pieces: one word each, later words keep their leading whitespace."""
    pieces = _WORDS.findall(text)
    rest = text[sum(len(p) for p in pieces) :]
    if rest:
        pieces.append(rest)
    return pieces


def estimate_tokens(*texts: str) -> int:
    """Usage the plugin would add after a success (about four characters a token)."""
    return sum(len(t) for t in texts) // 4 + 1


class UpstreamError(Exception):
    """The upstream answered with an API error (``json``) or failed in transport (``exception``)."""

    def __init__(self, message: str, *, code: str = "", exception: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.exception = exception


def raise_configured_failure(cfg: SiteConfig) -> None:
    """The ``upstream_error`` option: fail as the configured upstream would."""
    if cfg.upstream_error is not None:
        raise UpstreamError(
            cfg.upstream_error,
            code="insufficient_quota",
            exception=cfg.upstream_error_mode == "exception",
        )


@dataclass(frozen=True, slots=True)
class Upstream:
    """An OpenAI-compatible ``/chat/completions`` endpoint the site forwards to."""

    url: str
    model: str
    api_key: str | None

    @staticmethod
    def endpoint(base: str) -> str:
        base = base.rstrip("/")
        if base.endswith("/chat/completions"):
            return base
        if base.endswith("/v1"):
            return base + "/chat/completions"
        return base + "/v1/chat/completions"

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    @staticmethod
    def messages(greeting: str, history: list[Turn], message: str) -> list[dict[str, str]]:
        """Greeting as a user message, the history, then the bare current message."""
        out = [{"role": "user", "content": greeting}]
        out.extend({"role": role, "content": text} for role, text in history)
        out.append({"role": "user", "content": message})
        return out

    async def complete(self, session: aiohttp.ClientSession, messages: list[dict[str, str]]) -> str:
        """Non-streaming completion; raises :class:`UpstreamError`."""
        body = {"model": self.model, "messages": messages}
        try:
            async with session.post(
                self.endpoint(self.url), json=body, headers=self._headers()
            ) as resp:
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise UpstreamError(f"cURL error 7: {exc}", exception=True) from exc
        _raise_api_error(data)
        try:
            return str(data["choices"][0]["message"]["content"] or "")
        except (KeyError, IndexError, TypeError) as exc:
            raise UpstreamError("Unexpected upstream reply", exception=True) from exc

    async def stream_lines(
        self, session: aiohttp.ClientSession, messages: list[dict[str, str]]
    ) -> AsyncIterator[bytes]:
        """Yield the upstream's ``data:`` lines (without newline) as they arrive."""
        body = {"model": self.model, "messages": messages, "stream": True}
        try:
            async with session.post(
                self.endpoint(self.url), json=body, headers=self._headers()
            ) as resp:
                if resp.status >= 400:
                    data = await resp.json(content_type=None)
                    _raise_api_error(data)
                    raise UpstreamError(f"HTTP {resp.status}")
                async for raw in resp.content:
                    line = raw.rstrip(b"\r\n")
                    if line.startswith(b"data:"):
                        yield line
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise UpstreamError(f"cURL error 7: {exc}", exception=True) from exc


#: What the plugin says for an empty upstream message with code ``invalid_api_key`` (4.7).
INVALID_API_KEY = (
    "Incorrect API key provided. You can find your API key at "
    "https://platform.openai.com/account/api-keys."
)


def _raise_api_error(data: object) -> None:
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        error = data["error"]
        code = str(error.get("code") or error.get("type") or "")
        message = str(error.get("message") or "")
        if not message:
            message = INVALID_API_KEY if code == "invalid_api_key" else "Unknown error"
        raise UpstreamError(message, code=code)


def delta_text(line: bytes) -> str:
    """Content of an OpenAI chunk line (``data: {...}``), or ``""``."""
    payload = line[5:].strip()
    if not payload.startswith(b"{"):
        return ""
    try:
        data = json.loads(payload)
        return str(data["choices"][0]["delta"].get("content") or "")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return ""
