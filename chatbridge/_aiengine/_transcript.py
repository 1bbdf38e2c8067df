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
  followed by the newest ``maxMessages - 1`` messages: every engine keeps all of it. The fold
  is said (``Prepared.trimmed``: a warning, and the caller's ``chatbridge.history``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .._exceptions import InvalidRequestError
from .._prompt import check_sendable, find_last_user, message_text
from .._state._book import TranscriptDigest
from .._types import HistoryTrimmed, Messages
from ._page import ChatConfig

__all__ = ["Prepared", "Split", "prepare", "split_messages"]

#: Roles the plugin forwards to the model as they are; ``developer`` is a system message,
#: anything else (``tool``…) becomes a user line naming its role.
_ROLES = frozenset({"system", "user", "assistant"})
#: What PHP's ``trim`` removes before the plugin measures the new message.
_PHP_SPACE = " \t\n\r\0\x0b"
_FOLDED_HEADING = "Earlier in this conversation:"


@dataclass(slots=True)
class Prepared:
    """``messages`` as sent (before the new message), the new message, and how many earlier
    messages were folded into the first one to fit ``maxMessages``."""

    messages: list[dict[str, str]]
    new_message: str
    folded: int = 0
    #: What the caller is told of the fold (``None``: nothing was folded).
    trimmed: HistoryTrimmed | None = None


@dataclass(slots=True)
class Split:
    """The caller's messages as the site takes them: the earlier ones and the new one; and
    what the conversation book files them under (``chatbridge._state._book``): the digest of
    the messages before the new one (``earlier_key``, ``None`` for a first message), and the
    digest of them all (``digest``), which the answer extends."""

    earlier: list[dict[str, str]]
    new_message: str
    earlier_key: bytes | None = None
    digest: TranscriptDigest = field(default_factory=TranscriptDigest)


def _turn(role: str, text: str) -> dict[str, str]:
    if role in _ROLES:
        return {"role": role, "content": text}
    if role == "developer":
        return {"role": "system", "content": text}
    return {"role": "user", "content": f"{role.capitalize()}: {text}"}


def _roles_and_texts(messages: Messages) -> tuple[list[str], list[str]]:
    """Each message's role and text, read once. The checks are ``check_sendable``'s (which
    words the error), made cheaply for the usual list of dicts of plain text."""
    if type(messages) is not list or not messages:
        check_sendable(messages)
    roles: list[str] = []
    texts: list[str] = []
    usual = True
    for message in messages:
        if type(message) is not dict and usual:
            check_sendable(messages)  # raises for what is not a mapping
            usual = False
        role, content = message.get("role", "user"), message.get("content")
        role = role if type(role) is str else str(role)
        text = content if type(content) is str else message_text(message)
        usual = usual and role.isascii() and text.isascii()
        roles.append(role)
        texts.append(text)
    if not usual:
        check_sendable(messages)  # a lone surrogate has no UTF-8 encoding
    return roles, texts


def _digests(
    roles: list[str], texts: list[str], last: int
) -> tuple[bytes | None, TranscriptDigest]:
    """``continued_key`` and the digest of the whole transcript, each message hashed once."""
    digest = TranscriptDigest()
    for index in range(last):
        digest.add(roles[index], texts[index])
    earlier_key = digest.copy().key() if last else None
    for index in range(last, len(roles)):
        digest.add(roles[index], texts[index])
    return earlier_key, digest


def split_messages(messages: Messages) -> Split:
    """The earlier messages and the new one (the last user message's text); the caller's
    mistakes (no user message, an empty one, a prefill to continue) are refused here."""
    roles, texts = _roles_and_texts(messages)
    if "user" not in roles:
        find_last_user(messages)  # (raises: the caller's error, worded once)
    last = len(roles) - 1 - roles[::-1].index("user")
    if last + 1 < len(roles) and any(role != "system" for role in roles[last + 1 :]):
        raise InvalidRequestError(
            "an AI Engine site answers the last user message: nothing but system messages "
            "may follow it (it cannot continue a partial answer)",
            param="messages",
        )
    new_message = texts[last]
    if not new_message.strip(_PHP_SPACE):
        raise InvalidRequestError("the last user message has no text", param="messages")
    earlier = [
        _turn(roles[index], text)
        for index, text in enumerate(texts)
        if index != last and text.strip()
    ]
    return Split(earlier, new_message, *_digests(roles, texts, last))


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
    if not count:
        return Prepared(folded, new_message)
    trimmed = HistoryTrimmed(0, 0, 0, None, folded=count, max_messages=config.max_messages)
    return Prepared(folded, new_message, count, trimmed)
