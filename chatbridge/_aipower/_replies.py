"""Interpreting AI Power replies: legacy JSON, legacy SSE and AIPKit SSE. Pure.

docs/protocol-ai-power.md, "Legacy replies" and "The AIPKit stream" (below, ``protocol:``
names its sections). Every failure becomes a typed error; the
three signal classes below tell the client what it may safely do again (refresh the nonce,
re-discover the site, redo the cache step): each is a refusal the site gives *before* it runs
the model. A reply that is cut off, empty or not JSON is never a signal: the site may already
have run (and charged for) the model, so it is a public error (``TruncatedStreamError`` says
"cut off", whichever step was cut).
"""

from __future__ import annotations

import html
import re
from typing import Any

from .._exceptions import (
    CUT_OFF,
    BlockedError,
    ChatbridgeError,
    EmptyResponseError,
    NonceError,
    PluginError,
    RateLimitError,
    ResponseError,
    ResponseStatusError,
    TruncatedStreamError,
    UpstreamError,
)
from .._http._decoders import ServerSentEvent
from .._json import cut_off_json, json_object, loads, unreadable_reply

__all__ = [
    "AIPKitStream",
    "ActionNotRegistered",
    "CacheKeyExpired",
    "LegacyStream",
    "NonceRejected",
    "cut_off_json",
    "interpret_legacy_json",
    "is_nonce_failure_text",
    "json_object",
    "plugin_error",
    "sse_body_start",
    "unreadable_reply",
]


class NonceRejected(NonceError):
    """Signal: the nonce was refused; refresh it and retry once."""


class ActionNotRegistered(ResponseStatusError):
    """Signal: HTTP 400 ``0``: the plugin is gone or was upgraded to AIPKit."""


class CacheKeyExpired(ResponseError):
    """Signal: AIPKit's one-shot cache key expired or was used; redo the cache step."""




_NONCE_TEXTS = ("link you followed has expired", "are you sure you want to do this")
_UPSTREAM_MARKERS = (
    "quota",
    "api key",
    "incorrect api",
    "does not exist",
    "model",
    "curl error",
    "rate limit",
    "overloaded",
    "unable to initialize the ai instance",
    "missing api setting",
    "api error",
    "billing",
)
_FLAGS = ("tokenLimitReached", "ipBanned", "messageFlagged", "pineconeError", "modflag")
_CONTROL_KEYS = frozenset((*_FLAGS, "error", "status"))
_FLAG_ERRORS: dict[str, type[ChatbridgeError]] = {
    "tokenLimitReached": RateLimitError,
    "ipBanned": BlockedError,
}
# Both halves of the word-split error's ``"content":"<word>"}`` are searched once each (the
# old single pattern retried its lazy tail from every ``"content"``: quadratic in the line).
_CONTENT_HEAD = re.compile(r'"content"\s*:\s*"')
_CONTENT_END = re.compile(r'"\s*\}')


def _content_tail(payload: str) -> str:
    """The word of a word-split error line whose quotes were not escaped (protocol:
    "Errors inside a legacy stream")."""
    head = _CONTENT_HEAD.search(payload)
    if head is None:
        return payload
    end = _CONTENT_END.search(payload, head.end())
    return payload[head.end() : end.start()] if end is not None else payload


def is_nonce_failure_text(body: str) -> bool:
    """True for the 403 text of ``check_admin_referer`` (1.8.91+): a short non-HTML body."""
    lowered = body.strip().lower()
    if lowered.startswith(("<!doctype", "<html")) or len(lowered) > 2000:
        return False
    return any(text in lowered for text in _NONCE_TEXTS)


def plugin_error(message: str, **context: Any) -> ChatbridgeError:
    """The typed error for a plugin ``msg`` (HTML-unescaped first: the plugin escapes it)."""
    text = html.unescape(message).strip() or "The site reported an error without a message"
    lowered = text.lower()
    if lowered == "nonce verification failed" or lowered.startswith("invalid nonce"):
        return NonceRejected(text, **context)
    if "token limit" in lowered:
        return RateLimitError(text, **context)
    if "not allowed to access this feature" in lowered:
        return BlockedError(text, **context)
    if any(marker in lowered for marker in _UPSTREAM_MARKERS):
        return UpstreamError(text, **context)
    return PluginError(text, **context)


