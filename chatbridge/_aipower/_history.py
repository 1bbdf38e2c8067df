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

from .._constants import FLATTENED_MESSAGE_BUDGET, FLATTENED_TURN_MIN_CHARS
from .._exceptions import InvalidRequestError
from .._prompt import find_last_user, format_prompt, message_text
from .._types import HistoryTrimmed, Message, Messages

__all__ = ["Split", "encode_history", "split_conversation"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_PERCENT_HEX = re.compile(r"%(?=[0-9A-Fa-f]{2})")
#: One encoder for every history (``json.dumps`` with options builds one per call).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class Split:
    """A conversation as the site sees it.

    ``turns``: earlier user/assistant turns, oldest first, as ``(role, text)``.
    ``message``: what goes into the ``message`` field now.
    ``flattened``: True when the turns could not be expressed as history, so the whole
    conversation is in ``message`` (``format_prompt`` style) and ``turns`` is empty.
    ``last_user``: the text of the last user message (what the user is asking now).
    ``whole``: the whole conversation, ``format_prompt`` style, for sites that must start a
    fresh server-side conversation; within ``FLATTENED_MESSAGE_BUDGET`` characters (long
    turns shortened in their middle, then the oldest dropped; system prompts and the current
    message kept), and ``trimmed``: what that left out (``None``: nothing).
    """

    turns: tuple[tuple[str, str], ...]
    message: str
    flattened: bool
    last_user: str
    whole: str
    trimmed: HistoryTrimmed | None = None


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
    whole, trimmed = _within_budget(messages, last, FLATTENED_MESSAGE_BUDGET)
    if last != len(messages) - 1 or any(role not in ("user", "assistant") for role, _ in prior):
        return Split((), whole, True, last_user, whole, trimmed)
    message = format_prompt([*systems, messages[last]]) if systems else last_user
    return Split(tuple(prior), message, False, last_user, whole, trimmed)


def _within_budget(
    messages: Messages, last_user: int, budget: int
) -> tuple[str, HistoryTrimmed | None]:
    """``format_prompt(messages)`` within ``budget`` characters, and what was left out.

    System prompts and the current message (with what follows it) always go whole. Of the
    earlier turns, the oldest are dropped only as far as even their shortest form does not
    fit; then every turn longer than a common cap (at least ``FLATTENED_TURN_MIN_CHARS``) is
    shortened to it, its middle left out, so the newest turns are kept and long ones lose
    their middle first. The result can still be longer than the budget when what must go
    whole is."""
    whole = format_prompt(messages)
    if len(whole) <= budget:
        return whole, None
    turns = [
        index
        for index in range(last_user)
        if messages[index].get("role") != "system" and message_text(messages[index]).strip()
    ]
    texts = [message_text(messages[index]) for index in turns]
    # What each turn's line costs besides its text: "Role: " and the line break.
    overheads = [len(_line(messages[index], "")) + 1 for index in turns]
    room = budget - (len(whole) - sum(overheads) - sum(len(text) for text in texts))
    first = _first_kept(texts, overheads, room)
    cap = _common_cap(texts[first:], room - sum(overheads[first:]))
    fitted = {index: _shorten(text, cap) for index, text in zip(turns, texts, strict=True)}
    kept = [
        {**message, "content": fitted[index]} if index in fitted else message
        for index, message in enumerate(messages)
        if index not in turns[:first]
    ]
    shortened = sum(1 for text in texts[first:] if len(text) > cap)
    removed = sum(len(text) for text in texts[:first])
    removed += sum(len(text) - _kept_chars(text, cap) for text in texts[first:] if len(text) > cap)
    trimmed = HistoryTrimmed(first, shortened, removed, budget) if first or shortened else None
    return format_prompt(kept), trimmed


def _line(message: Message, text: str) -> str:
    return f"{str(message.get('role', 'user')).capitalize()}: {text}"


def _first_kept(texts: list[str], overheads: list[int], room: int) -> int:
    """How many of the oldest turns must go: the fewest for the others to fit ``room`` with
    each long one at ``FLATTENED_TURN_MIN_CHARS``."""
    need = sum(
        cost + min(len(text), FLATTENED_TURN_MIN_CHARS)
        for text, cost in zip(texts, overheads, strict=True)
    )
    first = 0
    while first < len(texts) and need > room:
        need -= overheads[first] + min(len(texts[first]), FLATTENED_TURN_MIN_CHARS)
        first += 1
    return first


def _common_cap(texts: list[str], room: int) -> int:
    """The largest length (at least ``FLATTENED_TURN_MIN_CHARS``) such that ``texts``, each
    cut to it, fit ``room`` characters."""
    lengths = sorted(len(text) for text in texts)
    if not lengths or sum(lengths) <= room:
        return lengths[-1] if lengths else 0
    spent = 0
    for position, length in enumerate(lengths):
        longer = len(lengths) - position  # this one and all after it would be cut
        if spent + length * longer > room:
            return max(FLATTENED_TURN_MIN_CHARS, (room - spent) // longer)
        spent += length
    return lengths[-1]


def _cut_mark(removed: int) -> str:
    return f" […{removed:,} characters left out…] "


def _kept_chars(text: str, cap: int) -> int:
    """How many characters of ``text`` a cut to ``cap`` keeps (the mark takes the rest)."""
    keep = cap - len(_cut_mark(len(text) - cap))
    while keep + len(_cut_mark(len(text) - keep)) > cap and keep > 0:
        keep -= 1
    return max(keep, 0)


def _shorten(text: str, cap: int) -> str:
    """``text`` in at most ``cap`` characters: its start and its end around a mark saying
    how much of its middle was left out (as is when it fits)."""
    if len(text) <= cap:
        return text
    keep = _kept_chars(text, cap)
    head = keep - keep // 2
    return text[:head] + _cut_mark(len(text) - keep) + text[len(text) - keep // 2 :]


def _clean(text: str) -> str:
    text = _CONTROL.sub(" ", text.replace("\\", ""))
    text = text.replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    return _PERCENT_HEX.sub("% ", text).strip()


def encode_history(turns: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> str:
    """``wpaicg_chat_history`` for legacy 1.8+: a backslash-free JSON array (``[]`` if none)."""
    if not turns:  # a first message: no history
        return "[]"
    items = []
    for index, (role, text) in enumerate(turns, start=1):
        clean = _clean(text)
        if role == "user":
            items.append({"id": index, "text": f"Human: {clean}"})
        else:
            # The server removes every "AI: " inside an assistant text; keep the words.
            items.append({"id": index, "text": "AI: " + clean.replace("AI: ", "AI : ")})
    encoded = _ENCODER.encode(items)
    if "\\" in encoded:  # cannot happen after _clean; guards the server's backslash deletion
        raise ValueError("encoded history contains a backslash")
    return encoded
