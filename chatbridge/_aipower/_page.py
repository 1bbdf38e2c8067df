"""Reading an AI Power page: which protocol it speaks and the tokens it carries. Pure.

docs/protocol-ai-power.md, "Finding the chat": anchor on the chat container (never "the first
data-nonce in the page": other plugins use that attribute too), fall back to the
``wpaicgParams`` inline script, and recognise AIPKit's ``data-config``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urljoin

from .._http._html import classes as _classes
from .._http._html import div_attributes
from .._json import loads

__all__ = ["PageTokens", "parse_page"]

# The params script is found by scanning forward too (see ``_http._html`` for the tags): a page
# of ``"wpaicgParams = {" * n`` must cost O(n), not O(n²).
_PARAMS_START = re.compile(r"wpaicgParams\s*=\s*\{")
_PARAMS_END = re.compile(r"\}\s*;")
_SEARCH_NONCE = re.compile(r'"search_nonce"\s*:\s*"([0-9a-f]{10})"')
_AJAX_URL = re.compile(r'"ajax_url"\s*:\s*"([^"]+)"')
_NONCE = re.compile(r"^[0-9a-f]{10}$")

Generation = Literal["legacy", "aipkit"]


@dataclass(frozen=True, slots=True)
class PageTokens:
    """What a page tells a client. ``nonce`` is a 10-hex WordPress nonce."""

    generation: Generation
    nonce: str
    ajax_url: str
    page_url: str
    bot_id: str = "0"
    post_id: str = ""
    chat_type: Literal["shortcode", "widget"] = "shortcode"
    data_url: str = ""
    #: The plugin versions the container's attribute set fits, as narrowly as it shows them
    #: (protocol-ai-power.md, "Telling versions apart"): "1.7", "1.8–1.8.94",
    #: "1.8.95–1.9.3", "1.9.4–2.2", "1.9.16–2.2" ("1.8+" for a container too bare to tell);
    #: "" when only wpaicgParams was found.
    legacy_version: str = ""
    stream_hint: bool | None = None
    assistant: bool = False

    @property
    def action(self) -> str:
        if self.chat_type == "widget":
            return "wpaicg_chatbox_message"
        return "wpaicg_chat_shortcode_message"

    @property
    def chatbot_identity(self) -> str:
        if self.bot_id not in ("", "0"):
            return f"custom_bot_{self.bot_id}"
        return self.chat_type


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def _legacy_version(container: dict[str, str]) -> str:
    """Which versions print this attribute set (protocol-ai-power.md, "Telling versions
    apart")."""
    if "data-openai_stream_nav" not in container:
        one_seven = "data-ai-name" in container or "data-use-avatar" in container
        return "1.7" if one_seven else "1.8+"  # a container too bare to tell
    if "data-sidebar-enabled" in container:
        stray = container.get("data-post-id", "").startswith("<")  # the 1.9.16+ widget
        return "1.9.16–2.2" if stray else "1.9.4–2.2"
    if "data-assistant-enabled" in container:
        return "1.8.95–1.9.3"
    return "1.8–1.8.94"


def _legacy_container(tags: list[dict[str, str]], bot_id: str | None) -> dict[str, str] | None:
    candidates = [
        attrs
        for attrs in tags
        if _classes(attrs) & {"wpaicg-chat-shortcode", "wpaicg-chatbox"}
        and _NONCE.match(attrs.get("data-nonce", ""))
    ]
    if bot_id is not None:
        wanted = [a for a in candidates if _digits(a.get("data-bot-id", "0")) == bot_id]
        candidates = wanted or candidates
    return candidates[0] if candidates else None


def _aipkit_config(tags: list[dict[str, str]], bot_id: str | None) -> dict[str, Any] | None:
    configs: list[dict[str, Any]] = []
    for attrs in tags:
        if not _classes(attrs) & {"aipkit_chat_container", "aipkit_popup_wrapper"}:
            continue
        raw = attrs.get("data-config")
        if not raw:
            continue
        try:
            config = loads(raw)
        except ValueError:
            continue
        if isinstance(config, dict) and config.get("nonce"):
            config.setdefault("botId", attrs.get("data-bot-id", ""))
            configs.append(config)
    if bot_id is not None:
        wanted = [c for c in configs if str(c.get("botId")) == bot_id]
        configs = wanted or configs
    return configs[0] if configs else None


def _params(page: str) -> tuple[str | None, str | None]:
    """``(search_nonce, ajax_url)`` from the ``wpaicgParams`` inline script."""
    start = _PARAMS_START.search(page)
    if start is None:
        return None, None
    # The shortest "{ … };" after the first "wpaicgParams = {": one search, not one per start.
    end = _PARAMS_END.search(page, start.end())
    if end is None:
        return None, None
    blob = page[start.end() - 1 : end.start() + 1]
    try:
        data = loads(blob)
    except ValueError:
        data = None
    if isinstance(data, dict):
        nonce, ajax = data.get("search_nonce"), data.get("ajax_url")
        nonce = nonce if isinstance(nonce, str) and _NONCE.match(nonce) else None
        return nonce, ajax if isinstance(ajax, str) else None
    nonce_match = _SEARCH_NONCE.search(blob)
    ajax_match = _AJAX_URL.search(blob)
    return (
        nonce_match.group(1) if nonce_match else None,
        ajax_match.group(1).replace("\\/", "/") if ajax_match else None,
    )


def _default_ajax(page_url: str) -> str:
    return urljoin(page_url, "/wp-admin/admin-ajax.php")


def parse_page(page: str, page_url: str, bot_id: int | str | None = None) -> PageTokens | None:
    """The tokens of an AI Power page, or ``None`` when it has no usable chat."""
    wanted = None if bot_id is None else str(bot_id)
    tags = div_attributes(page)
    search_nonce, params_ajax = _params(page)
    ajax_url = urljoin(page_url, params_ajax) if params_ajax else _default_ajax(page_url)

    container = _legacy_container(tags, wanted)
    if container is not None:
        stream_nav = container.get("data-openai_stream_nav")
        return PageTokens(
            generation="legacy",
            nonce=container["data-nonce"],
            ajax_url=ajax_url,
            page_url=page_url,
            bot_id=wanted or _digits(container.get("data-bot-id", "0")) or "0",
            post_id=_digits(container.get("data-post-id", "")),
            chat_type="widget" if container.get("data-type") == "widget" else "shortcode",
            data_url=container.get("data-url", ""),
            legacy_version=_legacy_version(container),
            stream_hint=None if stream_nav is None else stream_nav.strip() == "1",
            assistant=container.get("data-assistant-enabled", "").strip() == "true",
        )

    config = _aipkit_config(tags, wanted)
    if config is not None:
        config_ajax = config.get("ajaxUrl")
        return PageTokens(
            generation="aipkit",
            nonce=str(config["nonce"]),
            ajax_url=urljoin(page_url, config_ajax) if isinstance(config_ajax, str) else ajax_url,
            page_url=page_url,
            bot_id=wanted or str(config.get("botId") or "0"),
            post_id=_digits(str(config.get("postId") or "")),
        )

    if search_nonce is not None:
        return PageTokens(
            generation="legacy",
            nonce=search_nonce,
            ajax_url=ajax_url,
            page_url=page_url,
            bot_id=wanted or "0",
        )
    return None
