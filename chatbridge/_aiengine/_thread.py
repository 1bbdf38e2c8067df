"""One conversation with one AI Engine site: its ``chatId`` and the visitor session the site
gave it. Nothing else is kept: the transcript travels with every turn.

The ``chatId`` stays the same for as long as the site has answered, under it, exactly the
turns that come before the new message. Otherwise a new one starts: with its Discussions
module on, the plugin looks a ``chatId`` up and may chain its own stored conversation at the
model provider (``previousResponseId``), which would then win over the transcript sent. A
conversation that failed over to another site and came back, or whose history the caller
edited, so gets a fresh ``chatId`` (and loses nothing: the transcript is sent whole).

The site sets its visitor cookie ``mwai_session_id`` on a conversation's first reply; it goes
back with that conversation only (one site session per conversation, as one browser tab),
never with another conversation's request.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import string

from .._constants import MAX_COOKIE_BYTES

__all__ = ["SESSION_COOKIE", "Thread", "decode_thread", "encode_thread", "session_cookie"]

SESSION_COOKIE = "mwai_session_id"
_ID_ALPHABET = string.ascii_lowercase + string.digits
_ID_LENGTH = 11
#: A site session value: a bare token, at most 128 characters.
_SESSION_VALUE = re.compile(r"[A-Za-z0-9_.-]{1,128}")
#: ``seen`` while a turn is in flight: equal to no transcript digest.
_IN_FLIGHT = b""


#: Each byte value to one of the 36 characters (a slight bias towards the first ones is
#: harmless: the id only has to differ from other conversations').
_TO_ALPHABET = bytes(ord(_ID_ALPHABET[value % len(_ID_ALPHABET)]) for value in range(256))
#: Chat ids made ahead from one read of the system's random source (64 at a time), taken
#: from the end (``list.pop`` is atomic: two threads never take the same). A forked child
#: starts without them: it must not hand out its parent's ids.
_ids: list[str] = []
_BATCH = 64
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_ids.clear)


def _new_chat_id() -> str:
    """11 random lowercase letters and digits, the shape of the browser's chat ids."""
    while True:
        try:
            return _ids.pop()
        except IndexError:
            text = secrets.token_bytes(_ID_LENGTH * _BATCH).translate(_TO_ALPHABET).decode()
            _ids.extend(text[i : i + _ID_LENGTH] for i in range(0, len(text), _ID_LENGTH))


def _valid_session(value: object) -> str | None:
    if isinstance(value, str) and _SESSION_VALUE.fullmatch(value):
        return value
    return None


class Thread:
    """A conversation's ``chatId``, its site session, and what the site answered under it."""

    __slots__ = ("chat_id", "seen", "session")

    def __init__(self, chat_id: str | None = None, session: str | None = None) -> None:
        self.chat_id = chat_id or _new_chat_id()
        self.session = session
        #: The digest of the transcript the site last answered under ``chat_id``
        #: (``chatbridge._state._book.transcript_key``), ``None`` before the first answer.
        self.seen: bytes | None = None

    def follow(self, earlier: bytes | None) -> None:
        """Before a turn whose earlier messages have the digest ``earlier``: keep the
        ``chatId`` only if the site answered exactly those under it."""
        if self.seen is not None and self.seen != earlier:
            self.chat_id = _new_chat_id()
        # Until this turn's answer is complete, nothing is known of what the site keeps:
        # a turn that fails leaves a value no transcript matches (the next gets a new id).
        self.seen = _IN_FLIGHT

    def answered(self, transcript: bytes) -> None:
        """The site answered under ``chat_id``; ``transcript`` is the digest of the whole
        conversation, answer included."""
        self.seen = transcript

    def adopt_session(self, set_cookie: list[str]) -> None:
        """Keep the site session a reply's ``Set-Cookie`` lines start (the first one only)."""
        if self.session is None:
            self.session = session_cookie(set_cookie)


def session_cookie(set_cookie: list[str]) -> str | None:
    """The value of ``mwai_session_id`` that ``Set-Cookie`` lines set, if one sets a valid
    one. Only that cookie's name and value are read (``name=value; attributes``): its value is
    a bare token (checked), so no quoting rule applies."""
    for line in set_cookie:
        if len(line) > MAX_COOKIE_BYTES:
            continue
        name, _, value = line.partition(";")[0].partition("=")
        if name.strip() == SESSION_COOKIE:
            return _valid_session(value.strip())
    return None


def encode_thread(thread: Thread) -> bytes:
    """A thread as a shared store keeps it (its digest is the store key, so not kept)."""
    return json.dumps({"chat_id": thread.chat_id, "session": thread.session}).encode()


def decode_thread(raw: bytes) -> Thread | None:
    """A thread some process filed, or ``None`` for anything not right."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    chat_id, session = data.get("chat_id"), data.get("session")
    if not (
        isinstance(chat_id, str)
        and 0 < len(chat_id) <= 64
        and chat_id.isascii()
        and chat_id.isalnum()
    ):
        return None
    if session is not None and _valid_session(session) is None:
        return None
    return Thread(chat_id, session)
