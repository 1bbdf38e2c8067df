"""Reading an AI Engine page: which generation it speaks and what its chat needs. Pure.

The chat is a ``div.mwai-chatbot-container`` whose ``data-system`` and ``data-params`` hold
JSON, HTML-escaped (docs/protocol-ai-engine.md, "Finding the chat" and "Generations"). The bot
and its REST URL come from the page, never from a default; a site-wide bot injected in the
footer is one more container in the page. The generation is told by ``data-system.restNonce``:
a nonce in the page (G2, plugin 1.6.76–2.4.3), or ``null`` for a guest, who asks
``start_session`` (G3, 2.4.4 and later). Later keys of ``data-system`` narrow the G3 version
down (``eventLogs`` came in 2.8.5, ``crossSite`` in 2.9.9, a ``null`` guest ``sessionId`` in
3.5.2).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from .._constants import AIENGINE_MAX_MESSAGES
from .._http._html import classes, div_attributes
from .._json import loads

__all__ = ["ChatConfig", "Generation", "Id", "bot_key", "parse_page"]

Generation = Literal["g2", "g3"]

_CONTAINER = "mwai-chatbot-container"
_NONCE = re.compile(r"^[0-9a-f]{10}$")
#: A JSON value the plugin prints for an id: a string, or a number (``clean_params`` turns
#: numeric strings into numbers).
Id = str | int | float


@dataclass(frozen=True, slots=True)
class ChatConfig:
    """What a page tells a client about its AI Engine chat."""

    generation: Generation
    #: The plugin versions the page's markup fits, as narrowly as it shows them.
    version: str
    #: The REST root exactly as the page gives it (``…/wp-json`` or ``…?rest_route=``).
    rest_url: str
    page_url: str
    #: ``botId`` / ``customId`` as the page prints them (sent back unchanged).
    bot_id: Id | None = "default"
    custom_id: Id | None = None
    context_id: Id | None = None
    #: ``data-system.sessionId`` (G2: usually ``"N/A"``; G3 guests: ``None``).
    session: str | None = None
    #: G2's REST nonce (``data-system.restNonce``); G3 guests get theirs from start_session.
    nonce: str | None = None
    start_sentence: str = ""
    #: The longest new message the bot takes (characters), ``None`` for no limit.
    text_input_max_length: int | None = None
    #: How many earlier messages the plugin keeps besides the first (``maxMessages``).
    max_messages: int = AIENGINE_MAX_MESSAGES

    def endpoint(self, route: str) -> str:
        """``route`` (``/mwai-ui/v1/chats/submit``) appended to the REST root as the browser
        does: as is, so ``?rest_route=`` roots get it unencoded."""
        return self.rest_url + route


def bot_key(value: object) -> str:
    """A bot id as text, for comparing: ``123``, ``123.0`` and ``"123"`` are one bot."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return str(value)


def _json_attribute(attrs: dict[str, str], name: str) -> dict[str, Any] | None:
    raw = attrs.get(name)
    if not raw:
        return None
    try:
        value = loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _id(value: object) -> Id | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if value != "" else None


def _positive(value: object) -> int | None:
    """A count the plugin printed (a number, or a numeric string), if it is one above 0."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit():
            return None
        value = int(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and value > 0 else None


def _version(system: dict[str, Any], generation: Generation) -> str:
    if generation == "g2":
        return "1.6.76–2.4.3"
    if "crossSite" in system:
        return "3.5.2+" if system.get("sessionId") is None else "2.9.9–3.5.1"
    return "2.8.5–2.9.8" if "eventLogs" in system else "2.4.4–2.8.4"


def _rest_url(system: dict[str, Any], page_url: str) -> str | None:
    raw = system.get("restUrl")
    rest = urljoin(page_url, raw) if isinstance(raw, str) and raw else urljoin(page_url, "/wp-json")
    if urlsplit(rest).scheme not in ("http", "https"):
        return None
    return rest.rstrip("/") if "?" not in rest else rest


def _containers(page: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    found = []
    for attrs in div_attributes(page):
        if _CONTAINER not in classes(attrs):
            continue
        system = _json_attribute(attrs, "data-system")
        if system is None:
            continue
        found.append((system, _json_attribute(attrs, "data-params") or {}))
    return found


def _chosen(
    found: list[tuple[dict[str, Any], dict[str, Any]]], wanted: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    if wanted is not None:
        for system, params in found:
            ids = {bot_key(system.get("botId")), bot_key(system.get("customId"))}
            if wanted in ids:
                return system, params
    return found[0]


def parse_page(page: str, page_url: str, bot_id: int | str | None = None) -> ChatConfig | None:
    """The AI Engine chat of a page, or ``None`` when it has none. ``bot_id`` picks one of
    several bots (by ``botId`` or ``customId``); one the page does not show is still the
    one asked for, with the first chat's settings."""
    found = _containers(page)
    if not found:
        return None
    wanted = None if bot_id is None else bot_key(bot_id)
    system, params = _chosen(found, wanted)
    rest_url = _rest_url(system, page_url)
    if rest_url is None:
        return None
    nonce = system.get("restNonce")
    generation: Generation = "g2" if isinstance(nonce, str) and _NONCE.match(nonce) else "g3"
    bot, custom = _id(system.get("botId")), _id(system.get("customId"))
    if wanted is not None and wanted not in {bot_key(bot), bot_key(custom)}:
        bot, custom = wanted, None
    if bot is None and custom is None:
        return None  # the site refuses a chat that names no bot; never guess "default"
    session = system.get("sessionId")
    start = params.get("startSentence")
    return ChatConfig(
        generation=generation,
        version=_version(system, generation),
        rest_url=rest_url,
        page_url=page_url,
        bot_id=bot,
        custom_id=custom,
        context_id=_id(system.get("contextId")),
        session=session if isinstance(session, str) and session else None,
        nonce=nonce if generation == "g2" else None,
        start_sentence=start.strip() if isinstance(start, str) else "",
        text_input_max_length=_positive(params.get("textInputMaxLength")),
        max_messages=_positive(params.get("maxMessages")) or AIENGINE_MAX_MESSAGES,
    )
