"""Conversation identity: what must stay the same from one message to the next.

Legacy 1.8+ sites want a stable ``wpaicg_chat_client_id`` (their guest token counter is keyed
by it); 1.7 sites keep history in cookies they set; AIPKit sites keep it on the server under
``session_id`` + ``conversation_uuid``. A :class:`Conversation` holds all of these.

Callers that pass the whole message list each time (the OpenAI style) need not manage one:
after each answer the conversation is filed under the transcript *including that answer*, and
a later call whose earlier messages are exactly that transcript continues it. A first message
always starts a new conversation, so two users who both open with "hi" never share one.
"""

from __future__ import annotations

import secrets
import string
import uuid
from collections import OrderedDict

import aiohttp

from .._constants import MAX_CONVERSATIONS
from .._prompt import message_text
from .._types import Messages
from ._history import Split

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
        old, self._cookie_jar = self._cookie_jar, None
        if old is not None:
            for cookie in old:
                if cookie.key == _CLIENT_ID_COOKIE:
                    self.cookie_jar.update_cookies({cookie.key: cookie})
        self._conversation_uuid = None
        self.thread_id = None
        self.server_turns, self.server_kind = [], None


def _transcript_key(messages: Messages) -> int:
    # str hashes are salted per process (PYTHONHASHSEED): keys mean nothing elsewhere.
    return hash(tuple((str(m.get("role", "user")), message_text(m)) for m in messages))


class ConversationBook:
    """Conversations filed by transcript, least recently filed dropped past ``size``."""

    def __init__(self, size: int = MAX_CONVERSATIONS) -> None:
        self._size = size
        self._entries: OrderedDict[int, Conversation] = OrderedDict()

    def find(self, messages: Messages) -> Conversation:
        """The conversation these messages continue (taken out of the book, so two calls
        cannot both continue it), or a new one."""
        roles = [str(m.get("role", "user")) for m in messages]
        last_user = len(roles) - 1 - roles[::-1].index("user") if "user" in roles else 0
        if last_user == 0:
            return Conversation()
        found = self._entries.pop(_transcript_key(messages[:last_user]), None)
        return found if found is not None else Conversation()

    def file(self, messages: Messages, answer: str, conversation: Conversation) -> None:
        """File ``conversation`` under the transcript that now ends with ``answer``."""
        key = _transcript_key([*messages, {"role": "assistant", "content": answer}])
        self._entries[key] = conversation
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
