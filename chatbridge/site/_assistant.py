"""Assistants mode (the ``assistant`` option; docs/protocol-ai-power.md, "Assistants streams").

The conversation is the server-side thread named by the request's ``thread_id``; the client's
``wpaicg_chat_history`` is not used. Replies:

* JSON: the usual success shape plus ``"thread_id"`` (a new one, or the one sent, echoed);
* stream (``Connection: keep-alive``): ``event: thread_id`` when a thread was created, then
  ``event: thread.message.delta`` events (text in ``delta.content[0].text.value``), then
  ``event: done`` / ``data: [DONE]``. A failure is ``event: assistant_error`` with
  ``{"status":"error","msg":…}``, then ``event: done``.
"""

from __future__ import annotations

import json

from aiohttp import web

from ._call import Call, EventStream
from ._history import Turn
from ._php import esc_html, wp_json
from ._responder import (
    UpstreamError,
    delta_text,
    local_answer,
    raise_configured_failure,
    split_words,
)
from ._state import SiteState

#: Extra stream headers of Assistants mode.
ASSISTANT_STREAM_HEADERS = {"Connection": "keep-alive"}
DONE = b"event: done\ndata: [DONE]\n\n"


def message_delta(message_id: str, text: str) -> bytes:
    """One upstream ``thread.message.delta`` event, as the plugin forwards it."""
    obj = {
        "id": message_id, "object": "thread.message.delta",
        "delta": {"content": [{"index": 0, "type": "text",
                               "text": {"value": text, "annotations": []}}]},
    }
    data = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
    return b"event: thread.message.delta\ndata: " + data + b"\n\n"


def assistant_error(msg: str) -> bytes:
    return b"event: assistant_error\ndata: " + wp_json({"status": "error", "msg": msg}) + b"\n\n"


async def _whole(state: SiteState, turns: list[Turn], message: str) -> str:
    if state.upstream is not None and state.session is not None:
        msgs = state.upstream.messages(state.cfg.greeting, turns, message)
        return await state.upstream.complete(state.session, msgs)
    return local_answer(message, turns)


async def _stream(
    state: SiteState, es: EventStream, turns: list[Turn], message: str, message_id: str
) -> str:
    if state.upstream is not None and state.session is not None:
        msgs = state.upstream.messages(state.cfg.greeting, turns, message)
        parts: list[str] = []
        async for line in state.upstream.stream_lines(state.session, msgs):
            piece = delta_text(line)
            if piece:
                parts.append(piece)
                await es.send(message_delta(message_id, piece))
        return "".join(parts)
    text = local_answer(message, turns)
    for piece in split_words(text):
        await es.send(message_delta(message_id, piece))
    return text


async def assistant_reply(
    state: SiteState,
    call: Call,
    es: EventStream | None,
    *,
    sent_thread: str | None,
    message: str,
    client_id: str,
    log_id: int,
) -> web.StreamResponse:
    """Run the assistant on the thread and reply (JSON or the Assistants stream)."""
    cfg, stats = state.cfg, state.stats
    thread_id = ""
    try:
        # A configured failure (a bad key, say) fails before a thread can be created.
        raise_configured_failure(cfg)
        thread_id, turns, created = state.threads.open(sent_thread)
        call.record.history_turns = stats.last_history_turns = len(turns)
        if es is None:
            answer = await _whole(state, turns, message)
        else:
            if created:
                await es.send(b"event: thread_id\ndata: " + thread_id.encode() + b"\n\n")
            answer = await _stream(state, es, turns, message, f"msg_local{log_id:015d}")
    except UpstreamError as err:
        stats.errors += 1
        if es is None:
            return call.json({"status": "error", "msg": esc_html(err.message),
                              "greeting_message": cfg.greeting, "log": log_id})
        await es.send(assistant_error(esc_html(err.message)))
        await es.send(DONE)
        return await es.finish()
    stats.answers += 1
    state.threads.add(thread_id, message, answer)
    state.charge(client_id, message, answer)
    if es is not None:
        await es.send(DONE)
        return await es.finish()
    return call.json({"status": "success", "msg": "Something went wrong",
                      "greeting_message": cfg.greeting, "data": answer, "log": log_id,
                      "thread_id": thread_id})
