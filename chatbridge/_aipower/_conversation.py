"""Conversation identity: what must stay the same from one message to the next.

Legacy 1.8+ sites want a stable ``wpaicg_chat_client_id`` (their guest token counter is keyed
by it); 1.7 sites keep history in cookies they set; AIPKit sites keep it on the server under
``session_id`` + ``conversation_uuid``. A :class:`Conversation` holds all of these.

Two callers never share a server-side conversation, a client id or a guest quota unless
they pass the same :class:`Conversation`. Callers that pass the whole message list each time
(the OpenAI style) may go without one: the site client's book
(``chatbridge._state._book``) finds the conversation a transcript continues, once. A fresh
conversation still carries the whole transcript: as the history field (1.8+), or flattened
into its first message (1.7, AIPKit), so no turn is lost; only the site-side identity is new.

A server that must keep a site-side conversation for each of its users across turns holds
one :class:`Conversation` per user conversation and passes it. In a shared store an entry
holds the client id, the 1.7 cookie jar, the AIPKit session and conversation ids and the
turns the site holds (``_shared``).
"""

from __future__ import annotations

import secrets
import string
import uuid

import aiohttp

from .._http._cookies import Jar, JarToBe
from ._history import Split

__all__ = ["Conversation"]

_ALNUM = string.ascii_letters + string.digits
#: Each random byte to one of ``_ALNUM`` (``byte % 62``), for ``bytes.translate``.
_TO_ALNUM = bytes(ord(_ALNUM[byte % len(_ALNUM)]) for byte in range(256))
_CLIENT_ID_COOKIE = "wpaicg_chat_client_id"


class Conversation:
    """One conversation with one site. Pass it as ``conversation=`` to keep state explicitly."""

    def __init__(self) -> None:
        self.client_id = secrets.token_bytes(10).translate(_TO_ALNUM).decode("ascii")
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
        return self._own_jar()

    def _own_jar(self) -> aiohttp.CookieJar:
        """The conversation's cookie jar, made on first use."""
        if self._cookie_jar is None:
            self._cookie_jar = aiohttp.CookieJar(unsafe=True)
        return self._cookie_jar

    def jar(self) -> Jar:
        """The jar a request of this conversation sends and keeps cookies with: its own, or
        until a reply sets a cookie, one to be made then (most sites set none on a chat
        reply, and a jar costs more to make than the rest of the conversation)."""
        jar = self._cookie_jar
        return jar if jar is not None else JarToBe(self._own_jar)

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
