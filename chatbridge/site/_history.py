"""Conversation history as the plugin reads it (docs/protocol-ai-power.md, "Conversation
history (legacy)").

* 1.8.79–1.8.90: ``sanitize_text_field`` on the slashed field, every backslash deleted,
  ``json_decode``.
* 1.8.91–2.2: ``wp_unslash``, ``sanitize_textarea_field``, every backslash deleted, ``json_decode``.
* 1.7.x: a PHP-serialised list of strings in a cookie named ``md5(client_id . url)``.

Any decode failure is an empty history, silently, as in PHP.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Literal
from urllib.parse import quote_plus, unquote_plus

from ._php import (
    php_serialize_list,
    php_unserialize_list,
    sanitize_text_field,
    sanitize_textarea_field,
)

Role = Literal["user", "assistant"]
Turn = tuple[Role, str]


#: PHP ``json_decode``'s default nesting limit: anything deeper decodes to null.
JSON_MAX_DEPTH = 512
_BRACKETS = re.compile(r'"[^"]*"|[\[\]{}]')


def _too_deep(text: str) -> bool:
    """Whether arrays/objects nest deeper than PHP allows (``text`` has no backslashes, so a
    string literal is simply ``"…"``)."""
    if text.count("[") + text.count("{") <= JSON_MAX_DEPTH:
        return False
    depth = 0
    for match in _BRACKETS.finditer(text):
        token = match.group(0)
        if token in "[{":
            depth += 1
            if depth > JSON_MAX_DEPTH:
                return True
        elif token in "]}":
            depth -= 1
    return False


def _decode(text: str) -> list[Turn]:
    text = text.replace("\\", "")
    if _too_deep(text):
        return []
    try:
        items = json.loads(text)
    except (ValueError, RecursionError):
        return []
    if not isinstance(items, list):
        return []
    turns: list[Turn] = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("text")
        if not isinstance(item, str):
            continue
        if item.startswith("Human: "):
            turns.append(("user", item[len("Human: ") :]))
        else:
            content = item.replace("AI: ", "").strip()
            if content:
                turns.append(("assistant", content))
    return turns


def parse_history_18(slashed: str) -> list[Turn]:
    """1.8.79–1.8.90: the raw (magic-quoted) field through ``sanitize_text_field``."""
    return _decode(sanitize_text_field(slashed))


def parse_history_22(unslashed: str) -> list[Turn]:
    """1.8.91–2.2: the unslashed field through ``sanitize_textarea_field``."""
    return _decode(sanitize_textarea_field(unslashed))


def count_roles(turns: list[Turn]) -> tuple[int, int]:
    """(user turns, assistant turns)."""
    users = sum(1 for role, _ in turns if role == "user")
    return users, len(turns) - users


# --- 1.7.x cookies -------------------------------------------------------------------------


def history_key_cookie(action: str, bot_id: int) -> str:
    """Name of the cookie that holds the md5 key of the history cookie."""
    if bot_id > 0:
        return f"wpaicg_conversation_url_custom_bot_{bot_id}"
    if action == "wpaicg_chatbox_message":
        return "wpaicg_conversation_url"
    return "wpaicg_conversation_url_shortcode"


def history_cookie_name(client_id: str, url: str) -> str:
    """``md5(client_id . url)``."""
    return hashlib.md5((client_id + url).encode("utf-8", "surrogateescape")).hexdigest()


def read_cookie_history(raw: str | None) -> list[str]:
    """Entries of the history cookie: PHP url-decodes, the plugin unslashes and unserialises."""
    if not raw:
        return []
    value = unquote_plus(raw, errors="surrogateescape")
    # 1.7 deletes every backslash of the (magic-quoted) cookie before unserialising.
    value = value.replace("\\", "")
    items = php_unserialize_list(value.encode("utf-8", "surrogateescape"))
    return items or []


def cookie_entries_to_turns(entries: list[str]) -> list[Turn]:
    """User entries look like ``Human: <msg>\\nAI: ``; answers are plain strings."""
    turns: list[Turn] = []
    for entry in entries:
        if entry.startswith("Human: "):
            text = entry[len("Human: ") :]
            text = text.removesuffix("\nAI: ")
            turns.append(("user", text))
        else:
            turns.append(("assistant", entry))
    return turns


def encode_cookie_history(entries: list[str]) -> str:
    """PHP ``setcookie`` value (``urlencode`` of the serialised list)."""
    return quote_plus(php_serialize_list(entries))

