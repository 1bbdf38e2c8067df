"""Site tokens and conversations as a shared state store keeps them: encoded to JSON, and
decoded *defensively*: a value read back may come from another version, another program or
a person, so every field is checked for type and size, and anything wrong makes the whole
value absent (the caller then fetches or starts afresh), never an error."""

from __future__ import annotations

import hashlib
import json
from http.cookies import CookieError, SimpleCookie
from typing import Any

from yarl import URL

from .._state._fields import URL_TEXT, fetched_at, optional_text
from .._state._fields import text as _field
from ._conversation import Conversation
from ._page import PageTokens
from ._target import SiteTarget

__all__ = [
    "decode_conversation",
    "decode_tokens",
    "encode_conversation",
    "encode_tokens",
    "site_key",
]



def site_key(target: SiteTarget) -> str:
    """A short, stable name for a site (its URL, chat page and bot)."""
    text = json.dumps([target.url, target.chat_page, str(target.bot_id)])
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def encode_tokens(tokens: PageTokens, fetched_at: float) -> bytes:
    fields = {name: getattr(tokens, name) for name in PageTokens.__slots__}
    return json.dumps({"fetched_at": fetched_at, **fields}, separators=(",", ":")).encode()


def decode_tokens(raw: bytes | None) -> tuple[PageTokens, float] | None:
    """The tokens and their fetch time (wall clock), or ``None`` for anything not right."""
    if not raw or len(raw) > 16 * 1024:
        return None
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            return None
        when = fetched_at(data)
        generation = _field(data, "generation")
        chat_type = _field(data, "chat_type")
        nonce = _field(data, "nonce", 64)
        stream_hint = data.get("stream_hint")
        assistant = data.get("assistant")
        if (
            generation not in ("legacy", "aipkit")
            or chat_type not in ("shortcode", "widget")
            or not nonce
            or not (stream_hint is None or isinstance(stream_hint, bool))
            or not isinstance(assistant, bool)
        ):
            return None
        data_url = _field(data, "data_url", URL_TEXT)
        tokens = PageTokens(
            generation=generation,  # type: ignore[arg-type]
            nonce=nonce,
            ajax_url=_field(data, "ajax_url", URL_TEXT, url=True),
            page_url=_field(data, "page_url", URL_TEXT, url=True),
            bot_id=_field(data, "bot_id"),
            post_id=_field(data, "post_id"),
            chat_type=chat_type,  # type: ignore[arg-type]
            data_url=data_url,
            legacy_version=_field(data, "legacy_version"),
            stream_hint=stream_hint,
            assistant=assistant,
        )
    except (ValueError, RecursionError):
        return None
    return tokens, when


_KINDS = (None, "1.7", "aipkit")
_ROLES = 32
_TURNS = 10_000
_TEXT = 256 * 1024
_COOKIES = 64


def encode_conversation(conversation: Conversation) -> bytes:
    cookies = [
        [morsel.key, morsel.value, morsel["domain"], morsel["path"] or "/", bool(morsel["secure"])]
        for morsel in (conversation._cookie_jar or ())
    ]
    data = {
        "client_id": conversation.client_id,
        "session_id": conversation._session_id,
        "conversation_uuid": conversation._conversation_uuid,
        "thread_id": conversation.thread_id,
        "server_turns": conversation.server_turns,
        "server_kind": conversation.server_kind,
        "last_answer": conversation.last_answer,
        "cookies": cookies,
    }
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8", "surrogatepass"
    )


def decode_conversation(raw: bytes) -> Conversation | None:
    """A conversation some process filed, or ``None`` for anything not right."""
    try:
        data = json.loads(raw.decode("utf-8", "surrogatepass"))
        if not isinstance(data, dict):
            return None
        client_id = _field(data, "client_id", 64)
        turns = data.get("server_turns")
        kind = data.get("server_kind")
        answer = data.get("last_answer")
        cookies = data.get("cookies")
        if (
            not client_id.isalnum()
            or kind not in _KINDS
            or not isinstance(answer, str)
            or not isinstance(turns, list)
            or len(turns) > _TURNS
            or not isinstance(cookies, list)
            or len(cookies) > _COOKIES
        ):
            return None
        kept: list[tuple[str, str]] = []
        for turn in turns:
            if not (
                isinstance(turn, list)
                and len(turn) == 2
                and isinstance(turn[0], str)
                and len(turn[0]) <= _ROLES
                and isinstance(turn[1], str)
                and len(turn[1]) <= _TEXT
            ):
                return None
            kept.append((turn[0], turn[1]))
        conversation = Conversation()
        conversation.client_id = client_id
        conversation._session_id = optional_text(data, "session_id")
        conversation._conversation_uuid = optional_text(data, "conversation_uuid")
        conversation.thread_id = optional_text(data, "thread_id")
        conversation.server_turns, conversation.server_kind = kept, kind
        conversation.last_answer = answer
        for cookie in cookies:
            _restore_cookie(conversation, cookie)
    except (ValueError, TypeError, RecursionError, CookieError):
        return None
    return conversation


def _restore_cookie(conversation: Conversation, cookie: Any) -> None:
    if not (isinstance(cookie, list) and len(cookie) == 5):
        raise ValueError("cookie")
    name, value, domain, path, secure = cookie
    texts = (name, value, domain, path)
    if not all(isinstance(t, str) for t in texts) or not isinstance(secure, bool):
        raise ValueError("cookie")
    if not name or not domain or len(value) > 8192 or any(len(t) > URL_TEXT for t in texts):
        raise ValueError("cookie")
    morsels: SimpleCookie = SimpleCookie()
    morsels[name] = value
    morsels[name]["path"] = path if path.startswith("/") else "/"
    if secure:
        morsels[name]["secure"] = True
    host = domain.lstrip(".")
    shown = f"[{host}]" if ":" in host else host
    conversation.cookie_jar.update_cookies(morsels, response_url=URL(f"http://{shown}/"))
