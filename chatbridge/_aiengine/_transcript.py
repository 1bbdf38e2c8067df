"""What an AI Engine chat request carries: the transcript and the new message. Pure.

Every turn sends the whole transcript in ``messages`` (docs/protocol-ai-engine.md,
"Conversation history" and "The bot's limits") and never
``previousResponseId``: the browser of the current generation chains the model provider's
stored response instead, which needs state at the model provider, on the site and in the
client; the transcript needs none, so it survives a fail-over to another site, a fleet of
processes and a site that forgot. It starts with the bot's start sentence, as the browser's
does.

The bot's own limits are honoured before anything is sent:

* ``textInputMaxLength``: a longer new message is the caller's error
  (:class:`InvalidRequestError`), never the site's vague "Sorry, your query has been
  rejected." after a request.
* ``maxMessages``: the plugin keeps the first message and the last ``maxMessages`` of the rest
  (some of its engines keep only the last ``maxMessages``). A longer transcript is folded, so
  nothing is dropped unseen: the oldest turns go, as lines, into one system message first,
  followed by the newest ``maxMessages - 1`` messages: every engine keeps all of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._exceptions import InvalidRequestError
from .._prompt import find_last_user, message_text
from .._types import Messages
from ._page import ChatConfig

__all__ = ["Prepared", "Split", "prepare", "split_messages"]

#: Roles the plugin forwards to the model as they are; ``developer`` is a system message,
#: anything else (``tool``…) becomes a user line naming its role.
_ROLES = frozenset({"system", "user", "assistant"})
#: What PHP's ``trim`` removes before the plugin measures the new message.
_PHP_SPACE = " \t\n\r\0\x0b"
_FOLDED_HEADING = "Earlier in this conversation:"


@dataclass(frozen=True, slots=True)
class Prepared:
    """``messages`` as sent (before the new message), the new message, and how many earlier
    messages were folded into the first one to fit ``maxMessages``."""

    messages: list[dict[str, str]]
    new_message: str
    folded: int = 0


@dataclass(frozen=True, slots=True)
class Split:
    """The caller's messages as the site takes them: the earlier ones and the new one."""

    earlier: list[dict[str, str]]
    new_message: str


def _turn(role: str, text: str) -> dict[str, str]:
    if role in _ROLES:
        return {"role": role, "content": text}
    if role == "developer":
        return {"role": "system", "content": text}
    return {"role": "user", "content": f"{role.capitalize()}: {text}"}


def split_messages(messages: Messages) -> Split:
    """The earlier messages and the new one (the last user message's text); the caller's
    mistakes (no user message, an empty one, a prefill to continue) are refused here."""
    roles, last = find_last_user(messages)
    if any(role != "system" for role in roles[last + 1 :]):
        raise InvalidRequestError(
            "an AI Engine site answers the last user message: nothing but system messages "
            "may follow it (it cannot continue a partial answer)",
            param="messages",
        )
    new_message = message_text(messages[last])
    if not new_message.strip(_PHP_SPACE):
        raise InvalidRequestError("the last user message has no text", param="messages")
    order = [*range(last), *range(last + 1, len(messages))]
    earlier = [_turn(roles[i], text) for i in order if (text := message_text(messages[i])).strip()]
    return Split(earlier, new_message)


def _fold(transcript: list[dict[str, str]], max_messages: int) -> tuple[list[dict[str, str]], int]:
    """At most ``max_messages`` messages: the oldest folded into one system message first."""
    if len(transcript) <= max_messages:
        return transcript, 0
    keep = max(max_messages - 1, 0)
    head, tail = transcript[: len(transcript) - keep], transcript[len(transcript) - keep :]
    systems = [turn["content"] for turn in head if turn["role"] == "system"]
    lines = [
        f"{turn['role'].capitalize()}: {turn['content']}"
        for turn in head
        if turn["role"] != "system"
    ]
    text = "\n\n".join([*systems, "\n".join([_FOLDED_HEADING, *lines])] if lines else systems)
    return [{"role": "system", "content": text}, *tail], len(head)


def prepare(split: Split, config: ChatConfig) -> Prepared:
    """The request's transcript and new message for ``config``'s bot, or the caller's error."""
    earlier, new_message = split.earlier, split.new_message
    cap = config.text_input_max_length
    length = len(new_message.strip(_PHP_SPACE))
    if cap is not None and length > cap:
        raise InvalidRequestError(
            f"the message is {length} characters long; this site's chat takes at most {cap} "
            "(its textInputMaxLength)",
            code="message_too_long",
            param="messages",
        )
    start = [{"role": "assistant", "content": config.start_sentence}]
    transcript = [*start, *earlier] if config.start_sentence else earlier
    folded, count = _fold(transcript, config.max_messages)
    return Prepared(folded, new_message, count)
