"""Front-end pages of the AI Engine site: a WordPress theme page with the plugin's chat
container where the plugin puts it (docs/protocol-ai-engine.md, "Finding the chat"):
``div.mwai-chatbot-container`` with ``data-params``, ``data-system`` and ``data-theme`` in
single quotes, each PHP's JSON (``/`` as ``\\/``, numbers printed as floats) HTML-escaped."""

from __future__ import annotations

from typing import Any

from .._pages import filler, menu, page_body, page_head
from .._php import esc_html, wp_json
from ._config import AIEngineSiteConfig

__all__ = ["CHAT_ID", "HOME_ID", "render_engine_page", "rest_root"]

HOME_ID = 7
CHAT_ID = 123
SITE_NAME = "Local AI Engine"
SCRIPT_VERSION = "1750000000"  # the plugin's cache buster: the file's mtime, not its version


def rest_root(cfg: AIEngineSiteConfig, base: str) -> str:
    """``get_rest_url()`` without its trailing slash, as ``data-system.restUrl`` shows it."""
    if cfg.permalinks == "plain":
        return f"{base}/index.php?rest_route="
    return f"{base}/wp-json"


def _php_number(value: int) -> float:
    """``clean_params`` turns numeric values into floats, which PHP prints as ``512.0``."""
    return float(value)


def _params(cfg: AIEngineSiteConfig, window: bool) -> dict[str, Any]:
    params: dict[str, Any] = {
        "aiName": "AI: ",
        "userName": "User: ",
        "guestName": "Guest: ",
        "aiAvatar": False,
        "userAvatar": False,
        "guestAvatar": False,
        "textSend": "Send",
        "textClear": "Clear",
        "textInputPlaceholder": "Type your message...",
        "textCompliance": "",
        "startSentence": cfg.start_sentence,
        "localMemory": True,
        "themeId": "chatgpt",
        "window": window,
        "copyButton": True,
        "fullscreen": False,
        "maxMessages": _php_number(cfg.max_messages),
    }
    if cfg.text_input_max_length is not None:
        params["textInputMaxLength"] = _php_number(cfg.text_input_max_length)
    return params


def _system(
    cfg: AIEngineSiteConfig, base: str, bot: str, nonce: str, post_id: int
) -> dict[str, Any]:
    system: dict[str, Any] = {
        "botId": bot,
        "customId": None,
        "userData": None,
        "sessionId": None if cfg.generation == "3.6" else "N/A",
        "restNonce": None if cfg.generation == "3.6" else nonce,
        "contextId": _php_number(post_id),
        "pluginUrl": f"{base}/wp-content/plugins/ai-engine",
        "restUrl": rest_root(cfg, base),
        "stream": True,
        "debugMode": False,
        "typewriter": False,
        "speech_recognition": False,
        "speech_synthesis": False,
    }
    if cfg.generation == "3.6":
        system.update(
            eventLogs=cfg.event_logs, crossSite=False, actions=[], blocks=[], shortcuts=[]
        )
    return system


def _container(
    cfg: AIEngineSiteConfig, base: str, bot: str, nonce: str, post_id: int, *, window: bool
) -> str:
    def attribute(value: Any) -> str:
        return esc_html(wp_json(value).decode())

    return (
        f"<div class='mwai-chatbot-container' data-params='{attribute(_params(cfg, window))}' "
        f"data-system='{attribute(_system(cfg, base, bot, nonce, post_id))}' "
        f"data-theme='{attribute({'themeId': 'chatgpt', 'type': 'internal'})}'></div>\n"
    )


def render_engine_page(
    cfg: AIEngineSiteConfig, *, base: str, path: str, kind: str, nonce: str
) -> bytes:
    """A front-end page. ``kind`` is ``"chat"``, ``"home"`` (no chat of its own) or ``"404"``."""
    titles = {"chat": "Chat", "home": "Home", "404": "Page not found"}
    title = "Home" if kind == "chat" and path == "/" else titles[kind]
    post_id = 0 if kind == "404" else (HOME_ID if path == "/" else CHAT_ID)
    content = ""
    if kind == "chat" and not cfg.site_wide:
        bots = [cfg.bot_id, *cfg.extra_bots]
        content = "".join(_container(cfg, base, bot, nonce, post_id, window=False) for bot in bots)
    footer = ""
    if cfg.site_wide:  # wp_footer: the site-wide bot, as a chat window, on every page
        footer = _container(cfg, base, cfg.bot_id, nonce, post_id, window=True)
    script = (
        f"<script src='{base}/wp-content/plugins/ai-engine/app/chatbot.js?ver={SCRIPT_VERSION}' "
        "id='mwai_chatbot-js'></script>\n"
    )
    head = page_head(title, script if content or footer else "", SITE_NAME)
    body_class = "error404" if kind == "404" else f"page-id-{post_id}"
    pad = max(cfg.page_size - len(head) - len(content) - len(footer) - len(menu()) - 600, 0)
    text = f"{filler(pad // 2, 0)}\n{content}{filler(pad - pad // 2, 200)}"
    return page_body(head, body_class, title, text, footer).encode()
