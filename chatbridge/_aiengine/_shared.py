"""A site's tokens as a shared state store keeps them: encoded to JSON, and decoded
*defensively*: a value read back may come from another version, another program or a person,
so every field is checked for type and size, and anything wrong makes the whole value absent
(the caller then fetches afresh), never an error."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any

from .._state._fields import SHORT, URL_TEXT, fetched_at, optional_text
from .._state._fields import text as _field
from ._page import ChatConfig

__all__ = ["SiteTokens", "decode_tokens", "encode_tokens"]

_TEXT = 64 * 1024


@dataclass(frozen=True, slots=True)
class SiteTokens:
    """A site's chat settings and the REST nonce that goes with them."""

    config: ChatConfig
    nonce: str


def encode_tokens(tokens: SiteTokens, fetched_at: float) -> bytes:
    data = {"fetched_at": fetched_at, "nonce": tokens.nonce, "config": asdict(tokens.config)}
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8", "surrogatepass"
    )


def _id(data: dict[str, Any], name: str) -> str | int | float | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(name)
    if isinstance(value, str) and len(value) > SHORT:
        raise ValueError(name)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(name)
    return value


def _count(data: dict[str, Any], name: str, *, optional: bool = False) -> int | None:
    value = data.get(name)
    if value is None and optional:
        return None
    if type(value) is not int or not 0 < value <= 10**9:
        raise ValueError(name)
    return value


def _config(data: Any) -> ChatConfig:
    if not isinstance(data, dict):
        raise ValueError("config")
    generation = data.get("generation")
    if generation not in ("g2", "g3"):
        raise ValueError("generation")
    max_messages = _count(data, "max_messages")
    assert max_messages is not None
    return ChatConfig(
        generation=generation,
        version=_field(data, "version"),
        rest_url=_field(data, "rest_url", URL_TEXT, url=True),
        page_url=_field(data, "page_url", URL_TEXT, url=True),
        bot_id=_id(data, "bot_id"),
        custom_id=_id(data, "custom_id"),
        context_id=_id(data, "context_id"),
        session=optional_text(data, "session"),
        nonce=optional_text(data, "nonce"),
        start_sentence=_field(data, "start_sentence", _TEXT),
        text_input_max_length=_count(data, "text_input_max_length", optional=True),
        max_messages=max_messages,
    )


def decode_tokens(raw: bytes | None) -> tuple[SiteTokens, float] | None:
    """The tokens and their fetch time (wall clock), or ``None`` for anything not right."""
    if not raw or len(raw) > 128 * 1024:
        return None
    try:
        data = json.loads(raw.decode("utf-8", "surrogatepass"))
        if not isinstance(data, dict):
            return None
        when = fetched_at(data)
        nonce = _field(data, "nonce", 64)
        if not nonce:
            return None
        tokens = SiteTokens(_config(data.get("config")), nonce)
    except (ValueError, RecursionError, UnicodeDecodeError):
        return None
    return tokens, when
