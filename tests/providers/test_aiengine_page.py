"""Reading an AI Engine page (docs/protocol-ai-engine.md, "Finding the chat"): pure, on
plain strings."""

from __future__ import annotations

import html
import json
from typing import Any

import pytest

from chatbridge._aiengine._page import bot_key, parse_page

PAGE = "https://site.example/chat/"
G3_SYSTEM: dict[str, Any] = {
    "botId": "default",
    "customId": None,
    "userData": None,
    "sessionId": None,
    "restNonce": None,
    "contextId": 123.0,
    "pluginUrl": "https://site.example/wp-content/plugins/ai-engine",
    "restUrl": "https://site.example/wp-json",
    "stream": True,
    "eventLogs": False,
    "crossSite": False,
    "actions": [],
    "blocks": [],
    "shortcuts": [],
}
PARAMS: dict[str, Any] = {
    "aiName": "AI: ",
    "startSentence": "Hi! How can I help you?",
    "textInputMaxLength": 512.0,
}


def php_json(value: Any) -> str:
    """PHP's ``json_encode`` (slashes escaped), then ``htmlspecialchars(ENT_QUOTES)``."""
    return html.escape(json.dumps(value).replace("/", "\\/"), quote=True).replace(
        "&#x27;", "&#039;"
    )


def container(system: dict[str, Any], params: dict[str, Any] | None = None) -> str:
    return (
        f"<div class='mwai-chatbot-container' data-params='{php_json(params or PARAMS)}' "
        f"data-system='{php_json(system)}' data-theme='{php_json({'themeId': 'chatgpt'})}'></div>"
    )


def test_the_current_generation_asks_start_session() -> None:
    config = parse_page(f"<html><body>{container(G3_SYSTEM)}</body></html>", PAGE)
    assert config is not None
    assert (config.generation, config.version, config.nonce) == ("g3", "3.5.2+", None)
    assert config.rest_url == "https://site.example/wp-json"
    assert config.endpoint("/mwai-ui/v1/chats/submit") == (
        "https://site.example/wp-json/mwai-ui/v1/chats/submit"
    )
    assert (config.bot_id, config.custom_id, config.context_id) == ("default", None, 123.0)
    assert (config.start_sentence, config.text_input_max_length) == ("Hi! How can I help you?", 512)
    assert config.max_messages == 15  # the plugin's default when the page does not say


def test_the_previous_generation_carries_its_nonce_in_the_page() -> None:
    system = {**G3_SYSTEM, "sessionId": "N/A", "restNonce": "0123abcdef"}
    for key in ("eventLogs", "crossSite", "actions", "blocks", "shortcuts"):
        system.pop(key)
    config = parse_page(container(system), PAGE)
    assert config is not None
    assert (config.generation, config.version) == ("g2", "1.6.76–2.4.3")
    assert (config.nonce, config.session) == ("0123abcdef", "N/A")


@pytest.mark.parametrize(
    ("changes", "version"),
    [
        ({"sessionId": "64f0a1b2c3d4e"}, "2.9.9–3.5.1"),  # before 3.5.2 guests got one
        ({"crossSite": None}, "2.8.5–2.9.8"),  # (None: the key removed below)
        ({"crossSite": None, "eventLogs": None}, "2.4.4–2.8.4"),
    ],
)
def test_the_current_generation_is_named_as_narrowly_as_the_page_shows(
    changes: dict[str, Any], version: str
) -> None:
    system = {**G3_SYSTEM, **changes}
    system = {key: value for key, value in system.items() if key not in changes or value}
    config = parse_page(container(system), PAGE)
    assert config is not None and config.version == version


def test_plain_permalinks_keep_the_rest_route_query_as_the_page_gives_it() -> None:
    system = {**G3_SYSTEM, "restUrl": "https://site.example/index.php?rest_route="}
    config = parse_page(container(system), PAGE)
    assert config is not None
    assert config.endpoint("/mwai/v1/start_session") == (
        "https://site.example/index.php?rest_route=/mwai/v1/start_session"
    )


def test_a_relative_rest_url_is_resolved_and_a_strange_one_refused() -> None:
    relative = parse_page(container({**G3_SYSTEM, "restUrl": "/blog/wp-json/"}), PAGE)
    assert relative is not None and relative.rest_url == "https://site.example/blog/wp-json"
    missing = parse_page(container({k: v for k, v in G3_SYSTEM.items() if k != "restUrl"}), PAGE)
    assert missing is not None and missing.rest_url == "https://site.example/wp-json"
    assert parse_page(container({**G3_SYSTEM, "restUrl": "javascript:alert(1)"}), PAGE) is None


def test_the_bot_comes_from_the_page_and_bot_id_picks_one_of_several() -> None:
    page = container({**G3_SYSTEM, "botId": "sales"}) + container(
        {**G3_SYSTEM, "botId": 42.0}, {**PARAMS, "textInputMaxLength": "80"}
    )
    first = parse_page(page, PAGE)
    assert first is not None and first.bot_id == "sales"  # never a hard-coded "default"
    second = parse_page(page, PAGE, bot_id=42)
    assert second is not None and (second.bot_id, second.text_input_max_length) == (42.0, 80)
    assert bot_key(second.bot_id) == "42"
    unknown = parse_page(page, PAGE, bot_id="support")  # kept, with the first chat's settings
    assert unknown is not None and (unknown.bot_id, unknown.custom_id) == ("support", None)


def test_a_custom_bot_is_named_by_its_custom_id() -> None:
    config = parse_page(container({**G3_SYSTEM, "botId": None, "customId": "c0ffee"}), PAGE)
    assert config is not None and (config.bot_id, config.custom_id) == (None, "c0ffee")
    picked = parse_page(
        container({**G3_SYSTEM, "botId": None, "customId": "c0ffee"}), PAGE, "c0ffee"
    )
    assert picked is not None and picked.custom_id == "c0ffee"


def test_a_site_wide_bot_in_the_footer_is_found() -> None:
    page = (
        "<html><body><main><p>An article.</p></main><footer>Footer</footer>"
        + container(G3_SYSTEM, {**PARAMS, "window": True})
        + "</body></html>"
    )
    config = parse_page(page, PAGE)
    assert config is not None and config.bot_id == "default"


@pytest.mark.parametrize(
    "page",
    [
        "<html><body><p>No chat here.</p></body></html>",
        "<div class='mwai-discussions-container' data-system='{}'></div>",
        "<div class='mwai-chatbot-container' data-system='not json'></div>",
        "<div class='mwai-chatbot-container' data-system='[1, 2]'></div>",
        container({**G3_SYSTEM, "botId": None, "customId": None}),  # no bot: never guessed
        '<div class="wpaicg-chat-shortcode" data-nonce="0123456789"></div>',  # AI Power's
    ],
)
def test_pages_without_a_usable_chat(page: str) -> None:
    assert parse_page(page, PAGE) is None


def test_max_messages_and_input_length_are_read_as_php_prints_them() -> None:
    params = {**PARAMS, "maxMessages": 4.0, "textInputMaxLength": "0"}
    config = parse_page(container(G3_SYSTEM, params), PAGE)
    assert config is not None and (config.max_messages, config.text_input_max_length) == (4, None)
    odd = {**PARAMS, "maxMessages": True, "textInputMaxLength": -3}
    config = parse_page(container(G3_SYSTEM, odd), PAGE)
    assert config is not None and (config.max_messages, config.text_input_max_length) == (15, None)
