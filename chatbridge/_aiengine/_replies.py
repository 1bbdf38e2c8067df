"""Interpreting AI Engine replies: REST refusals, the JSON reply, and the event stream. Pure.

docs/protocol-ai-engine.md, "Replies", "Usage" and "Failures a client meets". Every failure
becomes a typed error. Two signal classes tell the client what it may safely do again: a
refused nonce (401 ``rest_forbidden``, 403 ``rest_cookie_invalid_nonce``) and a missing route
(404 ``rest_no_route``) both come before the plugin runs the model, so one refresh and one
retry cost nothing. Anything after that (an error frame, a stream that stops) is never a
signal: the model may have run.

The stream: ``live`` frames whose ``subtype`` is absent or ``content`` are the answer; every
other subtype (thinking, status, tool calls, debug…) is the plugin talking about its work and
never reaches the caller. The ``end`` frame's ``data`` is the JSON reply encoded again; its
``reply`` is what the site stands behind. A stream that closes without ``end`` (or an
``error`` frame) was cut.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from .._exceptions import (
    CUT_OFF,
    ChatbridgeError,
    ContentFilterError,
    EmptyResponseError,
    NonceError,
    PluginError,
    RateLimitError,
    ResponseError,
    ResponseStatusError,
    TruncatedStreamError,
    UpstreamError,
)
from .._http._decoders import ServerSentEvent, SSEDecoder
from .._http._status import classify_status
from .._json import json_object, loads, unreadable_reply
from .._types import Usage

__all__ = [
    "Final",
    "FrameStream",
    "NonceRefused",
    "RouteGone",
    "final_reply",
    "refusal",
    "rest_error",
    "usage_of",
    "whole_reply",
]


class NonceRefused(NonceError):
    """Signal: the REST nonce was refused before the plugin ran; refresh it and retry once."""


class RouteGone(ResponseStatusError):
    """Signal: HTTP 404 ``rest_no_route``: the plugin's chat route is not there (the plugin
    was deactivated, or changed): find the chat on the page again, once."""


_NONCE_CODES = frozenset({"rest_forbidden", "rest_cookie_invalid_nonce"})
#: The Security module's refusal, for a banned word and for a banned IP alike (the plugin
#: sends the same text for both, so the two cannot be told apart).
_SECURITY = "your query has been rejected."
_MODERATION = "rejected by moderation"
_LIMITS = ("reached the limit", "went to sleep", "limit reached", "usage limit")
_UPSTREAM = (
    "error:",
    "from openai",
    "from google",
    "from anthropic",
    "from replicate",
    "api key",
    "quota",
    "model",
    "connection failed",
    "curl error",
    "rate limit",
    "overloaded",
    "api returned",
)
_FRAME_LINE = re.compile(r"^data:", re.MULTILINE)
#: ``accuracy`` values that mean the counts came from the model's API, not an estimate.
_REAL_USAGE = frozenset({"tokens", "full"})


def refusal(message: object, **context: Any) -> ChatbridgeError:
    """The typed error for a message the plugin refused with (an error frame, or a JSON
    ``{"success": false, "message": …}``)."""
    text = html.unescape(str(message or "")).strip()
    text = text or "The site reported an error without a message"
    lowered = text.lower()
    if lowered == _SECURITY:
        return ContentFilterError(
            f"The site refused the message: {text} (the plugin's Security module: a banned "
            "word, or a banned IP address; it says the same for both)",
            code="content_filter",
            **context,
        )
    if _MODERATION in lowered:
        return ContentFilterError(text, code="content_filter", **context)
    if any(marker in lowered for marker in _LIMITS):
        return RateLimitError(text, **context)
    if any(marker in lowered for marker in _UPSTREAM):
        return UpstreamError(text, **context)
    return PluginError(text, **context)


def rest_error(
    status: int, headers: Any, body: str, *, url: str | None = None
) -> ChatbridgeError | None:
    """The typed error for a failed REST reply (``None`` below 400): a signal for a refused
    nonce or a missing route, a refusal for the plugin's own ``{"success": false}``, else the
    status mapping every site shares (challenges, firewalls, 429, 5xx pages)."""
    if status < 400:
        return None
    context: dict[str, Any] = {"url": url, "status": status, "body": body}
    try:
        data = json_object(body) if body.lstrip().startswith("{") else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        code = data.get("code")
        if code in _NONCE_CODES:
            return NonceRefused(f"The site refused its REST nonce ({code})", **context)
        if code == "rest_no_route":
            return RouteGone("The site has no AI Engine chat route (rest_no_route)", **context)
        if data.get("success") is False and "message" in data:
            return refusal(data.get("message"), **context)
    return classify_status(status, headers, body, url=url)


def usage_of(data: object) -> Usage | None:
    """Token counts, only when the plugin says they are real (``accuracy`` ``tokens`` or
    ``full``): an estimate is never reported."""
    if not isinstance(data, dict) or data.get("accuracy") not in _REAL_USAGE:
        return None
    prompt, completion = data.get("prompt_tokens"), data.get("completion_tokens")
    total = data.get("total_tokens")
    if not (type(prompt) is int and type(completion) is int and type(total) is int):
        return None
    if prompt < 0 or completion < 0 or total < 0:
        return None
    return Usage(prompt, completion, total)


@dataclass(slots=True)
class Final:
    """The reply the site stands behind (the ``end`` frame's, or the whole JSON reply)."""

    reply: str
    usage: Usage | None = None
    #: A fresh REST nonce the site handed over (the old one is in its second half-life).
    new_token: str | None = None


def _token(value: object) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= 64 else None


def final_reply(data: object, **context: Any) -> Final:
    """The reply object (``success``, ``reply``, ``usage``, ``new_token``), or its error."""
    if not isinstance(data, dict):
        raise ResponseError("The site's reply is not a JSON object", **context)
    if data.get("success") is not True:
        if "message" in data:
            raise refusal(data.get("message"), **context)
        raise ResponseError("The site's reply says neither success nor why", **context)
    reply = data.get("reply")
    if not isinstance(reply, str):
        raise ResponseError("'reply' field missing from the site's reply", **context)
    return Final(reply, usage_of(data.get("usage")), _token(data.get("new_token")))


class FrameStream:
    """The stream's state machine. Feed events; read ``done``, ``text`` and ``final``.

    ``feed`` returns answer text to pass on (``""`` for none) and raises the typed error of an
    ``error`` frame. After the last event, ``finish()`` checks the end.
    """

    def __init__(self, **context: Any) -> None:
        self.context = context
        self.parts: list[str] = []
        self.done = False
        self.final: Final | None = None

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def feed(self, event: ServerSentEvent) -> str:
        if self.done:
            return ""
        try:
            frame = loads(event.data)
        except ValueError:
            return ""  # not a frame of the plugin's (a proxy's keep-alive, say)
        if not isinstance(frame, dict):
            return ""
        kind = frame.get("type")
        if kind == "live":
            data = frame.get("data")
            if isinstance(data, str) and frame.get("subtype") in (None, "content"):
                self.parts.append(data)
                return data
            return ""
        if kind == "error":
            self.done = True
            raise refusal(frame.get("data"), **self.context)
        if kind == "end":
            self.done = True
            self.final = final_reply(self._end_data(frame.get("data")), **self.context)
        return ""

    def _end_data(self, data: object) -> object:
        """The ``end`` frame's data: JSON encoded again (a string), or already an object."""
        if isinstance(data, str):
            try:
                return loads(data)
            except ValueError:
                raise ResponseError(
                    "The site's end frame does not hold a JSON reply", body=data, **self.context
                ) from None
        return data

    def finish(self) -> Final:
        """The site's final reply; raises when the stream was cut or held no answer."""
        if self.final is None:
            raise TruncatedStreamError(
                f"{CUT_OFF}: the stream ended before its end frame (a proxy, or the site's "
                "PHP worker died)",
                partial=self.text,
                **self.context,
            )
        if not self.final.reply.strip() and not self.text.strip():
            raise EmptyResponseError("The site answered with an empty text", **self.context)
        return self.final


def _frames_in(body: str, **context: Any) -> Final | None:
    """A reply labelled JSON whose body is event frames (the plugin's refusals are sent that
    way while streaming), read whole; ``None`` when it holds no frame."""
    match = _FRAME_LINE.search(body)
    if match is None or (0 <= body.find("{") < match.start()):
        return None
    start = match.start()
    parser = FrameStream(**context)
    decoder = SSEDecoder()
    for event in [*decoder.feed(body[start:].encode()), *decoder.flush()]:
        parser.feed(event)
        if parser.done:
            break
    return parser.finish()


def whole_reply(body: str, **context: Any) -> Final:
    """The reply of a request sent with ``"stream": false`` (or a stream the site answered
    whole): a JSON object, frames in a JSON-labelled body, or the typed error."""
    if body[:1] == "{":  # the usual reply: one JSON object, nothing before it
        try:
            data = loads(body)
        except ValueError:
            data = None  # cut off, or followed by a notice: read it the careful way below
        if isinstance(data, dict):
            return _checked(final_reply(data, **context), context)
    framed = _frames_in(body, **context)
    if framed is not None:
        return framed
    try:
        data = json_object(body)
    except ValueError as exc:
        raise unreadable_reply(body, "The site's reply", **context) from exc
    return _checked(final_reply(data, **context), context)


def _checked(final: Final, context: dict[str, Any]) -> Final:
    if not final.reply.strip():
        raise EmptyResponseError("The site answered with an empty text", **context)
    return final
