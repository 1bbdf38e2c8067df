"""Conversation identity: what must stay the same from one message to the next.

Legacy 1.8+ sites want a stable ``wpaicg_chat_client_id`` (their guest token counter is keyed
by it); 1.7 sites keep history in cookies they set; AIPKit sites keep it on the server under
``session_id`` + ``conversation_uuid``. A :class:`Conversation` holds all of these.

Two callers never share a server-side conversation, a client id or a guest quota unless
they pass the same :class:`Conversation`. Callers that pass the whole message list each time
(the OpenAI style) may go without one, under these rules:

* After each answer the conversation is filed under the transcript *including that answer*.
  A later call whose earlier messages are exactly that transcript takes the entry out of the
  book and continues it: each entry is continued at most once, so two calls can never both
  continue (or later share) it.
* A first message always starts a new conversation: two users who both open with "hi" get
  two, with their own client ids.
* If a second, identical transcript is filed while the first is still in the book (two users
  whose conversations are word for word the same, answers included), the transcript becomes
  ambiguous: neither entry is kept, and every later call continuing that transcript starts a
  fresh conversation. Nobody ever continues, restarts or replaces someone else's.
* A fresh conversation still carries the whole transcript: as the history field (1.8+), or
  flattened into its first message (1.7, AIPKit), so no turn is lost; only the site-side
  identity is new.

A server that must keep a site-side conversation for each of its users across turns holds
one :class:`Conversation` per user conversation and passes it.

Given a shared state store (Redis), the book lives there, under the same rules: an entry
(client id, 1.7 cookie jar, AIPKit session and conversation ids, the turns the site holds) is
filed as JSON under ``conv:<site>:<transcript digest>``, taken out atomically by the process
that continues it (so a follow-up turn that lands on another process continues the same
site-side conversation, and still only once), and a second filing by another conversation
leaves a tombstone (ambiguous). Entries expire after ``STATE_CONVERSATION_TTL``; one that
cannot be read back (corrupt, too large) is a fresh conversation, as an unknown one is.
"""

from __future__ import annotations

import hashlib
import secrets
import string
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

import aiohttp

from .._constants import MAX_CONVERSATIONS, STATE_CONVERSATION_TTL
from .._prompt import message_text
from .._types import Messages
from ._history import Split

if TYPE_CHECKING:
    from .._state import StateStore

__all__ = ["Conversation", "ConversationBook"]

_ALNUM = string.ascii_letters + string.digits
_CLIENT_ID_COOKIE = "wpaicg_chat_client_id"


class Conversation:
    """One conversation with one site. Pass it as ``conversation=`` to keep state explicitly."""

    def __init__(self) -> None:
        self.client_id = "".join(_ALNUM[byte % len(_ALNUM)] for byte in secrets.token_bytes(10))
        self._session_id: str | None = None
        self._conversation_uuid: str | None = None
        self.thread_id: str | None = None
        #: The turns the *site* holds for this conversation, and which kind of site holds
        #: them ("1.7" cookies, "aipkit" server); empty when the site holds nothing.
        self.server_turns: list[tuple[str, str]] = []
        self.server_kind: str | None = None
        #: The last answer this conversation received.
        self.last_answer = ""
        self._cookie_jar: aiohttp.CookieJar | None = None

    @property
    def session_id(self) -> str:
        """AIPKit's guest session id (a UUID v4, made on first use)."""
        if self._session_id is None:
            self._session_id = str(uuid.uuid4())
        return self._session_id

    @property
    def conversation_uuid(self) -> str:
        """AIPKit's conversation id (a lowercase UUID, made on first use)."""
        if self._conversation_uuid is None:
            self._conversation_uuid = str(uuid.uuid4())
        return self._conversation_uuid

    @property
    def cookie_jar(self) -> aiohttp.CookieJar:
        if self._cookie_jar is None:
            self._cookie_jar = aiohttp.CookieJar(unsafe=True)
        return self._cookie_jar

    def message_for_site_history(self, split: Split, kind: str, limit: int) -> str:
        """The ``message`` for a site that holds the history itself (1.7, AIPKit).

        Only the new message when this very site already holds exactly the earlier turns and
        they fit in what it keeps; otherwise a fresh server-side conversation that gets the
        whole conversation flattened into its first message, so no turn is lost.
        """
        if (
            not split.flattened
            and self.server_kind == kind
            and list(split.turns) == self.server_turns
            and len(split.turns) <= limit
        ):
            return split.message
        self.restart_server_side()
        return split.whole

    def record(self, split: Split, answer: str, kind: str | None) -> None:
        """After an answer: what the site now holds (nothing, unless ``kind`` is given)."""
        self.last_answer = answer
        if kind is None or split.flattened:
            self.server_turns, self.server_kind = [], None
        else:
            self.server_turns = [*split.turns, ("user", split.last_user), ("assistant", answer)]
            self.server_kind = kind

    def restart_server_side(self) -> None:
        """Forget what the site holds: history cookies and the AIPKit conversation id. The
        guest identity (1.7's client-id cookie, our client id) stays: same user, new thread."""
        if self._cookie_jar is not None:  # in place: kept cookies keep their scope and expiry
            self._cookie_jar.clear(lambda cookie: cookie.key != _CLIENT_ID_COOKIE)
        self._conversation_uuid = None
        self.thread_id = None
        self.server_turns, self.server_kind = [], None


