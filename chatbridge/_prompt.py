"""Turning a list of messages into one prompt string (``format_prompt``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ._exceptions import InvalidRequestError
from ._types import Message, Messages

__all__ = ["check_sendable", "find_last_user", "format_prompt", "message_text"]


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


def check_sendable(messages: Messages) -> None:
    """The caller's own input, refused typed (``InvalidRequestError``, also a ValueError)
    before anything is sent to a site: no messages, a message that is not a mapping, or text
    that cannot be sent at all (a lone surrogate has no UTF-8 encoding)."""
    if not isinstance(messages, list | tuple) or not messages:
        raise InvalidRequestError("messages must be a non-empty list", param="messages")
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise InvalidRequestError(
                f"messages[{index}] must be a mapping with 'role' and 'content'",
                param=f"messages[{index}]",
            )
        try:
            message_text(message).encode("utf-8")
            str(message.get("role", "user")).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidRequestError(
                f"messages[{index}] holds text that cannot be encoded "
                f"(a lone surrogate at position {exc.start})",
                param=f"messages[{index}].content",
            ) from None


def find_last_user(messages: Messages) -> tuple[list[str], int]:
    """The messages' roles and where the last user message is, once :func:`check_sendable`
    passed; no user message at all is the caller's mistake (``InvalidRequestError``)."""
    check_sendable(messages)
    roles = [str(m.get("role", "user")) for m in messages]
    if "user" not in roles:
        raise InvalidRequestError(
            "messages must contain at least one user message", param="messages"
        )
    return roles, len(roles) - 1 - roles[::-1].index("user")
