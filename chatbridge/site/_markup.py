"""Chat container markup of each plugin generation (docs/protocol-ai-power.md, "Legacy
containers", "AIPKit configuration" and "Seen on real sites")."""

from __future__ import annotations

from typing import Any

from ._config import SiteConfig
from ._php import esc_html, wp_json


def _names(text: str) -> list[str]:
    return text.split()


_V17 = _names(
    "data-user-bg-color data-color data-fontsize data-use-avatar data-user-avatar data-you "
    "data-ai-avatar data-ai-name data-ai-bg-color data-nonce data-post-id data-url data-bot-id "
    "data-width data-height data-footer data-has-bar data-speech data-voice data-voice-error "
    "data-text_height data-text_rounded data-chat_rounded data-voice_service data-voice_language "
    "data-voice_name data-voice_device data-voice_speed data-voice_pitch"
)
_V18_EXTRA = _names(
    "data-elevenlabs-model data-typewriter-effect data-typewriter-speed data-openai_model "
    "data-openai_voice data-openai_output_format data-openai_voice_speed data-openai_stream_nav "
    "data-autoload_chat_conversations data-copy_btn data-feedback_btn data-feedback_title "
    "data-feedback_message data-feedback_success data-user-voice-control "
    "data-voice-muted-by-default"
)
_V1918 = _names(
    "data-user-bg-color data-color data-fontsize data-ai-bg-color data-nonce data-post-id data-url "
    "data-bot-id data-width data-height data-footer data-has-bar data-speech data-voice "
    "data-elevenlabs-model data-voice-error data-typewriter-effect data-typewriter-speed "
    "data-text_height data-text_rounded data-chat_rounded data-voice_service data-voice_language "
    "data-voice_name data-voice_device data-voice_speed data-voice_pitch data-openai_model "
    "data-openai_voice data-openai_output_format data-openai_voice_speed data-openai_stream_nav "
    "data-autoload_chat_conversations data-copy_btn data-feedback_btn data-feedback_title "
    "data-feedback_message data-feedback_success data-user-voice-control "
    "data-voice-muted-by-default data-memory-limit data-lead-collection data-lead-title "
    "data-lead-name data-enable-lead-name data-lead-email data-enable-lead-email data-lead-phone "
    "data-enable-lead-phone data-bg_text_field data-bg_text_field_font_color "
    "data-bg_text_field_border_color data-assistant-enabled data-sidebar-enabled"
)
#: Attributes the real templates print as ``name = "value"`` (18 of them in 1.9.18).
_SPACED = frozenset(_names(
    "data-memory-limit data-voice_service data-voice_language data-voice_name data-voice_device "
    "data-voice_speed data-voice_pitch data-openai_model data-openai_voice "
    "data-openai_output_format data-openai_voice_speed data-autoload_chat_conversations "
    "data-copy_btn data-feedback_btn data-feedback_title data-feedback_message "
    "data-feedback_success data-lead-collection"
))
_DEFAULTS = {
    "data-user-bg-color": "#444654", "data-color": "#fff", "data-fontsize": "13",
    "data-use-avatar": "0", "data-user-avatar": "", "data-you": "You",
    "data-ai-avatar": "", "data-ai-name": "AI", "data-ai-bg-color": "#343541",
    "data-width": "100%", "data-height": "445", "data-footer": "", "data-has-bar": "true",
    "data-speech": "0", "data-voice": "0", "data-voice-error": "Unable to play voice.",
    "data-elevenlabs-model": "eleven_monolingual_v1", "data-typewriter-effect": "",
    "data-typewriter-speed": "1", "data-text_height": "60", "data-text_rounded": "20",
    "data-chat_rounded": "20", "data-voice_service": "", "data-voice_language": "en-US",
    "data-voice_name": "en-US-Studio-M", "data-voice_device": "", "data-voice_speed": "1",
    "data-voice_pitch": "0", "data-openai_model": "tts-1", "data-openai_voice": "alloy",
    "data-openai_output_format": "mp3", "data-openai_voice_speed": "1",
    "data-autoload_chat_conversations": "0", "data-copy_btn": "1", "data-feedback_btn": "1",
    "data-feedback_title": "Feedback",
    "data-feedback_message": "Please provide details: (optional)",
    "data-feedback_success": "Thank you for your feedback!", "data-user-voice-control": "0",
    "data-voice-muted-by-default": "0", "data-memory-limit": "100", "data-lead-collection": "",
    "data-lead-title": "Let us know how to contact you", "data-lead-name": "Name",
    "data-enable-lead-name": "", "data-lead-email": "Email", "data-enable-lead-email": "",
    "data-lead-phone": "Phone", "data-enable-lead-phone": "", "data-bg_text_field": "#fff",
    "data-bg_text_field_font_color": "#000", "data-bg_text_field_border_color": "#ccc",
    "data-assistant-enabled": "false", "data-sidebar-enabled": "false",
}
#: Stable post id of the default AIPKit bot when ``bot_id`` is 0.
AIPKIT_DEFAULT_BOT = 101


def _attribute_names(generation: str, widget: bool) -> list[str]:
    if generation == "1.7":
        names = list(_V17)
    elif generation == "1.8":
        names = list(_V17) + _V18_EXTRA
    else:
        names = list(_V1918)
    if widget:
        names = [n for n in names if n not in ("data-has-bar", "data-sidebar-enabled")]
    return [*names, "data-type"]