def _transcript_key(messages: Messages) -> bytes:
    """A digest of roles and texts: equal only for equal transcripts (no hash collisions
    between two users' different conversations)."""
    digest = hashlib.blake2b(digest_size=20)
    for message in messages:
        for part in (str(message.get("role", "user")), message_text(message)):
            data = part.encode("utf-8", "surrogatepass")
            digest.update(len(data).to_bytes(8, "big"))
            digest.update(data)
    return digest.digest()


#: How a conversation is written to and read back from a shared store.
Codec = tuple[Callable[["Conversation"], bytes], Callable[[bytes], "Conversation | None"]]

#: Marks a transcript filed twice: it names no conversation any more.
_AMBIGUOUS = None


class ConversationBook:
    """Conversations filed by transcript, least recently filed dropped past ``size``; see the
    module docstring for the rules."""

    def __init__(
        self,
        size: int = MAX_CONVERSATIONS,
        *,
        state: StateStore | None = None,
        site: str = "",
        codec: Codec | None = None,
    ) -> None:
        """``state`` shared (Redis): conversations are filed there, written and read with
        ``codec`` (``_shared``'s encoder and decoder, passed in so this module needs it not)."""
        self._size = size
        self._entries: OrderedDict[bytes, Conversation | None] = OrderedDict()
        self._fleet = state if state is not None and state.shared and codec else None
        self._codec = codec
        self._site = site

    async def take(self, messages: Messages) -> Conversation:
        """:meth:`find`, in the shared store when there is one."""
        if self._fleet is None or self._codec is None:
            return self.find(messages)
        decode_conversation = self._codec[1]
        key = self._continued_key(messages)
        if key is None:
            return Conversation()
        raw = await self._fleet.take(f"conv:{self._site}:{key.hex()}")
        payload = (raw or b"").partition(b"|")[2]
        found = decode_conversation(payload) if payload else None
        return found or Conversation()

    async def keep(self, messages: Messages, answer: str, conversation: Conversation) -> None:
        """:meth:`file`, in the shared store when there is one."""
        if self._fleet is None or self._codec is None:
            self.file(messages, answer, conversation)
            return
        encode_conversation = self._codec[0]
        key = _transcript_key([*messages, {"role": "assistant", "content": answer}])
        # Filed before the answer is complete, never behind it: a caller that asks its next
        # turn the moment it has this answer (on another process) must find it. (Written
        # behind the answer, a fast client beat the write under load: measured, reverted.)
        await self._fleet.put_unique(
            f"conv:{self._site}:{key.hex()}",
            conversation.client_id,
            encode_conversation(conversation),
            STATE_CONVERSATION_TTL,
        )

    @staticmethod
    def _continued_key(messages: Messages) -> bytes | None:
        roles = [str(m.get("role", "user")) for m in messages]
        last_user = len(roles) - 1 - roles[::-1].index("user") if "user" in roles else 0
        return _transcript_key(messages[:last_user]) if last_user else None

    def find(self, messages: Messages) -> Conversation:
        """The conversation these messages continue (taken out of the book, so it is
        continued once), or a new one."""
        key = self._continued_key(messages)
        if key is None:
            return Conversation()
        found = self._entries.get(key)
        if found is None:  # never filed, already continued, or ambiguous (stays so)
            return Conversation()
        del self._entries[key]
        return found

    def file(self, messages: Messages, answer: str, conversation: Conversation) -> None:
        """File ``conversation`` under the transcript that now ends with ``answer``; a
        transcript already in the book becomes ambiguous instead (neither is kept)."""
        key = _transcript_key([*messages, {"role": "assistant", "content": answer}])
        if key in self._entries and self._entries[key] is not conversation:
            self._entries[key] = _AMBIGUOUS
        else:
            self._entries[key] = conversation
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
