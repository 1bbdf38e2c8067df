"""The JSON body of a chat request (docs/protocol-ai-engine.md, "Sending a message"). Pure.

Its shape never changes, so it is written directly: each string through the ``json``
library's own string encoder, each id as ``json`` writes it. The bytes are exactly what
``json.dumps(body, ensure_ascii=False)`` makes of the same object (a test holds them to
it), for a quarter of the cost: ``json.dumps`` with an option builds an encoder for every
call and walks the object generically.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring

from ._page import ChatConfig, Id
from ._thread import Thread
from ._transcript import Prepared

__all__ = ["submit_body"]

_ENCODER = json.JSONEncoder(ensure_ascii=False)


def _id(value: Id | None) -> str:
    """A ``botId``, ``customId`` or ``contextId`` (a string or a number) as JSON."""
    if value is None:
        return "null"
    if type(value) is str:
        return encode_basestring(value)
    if type(value) is int:
        return int.__repr__(value)
    return _ENCODER.encode(value)  # a float, or a subclass: as json writes it


def _turns(messages: list[dict[str, str]]) -> str:
    return ", ".join(
        [
            f'{{"role": {encode_basestring(turn["role"])}, '
            f'"content": {encode_basestring(turn["content"])}}}'
            for turn in messages
        ]
    )


def submit_body(config: ChatConfig, thread: Thread, prepared: Prepared, stream: bool) -> bytes:
    """The body the plugin's browser sends (without its UI-only keys): the bot, the
    conversation, the transcript and the new message. The site session in it is the page's
    (G2) or the conversation's (G3)."""
    session = config.session if config.generation == "g2" else thread.session
    return (
        f'{{"botId": {_id(config.bot_id)}, "customId": {_id(config.custom_id)}, '
        f'"session": {_id(session)}, "chatId": {encode_basestring(thread.chat_id)}, '
        f'"contextId": {_id(config.context_id)}, "messages": [{_turns(prepared.messages)}], '
        f'"newMessage": {encode_basestring(prepared.new_message)}, '
        f'"newFileId": null, "newFileIds": null, "stream": {"true" if stream else "false"}}}'
    ).encode()