def legacy_container(
    cfg: SiteConfig, generation: str, nonce: str, post_id: str, url: str, streams: bool
) -> str:
    """The legacy chat container (opening tag spans one line per attribute) and its insides."""
    widget = cfg.placement == "widget"
    values = dict(_DEFAULTS)
    values["data-nonce"] = nonce
    # 1.9.16+ widget template prints a stray "<" before the post id.
    stray = widget and generation == "2.2" and post_id
    values["data-post-id"] = f"<{post_id}" if stray else post_id
    values["data-url"] = url
    values["data-bot-id"] = str(cfg.bot_id)
    # The widget template defaults to "0" even where the server streams.
    values["data-openai_stream_nav"] = "1" if streams and not widget else "0"
    values["data-type"] = "widget" if widget else "shortcode"
    # Only the 1.8.95+ attribute set (generation "2.2") has the attribute at all.
    values["data-assistant-enabled"] = "true" if cfg.assistant else "false"
    lines = []
    for name in _attribute_names(generation, widget):
        value = values.get(name, "")
        if name != "data-post-id":  # the template prints the stray "<" raw
            value = esc_html(value)
        sep = " = " if name in _SPACED else "="
        lines.append(f'    {name}{sep}"{value}"')
    attrs = "\n".join(lines)
    if widget:
        return (
            '<div class="wpaicg_chat_widget wpaicg_widget_open wpaicg_widget_bottom_right">\n'
            '<div class="wpaicg_chat_widget_content">\n'
            f'<div class="wpaicg-chatbox"\n{attrs}\n>\n'
            '  <div class="wpaicg-chatbox-content">\n'
            '    <ul class="wpaicg-chatbox-messages"></ul>\n  </div>\n'
            '  <div class="wpaicg-chatbox-type"><textarea class="wpaicg-chatbox-typing" '
            'placeholder="Type a message"></textarea>\n'
            '  <span class="wpaicg-chatbox-send">Send</span></div>\n'
            "</div>\n</div>\n</div>\n"
        )
    return (
        f'<div class="wpaicg-chat-shortcode"\n{attrs}\n>\n'
        '  <div class="wpaicg-chat-shortcode-content">\n'
        '    <ul class="wpaicg-chat-shortcode-messages">\n'
        '      <li class="wpaicg-ai-message"><strong>AI:</strong> Hello human, I am a GPT powered '
        "AI chat bot. Ask me anything!</li>\n    </ul>\n  </div>\n"
        '  <div class="wpaicg-chat-shortcode-type"><textarea class="wpaicg-chat-shortcode-typing" '
        'placeholder="Type a message"></textarea>\n'
        '  <span class="wpaicg-chat-shortcode-send">Send</span></div>\n</div>\n'
    )


def aipkit_bot_id(cfg: SiteConfig) -> int:
    return cfg.bot_id if cfg.bot_id > 0 else AIPKIT_DEFAULT_BOT


def aipkit_container(cfg: SiteConfig, nonce: str, ajax_url: str, post_id: int) -> str:
    """``[aipkit_chatbot id=N]`` in popup (default) or inline mode."""
    bot = aipkit_bot_id(cfg)
    config: dict[str, Any] = {
        "botId": bot, "botName": "Local Assistant", "ajaxUrl": ajax_url, "nonce": nonce,
        "postId": post_id, "provider": "OpenAI", "model": "gpt-4o-mini", "streamEnabled": True,
        "enableOpenAIConversationState": False, "allowWebSearchTool": False,
        "allowGoogleSearchGrounding": False, "greeting": "Hello! How can I help you today?",
        "headerName": "Local Assistant", "inputPlaceholder": "Type your message...",
        "theme": "light", "popupPosition": "bottom-right", "popupEnabled":
        cfg.aipkit_mode == "popup", "footerText": "", "requireConsentCompliance": False,
        "isLoggedIn": False, "userName": "", "text": {"typing": "Thinking", "send": "Send"},
    }
    data = esc_html(wp_json(config).decode())
    inner = (
        '  <div class="aipkit_chat_header"><div class="aipkit_header_info">'
        '<span class="aipkit_bot_name">Local Assistant</span></div></div>\n'
        '  <div class="aipkit_chat_body"><div class="aipkit_chat_messages"></div></div>\n'
        '  <div class="aipkit_chat_input"><textarea class="aipkit_chat_input_field" '
        'placeholder="Type your message..."></textarea>'
        '<button class="aipkit_input_action_btn aipkit_send_btn">Send</button></div>\n'
    )
    if cfg.aipkit_mode == "inline":
        return (
            f'<div class="aipkit_chat_container" id="aipkit_chat_container_{bot}" '
            f'data-bot-id="{bot}" data-config="{data}">\n{inner}</div>\n'
        )
    return (
        f'<div class="aipkit_popup_wrapper" id="aipkit_popup_wrapper_{bot}" '
        f'data-bot-id="{bot}" data-config="{data}">\n'
        f'  <button class="aipkit_popup_trigger" aria-label="Open chat"></button>\n'
        f'  <div class="aipkit_chat_container aipkit_popup_content" '
        f'id="aipkit_chat_container_{bot}">\n{inner}  </div>\n</div>\n'
    )