_SSE_LINE = re.compile(r"^(data|event):", re.MULTILINE)


def sse_body_start(body: str) -> int | None:
    """Where an event stream starts in a body that was not labelled ``text/event-stream``
    (a PHP warning printed before the headers leaves ``text/html``), or ``None``."""
    match = _SSE_LINE.search(body)
    if match is None:
        return None
    brace = body.find("{")
    return match.start() if brace < 0 or match.start() < brace else None


def interpret_legacy_json(body: str, **context: Any) -> tuple[str, str | None]:
    """``(answer, thread_id)`` from a legacy JSON reply, or the typed error (protocol: "JSON
    replies")."""
    try:
        data = json_object(body)
    except ValueError as exc:
        raise unreadable_reply(body, "The site's reply", **context) from exc
    if not isinstance(data, dict):
        raise ResponseError("The site's JSON reply is not an object", body=body, **context)
    if data.get("tokenLimitReached"):
        raise RateLimitError(
            html.unescape(str(data.get("msg") or "Token limit reached")), body=body, **context
        )
    status = data.get("status")
    if status == "error":
        raise plugin_error(str(data.get("msg") or ""), body=body, **context)
    if status != "success":  # no status and no quota flag: an error of unknown kind
        if isinstance(data.get("msg"), str):
            raise PluginError(html.unescape(data["msg"]), body=body, **context)
        raise ResponseError(
            "'data' field missing from the site's reply (no status either)", body=body, **context
        )
    answer = data.get("data")
    if not isinstance(answer, str):
        raise ResponseError("'data' field missing from the site's reply", body=body, **context)
    if not answer.strip():
        raise EmptyResponseError("The site answered with an empty text", body=body, **context)
    thread = data.get("thread_id")
    return answer, thread if isinstance(thread, str) else None


def _first_choice(data: dict[str, Any]) -> dict[str, Any]:
    choices = data.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        return choices[0]
    return {}


class LegacyStream:
    """The legacy SSE state machine (protocol: "Legacy streams", "Errors inside a legacy
    stream", "Assistants streams"). Feed events; read ``done`` and ``text``.

    ``feed`` returns answer text to pass on (``""`` for none) and raises the typed error of a
    terminal error event. After the last event call ``finish()``.
    """

    def __init__(self, **context: Any) -> None:
        self.context = context
        self.parts: list[str] = []
        self.error_words: list[str] = []
        self.done = False
        self.thread_id: str | None = None

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def _fail(self, error: ChatbridgeError) -> ChatbridgeError:
        self.done = True
        return error

    def _error_text(self) -> str:
        return "".join(self.error_words).strip()

    def feed(self, event: ServerSentEvent) -> str:
        if self.done:
            return ""
        name, payload = event.event, event.data.strip()
        if name == "thread_id":
            self.thread_id = payload or None
            return ""
        if name == "assistant_error":
            raise self._fail(plugin_error(_msg_of(payload), **self.context))
        if name == "done":
            self.done = True
            return ""
        if payload == "[DONE]":
            self.done = True
            return ""
        if payload == "[LIMITED]":
            raise self._fail(plugin_error(self._error_text(), **self.context))
        try:
            data = loads(payload)
        except ValueError:
            if name == "message":  # word-split error text with unescaped quotes
                self.error_words.append(_content_tail(payload))
            return ""
        if not isinstance(data, dict):
            return ""
        if not _CONTROL_KEYS.isdisjoint(data):  # rare: flags and upstream error objects
            self._raise_for_control(data)
        if name == "thread.message.delta":
            return self._append(_assistant_delta(data))
        choice = _first_choice(data)
        delta = choice.get("delta")
        content = delta.get("content") if isinstance(delta, dict) else choice.get("text")
        if name == "message":
            if isinstance(content, str):
                self.error_words.append(content)
            if choice.get("finish_reason"):
                raise self._fail(plugin_error(self._error_text(), **self.context))
            return ""
        if choice.get("finish_reason") and "id" not in data and "object" not in data:
            if self.error_words:  # the word-splitter's terminator: a bare finish, no [DONE]
                raise self._fail(plugin_error(self._error_text(), **self.context))
            self.done = True
            return ""
        return self._append(content if isinstance(content, str) else "")

    def _raise_for_control(self, data: dict[str, Any]) -> None:
        for flag in _FLAGS:
            if data.get(flag):
                message = html.unescape(str(data.get("msg") or flag))
                error_type = _FLAG_ERRORS.get(flag, PluginError)
                raise self._fail(error_type(message, **self.context))
        if isinstance(data.get("error"), dict):
            message = str(data["error"].get("message") or "upstream error")
            raise self._fail(UpstreamError(html.unescape(message), **self.context))
        if data.get("status") == "error":
            raise self._fail(plugin_error(str(data.get("msg") or ""), **self.context))

    def _append(self, text: str) -> str:
        if text:
            self.parts.append(text)
        return text

    def finish(self) -> str:
        """Check the end of the stream; returns the whole answer or raises."""
        if self.error_words:
            raise plugin_error(self._error_text(), **self.context)
        if not self.done:
            raise TruncatedStreamError(
                f"{CUT_OFF}: the stream ended before [DONE] (a proxy or a PHP time limit)",
                partial=self.text,
                **self.context,
            )
        if not self.text.strip():
            raise EmptyResponseError("The site streamed no answer text", **self.context)
        return self.text


