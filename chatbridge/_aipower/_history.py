"""Splitting a conversation into "history + current message", and encoding the history the
way the legacy server can read it (docs/protocol-ai-power.md, "History the client sends" and
"Encoding history safely"). Pure.

The 1.8+ server deletes every backslash from ``wpaicg_chat_history`` before decoding it, so
the encoded JSON must contain none: no escaped quotes, no ``\\n``, no ``\\u`` escapes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .._constants import FLATTENED_MESSAGE_BUDGET
from .._exceptions import InvalidRequestError
from .._prompt import find_last_user, format_prompt, message_text
from .._types import Messages

__all__ = ["Split", "encode_history", "split_conversation"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_PERCENT_HEX = re.compile(r"%(?=[0-9A-Fa-f]{2})")


@dataclass(frozen=True, slots=True)
class Split:
    """A conversation as the site sees it.

    ``turns``: earlier user/assistant turns, oldest first, as ``(role, text)``.
    ``message``: what goes into the ``message`` field now.
    ``flattened``: True when the turns could not be expressed as history, so the whole
    conversation is in ``message`` (``format_prompt`` style) and ``turns`` is empty.
    ``last_user``: the text of the last user message (what the user is asking now).
    ``whole``: the whole conversation, ``format_prompt`` style, for sites that must start a
    fresh server-side conversation; within ``FLATTENED_MESSAGE_BUDGET`` characters (the
    oldest turns dropped first, system prompts and the current message kept).
    """

    turns: tuple[tuple[str, str], ...]
    message: str
    flattened: bool
    last_user: str
    whole: str


def split_conversation(messages: Messages) -> Split:
    """History turns and the current message, keeping every turn and every system prompt.

    System messages cannot be sent as history (the server puts its own prompt first), so they
    travel in the message, ``format_prompt`` style. If anything follows the last user message,
    or a role other than user/assistant appears, the whole conversation is flattened.
    """
    roles, last = find_last_user(messages)
    last_user = message_text(messages[last])
    if not last_user.strip():
        raise InvalidRequestError("the last user message has no text", param="messages")
    systems = [m for m, role in zip(messages[:last], roles[:last], strict=True) if role == "system"]
    prior = [
        (role, message_text(m))
        for m, role in zip(messages[:last], roles[:last], strict=True)
        if role != "system" and message_text(m).strip()
    ]
    whole = _within_budget(messages, last, FLATTENED_MESSAGE_BUDGET)
    if last != len(messages) - 1 or any(role not in ("user", "assistant") for role, _ in prior):
        return Split((), whole, True, last_user, whole)
    message = format_prompt([*systems, messages[last]]) if systems else last_user
    return Split(tuple(prior), message, False, last_user, whole)


def _within_budget(messages: Messages, last_user: int, budget: int) -> str:
    """``format_prompt(messages)``, dropping the oldest turns before the current message
    until it fits ``budget`` characters. System prompts and the current message (and what
    follows it) are always kept, so the result can still be longer than the budget."""
    whole = format_prompt(messages)
    excess = len(whole) - budget
    if excess <= 0:
        return whole
    dropped: set[int] = set()
    for index in range(last_user):
        if excess <= 0:
            break
        message = messages[index]
        if message.get("role") == "system":
            continue
        text = message_text(message)
        if text.strip():  # a blank message is no line of the prompt
            excess -= len(f"{str(message.get('role', 'user')).capitalize()}: {text}") + 1
        dropped.add(index)
    return format_prompt([m for i, m in enumerate(messages) if i not in dropped])


def _clean(text: str) -> str:
    text = _CONTROL.sub(" ", text.replace("\\", ""))
    text = text.replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    return _PERCENT_HEX.sub("% ", text).strip()


def encode_history(turns: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> str:
    """``wpaicg_chat_history`` for legacy 1.8+: a backslash-free JSON array (``[]`` if none)."""
    items = []
    for index, (role, text) in enumerate(turns, start=1):
        clean = _clean(text)
        if role == "user":
            items.append({"id": index, "text": f"Human: {clean}"})
        else:
            # The server removes every "AI: " inside an assistant text; keep the words.
            items.append({"id": index, "text": "AI: " + clean.replace("AI: ", "AI : ")})
    encoded = json.dumps(items, ensure_ascii=False, separators=(",", ":"))
    if "\\" in encoded:  # cannot happen after _clean; guards the server's backslash deletion
        raise ValueError("encoded history contains a backslash")
    return encoded
