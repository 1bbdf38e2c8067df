"""Token discovery on plain HTML (docs/protocol-ai-power.md, "Finding the chat")."""

from __future__ import annotations

import html
import json

import pytest

from chatbridge._aipower._page import parse_page

PAGE = "https://site.example/chat/"
OTHER_PLUGIN = '<div class="other-form" data-nonce="ffffffffff"></div>'
IMG_NONCE = '<input type="hidden" id="wpaicg-img-nonce" value="eeeeeeeeee">'
PARAMS = (
    '<script>var wpaicgParams = {"ajax_url":"https:\\/\\/site.example\\/sub\\/wp-admin'
    '\\/admin-ajax.php","search_nonce":"abcdef0123","logged_in":"0"};</script>'
)


def container(**attrs: str) -> str:
    body = "\n    ".join(f'{name} = "{value}"' for name, value in attrs.items())
    return f'<div class="wpaicg-chat-shortcode"\n    {body}\n>'


def test_nonce_anchored_on_the_container_not_the_first_in_page() -> None:
    page = (
        OTHER_PLUGIN
        + IMG_NONCE
        + PARAMS
        + container(
            **{
                "data-nonce": "0123456789",
                "data-post-id": "42",
                "data-url": "https://site.example/chat",
                "data-bot-id": "0",
                "data-type": "shortcode",
                "data-openai_stream_nav": "1",
            }
        )
    )
    tokens = parse_page(page, PAGE)
    assert tokens is not None
    assert tokens.nonce == "0123456789"
    assert tokens.post_id == "42"
    assert tokens.ajax_url == "https://site.example/sub/wp-admin/admin-ajax.php"
    assert tokens.action == "wpaicg_chat_shortcode_message"
    assert tokens.chatbot_identity == "shortcode"
    assert tokens.legacy_version == "1.8–1.8.94"  # a stream option, no 1.8.95+ attribute
    assert tokens.stream_hint is True


@pytest.mark.parametrize(
    ("extra", "version"),
    [
        ({}, "1.8–1.8.94"),
        ({"data-assistant-enabled": "false"}, "1.8.95–1.9.3"),
        ({"data-assistant-enabled": "false", "data-sidebar-enabled": "false"}, "1.9.4–2.2"),
        (
            {"data-sidebar-enabled": "false", "data-post-id": "<12", "data-type": "widget"},
            "1.9.16–2.2",
        ),
    ],
)
def test_the_legacy_version_is_as_narrow_as_the_attributes_show(
    extra: dict[str, str], version: str
) -> None:
    """Issue 22 item 10: a 2.2 page is not just "1.8+" (docs/protocol-ai-power.md, "Telling
    versions apart")."""
    attributes = {"data-nonce": "0123456789", "data-openai_stream_nav": "1", **extra}
    tokens = parse_page(container(**attributes), PAGE)
    assert tokens is not None and tokens.legacy_version == version


def test_widget_post_id_typo_and_custom_bot() -> None:
    page = (
        '<div class="wpaicg_chat_widget"><div class="wpaicg-chatbox wpaicg-chatbox-right" '
        'data-nonce="1111111111" data-post-id="<123" data-bot-id="77" data-type="widget" '
        'data-openai_stream_nav="0"></div></div>'
    )
    tokens = parse_page(page, PAGE)
    assert tokens is not None
    assert (tokens.post_id, tokens.bot_id, tokens.chat_type) == ("123", "77", "widget")
    assert tokens.action == "wpaicg_chatbox_message"
    assert tokens.chatbot_identity == "custom_bot_77"
    assert tokens.ajax_url == "https://site.example/wp-admin/admin-ajax.php"


def test_legacy_17_detected_by_its_attribute_set() -> None:
    page = container(**{"data-nonce": "2222222222", "data-ai-name": "AI", "data-use-avatar": "0"})
    tokens = parse_page(page, PAGE)
    assert tokens is not None and tokens.legacy_version == "1.7"


def test_wpaicg_params_fallback_when_no_container() -> None:
    tokens = parse_page(OTHER_PLUGIN + PARAMS, PAGE)
    assert tokens is not None
    assert tokens.nonce == "abcdef0123"
    assert tokens.legacy_version == ""
    assert tokens.action == "wpaicg_chat_shortcode_message"


def test_messages_list_class_is_not_the_container() -> None:
    page = '<div class="wpaicg-chat-shortcode-messages" data-nonce="3333333333"></div>'
    assert parse_page(page, PAGE) is None


def test_aipkit_popup_wrapper_config() -> None:
    config = {
        "botId": 101,
        "ajaxUrl": "/wp-admin/admin-ajax.php",
        "nonce": "4444444444",
        "postId": 9,
        "provider": "OpenAI",
    }
    page = (
        f'<div class="aipkit_popup_wrapper" id="aipkit_popup_wrapper_101" data-bot-id="101" '
        f"data-config='{html.escape(json.dumps(config))}'><div class=\"aipkit_chat_container\">"
        "</div></div>"
    )
    tokens = parse_page(page, PAGE)
    assert tokens is not None and tokens.generation == "aipkit"
    assert (tokens.nonce, tokens.bot_id, tokens.post_id) == ("4444444444", "101", "9")
    assert tokens.ajax_url == "https://site.example/wp-admin/admin-ajax.php"


def test_choosing_a_bot_among_several() -> None:
    page = container(**{"data-nonce": "5555555555", "data-bot-id": "0"}) + container(
        **{"data-nonce": "5555555555", "data-bot-id": "12"}
    )
    tokens = parse_page(page, PAGE, bot_id=12)
    assert tokens is not None and tokens.bot_id == "12"


def test_plain_pages_and_literal_shortcodes_are_not_ai_power() -> None:
    assert parse_page("<html><body>[wpaicg_chatgpt]</body></html>", PAGE) is None
    assert parse_page(OTHER_PLUGIN, PAGE) is None