def _msg_of(payload: str) -> str:
    try:
        data = loads(payload)
    except ValueError:
        return payload
    if isinstance(data, dict):
        return str(data.get("msg") or data.get("error") or payload)
    return payload


def _assistant_delta(data: dict[str, Any]) -> str:
    delta = data.get("delta")
    if not isinstance(delta, dict):
        return ""
    content = delta.get("content")
    if isinstance(content, list) and content and isinstance(content[0], dict):
        text = content[0].get("text")
        if isinstance(text, dict) and isinstance(text.get("value"), str):
            return str(text["value"])
    return ""


_AIPKIT_CACHE_ERRORS = ("cached message has expired", "message not found in cache")


class AIPKitStream:
    """AIPKit's stream (protocol: "The AIPKit stream"): unnamed ``{"delta"}`` events, named
    control events."""

    def __init__(self, **context: Any) -> None:
        self.context = context
        self.parts: list[str] = []
        self.done = False
        self.message_id: str | None = None
        self.response_id: str | None = None

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def feed(self, event: ServerSentEvent) -> str:
        if self.done:
            return ""
        try:
            data = loads(event.data) if event.data.strip() else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        name = event.event
        if name == "":
            delta = data.get("delta")
            if isinstance(delta, str) and delta:
                self.parts.append(delta)
                return delta
            return ""
        if name == "message_start":
            self.message_id = str(data.get("message_id") or "") or None
        elif name == "openai_response_id":
            self.response_id = str(data.get("id") or "") or None
        elif name == "error":
            self.done = True
            raise self._error(str(data.get("error") or event.data or "unknown error"))
        elif name == "done":
            self.done = True
        return ""  # status, citations, warning…: not fatal, no text

    def _error(self, message: str) -> ChatbridgeError:
        text = html.unescape(message).strip()
        lowered = text.lower()
        if lowered.startswith("security check failed"):
            return NonceRejected(text, **self.context)
        if any(marker in lowered for marker in _AIPKIT_CACHE_ERRORS):
            return CacheKeyExpired(text, **self.context)
        if "not permitted" in lowered:
            return BlockedError(text, **self.context)
        return plugin_error(text, **self.context)

    def finish(self) -> str:
        if not self.done:
            raise TruncatedStreamError(
                f"{CUT_OFF}: the AIPKit stream ended before its done event",
                partial=self.text,
                **self.context,
            )
        if not self.text.strip():
            raise EmptyResponseError("The site streamed no answer text", **self.context)
        return self.text
