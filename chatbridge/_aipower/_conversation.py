"""Conversation identity: what must stay the same from one message to the next.

Legacy 1.8+ sites want a stable ``wpaicg_chat_client_id`` (their guest token counter is keyed
by it); 1.7 sites keep history in cookies they set; AIPKit sites keep it on the server under
``session_id`` + ``conversation_uuid``. A :class:`Conversation` holds all of these.

Callers that pass the whole message list each time (the OpenAI style) need not manage one: a
conversation is found again by its opening messages, which do not change as it grows.
"""

from __future__ import annotations

import secrets
import string
import uuid
from collections import OrderedDict

import aiohttp

from .._prompt import message_text
from .._types import Messages

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
        #: The turns the *site* holds for this conversation (1.7 cookies, AIPKit server).
        self.server_turns: list[tuple[str, str]] = []
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
        self.server_turns = []


class ConversationBook:
    """Conversations by their opening messages, least recently used dropped past ``size``."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._entries: OrderedDict[int, Conversation] = OrderedDict()

    @staticmethod
    def _key(messages: Messages) -> int:
        opening: list[tuple[str, str]] = []
        for message in messages:
            role = str(message.get("role", "user"))
            opening.append((role, message_text(message)))
            if role == "user":
                break
        # str hashes are salted per process (PYTHONHASHSEED), so keys differ between
        # processes; a collision could only merge two conversations' client ids, never
        # their history (the client checks what the site holds before relying on it).
        return hash(tuple(opening))

    def find(self, messages: Messages) -> Conversation:
        key = self._key(messages)
        conversation = self._entries.get(key)
        if conversation is None:
            conversation = self._entries[key] = Conversation()
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(key)
        return conversation
