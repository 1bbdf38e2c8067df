"""How a legacy chat-model bot answers: a whole text (JSON replies) or OpenAI chunk lines
(docs/protocol-ai-power.md, "Legacy streams"), and the plugin's word-splitter for upstream
errors ("Errors inside a legacy stream")."""

from __future__ import annotations

import json

from ._call import EventStream
from ._history import Turn
from ._php import wp_json
from ._responder import (
    UpstreamError,
    delta_text,
    local_answer,
    raise_configured_failure,
    split_words,
)
from ._state import SiteState

STREAM_MODEL = "gpt-4o-mini-2024-07-18"


def flag_line(msg: str, flag: str) -> bytes:
    """A flag event sent before any upstream call: ``data: {"msg":…,"<flag>":true}``."""
    return b"data: " + wp_json({"msg": msg, flag: True}) + b"\n\n"


def _chunk(cid: str, created: int, delta: dict[str, str], finish: str | None = None) -> bytes:
    obj = {
        "id": cid, "object": "chat.completion.chunk", "created": created, "model": STREAM_MODEL,
        "system_fingerprint": "fp_local",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"


async def error_words(es: EventStream, err: UpstreamError, repeat: int) -> None:
    """The plugin's word-splitter: contents are not JSON-escaped, no ``[DONE]``."""
    words = err.message.split(" ")
    for _ in range(1 if err.exception else repeat):
        for i, word in enumerate(words):
            content = (word if i == 0 else " " + word).encode("utf-8", "replace")
            await es.send(b'event: message\ndata: {"choices":[{"delta":{"content":"'
                          + content + b'"}}]}\n\n')
        if err.exception:
            await es.send(b"data: [LIMITED]\n\n")
        else:
            await es.send(b'data: {"choices":[{"finish_reason":"stop"}]}\n\n')


async def whole_answer(state: SiteState, history: list[Turn], message: str) -> str:
    """The whole answer (local responder or upstream); raises :class:`UpstreamError`."""
    cfg = state.cfg
    raise_configured_failure(cfg)
    if state.upstream is not None and state.session is not None:
        msgs = state.upstream.messages(cfg.greeting, history, message)
        return await state.upstream.complete(state.session, msgs)
    return local_answer(message, history)


async def stream_answer(
    state: SiteState, es: EventStream, history: list[Turn], message: str, log_id: int
) -> str:
    """Stream the answer as OpenAI chunks ending in ``[DONE]``; returns its text."""
    cid = f"chatcmpl-local{log_id:015d}"
    created = int(state.clock.now())
    cfg = state.cfg
    if cfg.upstream_error is None and state.upstream is not None and state.session is not None:
        msgs = state.upstream.messages(cfg.greeting, history, message)
        parts: list[str] = []
        async for line in state.upstream.stream_lines(state.session, msgs):
            parts.append(delta_text(line))
            await es.send(line + b"\n\n")
        return "".join(parts)
    text = await whole_answer(state, history, message)
    await es.send(_chunk(cid, created, {"role": "assistant", "content": ""}))
    for piece in split_words(text):
        await es.send(_chunk(cid, created, {"content": piece}))
    await es.send(_chunk(cid, created, {}, "stop"))
    await es.send(b"data: [DONE]\n\n")
    return text
