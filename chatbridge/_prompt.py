"""Turning a list of messages into one prompt string (``format_prompt``)."""

from __future__ import annotations

from collections.abc import Iterable

from ._types import Message, Messages

__all__ = ["format_prompt", "message_text"]


def message_text(message: Message) -> str:
    """The text of one message: a string content, or its text parts joined by spaces."""
    content = message.get("content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Iterable):
        parts: list[str] = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and part.get("type", "text") == "text":
                text = part.get("text")
                if isinstance(text, str):
                    parts.append(text)
        return " ".join(parts)
    return str(content)


def format_prompt(
    messages: Messages,
    add_special_tokens: bool = False,
    do_continue: bool = False,
    include_system: bool = True,
) -> str:
    """Flatten a conversation into one string.

    One message and no special tokens: that message's text alone. Otherwise one
    ``"<Role>: <text>"`` line per message (blank messages skipped, system messages dropped
    when ``include_system`` is false), then ``"\\nAssistant:"`` unless ``do_continue``.
    """
    if not messages:
        raise ValueError("format_prompt() needs at least one message; got an empty list")
    if not add_special_tokens and len(messages) <= 1:
        return message_text(messages[0])
    lines = [
        f"{str(message.get('role', 'user')).capitalize()}: {text}"
        for message in messages
        if (include_system or message.get("role") != "system")
        and (text := message_text(message)).strip()
    ]
    formatted = "\n".join(lines)
    return formatted if do_continue else f"{formatted}\nAssistant:"
