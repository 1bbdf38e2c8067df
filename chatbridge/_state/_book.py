"""Conversations filed by transcript, for callers that send the whole message list each turn
(the OpenAI style) without a conversation object. Both plugin engines keep one book per site.

* After each answer the conversation is filed under the transcript *including that answer*.
  A later call whose earlier messages are exactly that transcript takes the entry out of the
  book and continues it: each entry is continued at most once, so two calls can never both
  continue (or later share) it.
* A first message always starts a new conversation.
* If a second, identical transcript is filed while the first is still in the book (two users
  whose conversations are word for word the same, answers included), the transcript becomes
  ambiguous: neither entry is kept, and every later call continuing that transcript starts a
  fresh conversation. Nobody ever continues, restarts or replaces someone else's.

Given a shared state store (Redis), the book lives there, under the same rules: an entry is
filed under ``conv:<site>:<transcript digest>``, taken out atomically by the process that
continues it, and a second filing by another conversation leaves a tombstone (ambiguous).
Entries expire after ``STATE_CONVERSATION_TTL``; one that cannot be read back (corrupt, too
large) is a fresh conversation, as an unknown one is. What a conversation holds, how it is
made, named and encoded belongs to the engine (``new``, ``owner``, ``codec``).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from types import EllipsisType
from typing import Generic, TypeVar

from .._constants import MAX_CONVERSATIONS, STATE_CONVERSATION_TTL
from .._prompt import message_text
from .._types import Messages
from ._interface import StateStore

__all__ = ["Codec", "ConversationBook", "TranscriptDigest", "continued_key", "transcript_key"]

C = TypeVar("C")

#: How a conversation is written to and read back from a shared store.
Codec = tuple[Callable[[C], bytes], Callable[[bytes], "C | None"]]


def _framed(text: str) -> bytes:
    data = text.encode("utf-8", "surrogatepass")
    return len(data).to_bytes(8, "big") + data


_ROLES = {role: _framed(role) for role in ("system", "user", "assistant")}


class TranscriptDigest:
    """:func:`transcript_key` built one message at a time, so that a turn hashes each of its
    messages once: :meth:`copy` keeps the digest of what came so far (the key the turn
    continues), :meth:`add` goes on (the new message, then the answer)."""

    __slots__ = ("_hash",)

    def __init__(self, state: hashlib.blake2b | None = None) -> None:
        self._hash = state if state is not None else hashlib.blake2b(digest_size=20)

    def add(self, role: str, text: str) -> None:
        """One message (its role and text), length-prefixed: no two transcripts collide."""
        update = self._hash.update
        update(_ROLES.get(role) or _framed(role))
        update(_framed(text))

    def copy(self) -> TranscriptDigest:
        return TranscriptDigest(self._hash.copy())

    def key(self) -> bytes:
        return self._hash.digest()


def transcript_key(messages: Messages) -> bytes:
    """A digest of roles and texts: equal only for equal transcripts (no hash collisions
    between two users' different conversations)."""
    digest = TranscriptDigest()
    for message in messages:
        digest.add(str(message.get("role", "user")), message_text(message))
    return digest.key()


def continued_key(messages: Messages) -> bytes | None:
    """The key of the transcript ``messages`` continue: everything before the last user
    message (``None`` for a first message)."""
    roles = [str(m.get("role", "user")) for m in messages]
    last_user = len(roles) - 1 - roles[::-1].index("user") if "user" in roles else 0
    return transcript_key(messages[:last_user]) if last_user else None


class ConversationBook(Generic[C]):
    """Conversations filed by transcript, least recently filed dropped past ``size``; see the
    module docstring for the rules. ``new()`` makes a fresh conversation; ``owner(c)`` names
    one (two filings by different owners make a transcript ambiguous)."""

    def __init__(
        self,
        new: Callable[[], C],
        owner: Callable[[C], str],
        size: int = MAX_CONVERSATIONS,
        *,
        state: StateStore | None = None,
        site: str = "",
        codec: Codec[C] | None = None,
    ) -> None:
        """``state`` shared (Redis): conversations are filed there, written and read with
        ``codec`` (the engine's encoder and decoder)."""
        self._new = new
        self._owner = owner
        self._size = size
        self._entries: OrderedDict[bytes, C | None] = OrderedDict()
        self._fleet = state if state is not None and state.shared and codec else None
        self._codec = codec
        self._site = site

    async def take(self, messages: Messages, key: bytes | EllipsisType | None = ...) -> C:
        """:meth:`find`, in the shared store when there is one. ``key``: the digest of what
        ``messages`` continue (:func:`continued_key`; ``None`` for a first message), when
        the caller has it already."""
        if key is ...:
            key = continued_key(messages)
        if self._fleet is None or self._codec is None:
            return self.find(messages, key)
        decode = self._codec[1]
        if key is None:
            return self._new()
        raw = await self._fleet.take(f"conv:{self._site}:{key.hex()}")
        payload = (raw or b"").partition(b"|")[2]
        found = decode(payload) if payload else None
        return found if found is not None else self._new()

    async def keep(
        self, messages: Messages, answer: str, conversation: C, *, key: bytes | None = None
    ) -> None:
        """:meth:`file`, in the shared store when there is one. ``key``: the transcript's
        digest with the answer, when the caller has it already."""
        if key is None:
            key = transcript_key([*messages, {"role": "assistant", "content": answer}])
        if self._fleet is None or self._codec is None:
            self.file(key, conversation)
            return
        encode = self._codec[0]
        # Filed before the answer is complete, never behind it: a caller that asks its next
        # turn the moment it has this answer (on another process) must find it. (Written
        # behind the answer, a fast client beat the write under load: measured, reverted.)
        await self._fleet.put_unique(
            f"conv:{self._site}:{key.hex()}",
            self._owner(conversation),
            encode(conversation),
            STATE_CONVERSATION_TTL,
        )

    def find(self, messages: Messages, key: bytes | EllipsisType | None = ...) -> C:
        """The conversation these messages continue (taken out of the book, so it is
        continued once), or a new one. ``key``: as for :meth:`take`."""
        if key is ...:
            key = continued_key(messages)
        if key is None:
            return self._new()
        found = self._entries.get(key)
        if found is None:  # never filed, already continued, or ambiguous (stays so)
            return self._new()
        del self._entries[key]
        return found

    def file(self, key: bytes, conversation: C) -> None:
        """File ``conversation`` under the transcript (with its answer) whose digest is
        ``key``; a transcript already in the book becomes ambiguous instead (neither is
        kept)."""
        if key in self._entries and self._entries[key] is not conversation:
            self._entries[key] = None  # ambiguous: names no conversation any more
        else:
            self._entries[key] = conversation
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
