"""``POST …/mwai-ui/v1/chats/submit``: the chat, in the order the plugin checks things
(docs/protocol-ai-engine.md, "Sending a message" and "Failures a client meets"): the REST nonce
(WordPress, before the plugin), the body, the bot, the message length, then (streaming headers
already sent) the Security module and the Pro limits, the model, and the reply."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .._call import JSON, Call, EventStream, StreamCut, cut_response
from .._php import wp_json
from .._state import client_ip
from ._answer import (
    content_frame,
    end_frame,
    engine_answer,
    error_frame,
    final_reply,
    pieces,
    side_frame,
)
from ._state import Discussion, EngineState

__all__ = ["SESSION_COOKIE", "handle_submit"]

SESSION_COOKIE = "mwai_session_id"
REJECTED = "Sorry, your query has been rejected."
SECURITY_REJECTED = "Your query has been rejected."
_HEADERS_SENT = (
    "Headers already sent in /var/www/html/wp-content/plugins/ai-engine/classes/core.php on "
    "line 412. Cannot start streaming."
)
Turn = tuple[str, str]


class Refused(Exception):
    """The plugin threw: an error frame when streaming, else ``status`` and the message."""

    def __init__(self, message: str, status: int = 500) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(slots=True)
class Submit:
    """One submit as the plugin reads it."""

    bot: str
    message: str
    chat_id: str
    stream: bool
    messages: list[Turn]
    session: str
    nonce_age: int
    history: list[Turn] = field(default_factory=list)


def _turns(value: Any) -> list[Turn]:
    """``messages`` as ``set_messages`` keeps them: role and content, nothing else."""
    if not isinstance(value, list):
        return []
    return [
        (str(item.get("role")), str(item.get("content") or ""))
        for item in value
        if isinstance(item, dict) and "role" in item
    ]


def _kept(state: EngineState, submit: Submit) -> list[Turn]:
    """What the model sees before the new message: a stored discussion (3.6 with
    Discussions chains it by ``chatId``), else the first message and the last
    ``maxMessages`` of the rest (``final_checks``)."""
    stored = state.discussions.get(submit.chat_id) if state.g3 and state.cfg.discussions else None
    if stored is not None:
        return list(stored.turns)
    first, rest = submit.messages[:1], submit.messages[1:]
    return first + rest[-state.cfg.max_messages :]


def _allowed(state: EngineState, call: Call, submit: Submit) -> None:
    """``mwai_ai_allowed``: the Security module, then the Pro limits."""
    cfg = state.cfg
    if client_ip(call.request) in cfg.banned_ips:
        raise Refused(SECURITY_REJECTED)
    words = [re.escape(word) for word in cfg.banned_words if word]
    if words and re.search(rf"\b(?:{'|'.join(words)})\b", submit.message, re.IGNORECASE):
        raise Refused(SECURITY_REJECTED)
    limit = cfg.guest_message_limit
    used = state.session_messages.get(submit.session, 0)
    if call.fault == "limit" or (limit is not None and used >= limit):
        raise Refused(cfg.limit_message)
    if cfg.upstream_error is not None:
        prefix = "OpenAI (Responses API): Error: " if state.g3 else "From OpenAI: Error: "
        raise Refused(prefix + cfg.upstream_error)


def _reply(state: EngineState, submit: Submit, text: str, fault: str | None) -> dict[str, Any]:
    final = final_reply(state.cfg, submit.history, submit.message, text)
    if fault == "end_differs":  # a filter on the site rewrote the model's text
        final["reply"] = text.replace("Echo:", "Echo (edited):", 1)
    if state.g3 and submit.nonce_age == 2:  # 3.6: the nonce is in its second half-life
        state.stats.new_tokens += 1
        final["new_token"] = state.nonce()
    return final


def _remember(state: EngineState, submit: Submit, final: dict[str, Any]) -> None:
    state.stats.answers += 1
    state.session_messages[submit.session] = state.session_messages.get(submit.session, 0) + 1
    if state.g3 and state.cfg.discussions:
        turns = [*submit.history, ("user", submit.message), ("assistant", str(final["reply"]))]
        state.discussions[submit.chat_id] = Discussion(turns, str(final.get("responseId")))


async def _stream(state: EngineState, call: Call, submit: Submit) -> web.StreamResponse:
    stream = call.stream = EventStream(call)
    state.stats.stream_requests += 1
    fault = call.fault
    try:
        if fault == "php_warning":  # the plugin finds its headers sent and says so
            raise Refused(_HEADERS_SENT)
        _allowed(state, call, submit)
        text, turns = engine_answer(submit.message, submit.history, state.cfg, submit.bot)
        state.stats.last_history_turns = turns
        if state.cfg.event_logs or fault == "thinking":
            await stream.send(side_frame("status", "Generating response..."))
        for index, piece in enumerate(pieces(text)):
            if fault == "thinking" and index % 2:
                await stream.send(side_frame("thinking", "(thinking about the next word)"))
            await stream.send(content_frame(piece))
        final = _reply(state, submit, text, fault)
        _remember(state, submit, final)
        if fault != "no_end":  # without it: the PHP worker died after the text
            await stream.send(end_frame(final))
    except Refused as refusal:
        state.stats.errors += 1
        try:
            await stream.send(error_frame(refusal.message))
        except StreamCut:
            return await cut_response(call)
    except StreamCut:
        return await cut_response(call)
    return await stream.finish()


def _whole(state: EngineState, call: Call, submit: Submit) -> web.Response:
    try:
        _allowed(state, call, submit)
    except Refused as refusal:
        state.stats.errors += 1
        return call.json({"success": False, "message": refusal.message}, status=refusal.status)
    text, turns = engine_answer(submit.message, submit.history, state.cfg, submit.bot)
    state.stats.last_history_turns = turns
    final = _reply(state, submit, text, call.fault)
    _remember(state, submit, final)
    return call.json(final)


def _refuse_early(state: EngineState, call: Call, submit: Submit) -> web.Response:
    """A refusal thrown before the streaming headers: a frame labelled JSON when streaming
    (the plugin echoes the frame, PHP's header stays), a 500 when not."""
    state.stats.errors += 1
    if submit.stream:
        return call.reply(error_frame(REJECTED), content_type=JSON)
    return call.json({"success": False, "message": REJECTED}, status=500)


def _read(state: EngineState, call: Call, body: Any, nonce_age: int) -> Submit | None:
    params = body if isinstance(body, dict) else {}
    bot = params.get("botId") or params.get("customId")
    message = str(params.get("newMessage") or "").strip(" \t\n\r\0\x0b")
    if not bot or not message:
        return None
    cookie = call.request.cookies.get(SESSION_COOKIE)
    session = cookie or state.new_session()
    if cookie is None:
        call.cookies.append((SESSION_COOKIE, session, 0))
    return Submit(
        bot=str(bot),
        message=message,
        chat_id=str(params.get("chatId") or "default"),
        stream=bool(params.get("stream")),
        messages=_turns(params.get("messages")),
        session=session,
        nonce_age=nonce_age,
    )


async def handle_submit(
    state: EngineState, call: Call, body: Any, nonce_age: int
) -> web.StreamResponse:
    """The submit after WordPress accepted its nonce (``nonce_age``: 1 or 2 ticks old)."""
    state.stats.chat_requests += 1
    if isinstance(body, dict):  # recorded as text, for tests: what the plugin was sent
        call.record.fields = {
            str(k): v if isinstance(v, str) else json.dumps(v) for k, v in body.items()
        }
    call.record.fields["cookie"] = call.request.cookies.get(SESSION_COOKIE, "")
    submit = _read(state, call, body, nonce_age)
    if submit is None:  # basics_security_check
        state.stats.errors += 1
        return call.json({"success": False, "message": REJECTED}, status=403)
    cfg = state.cfg
    known = {cfg.bot_id, *cfg.extra_bots}
    if submit.bot not in known:
        if not state.g3:  # 2.4 finds no chatbot; 3.6 falls back to the default one
            return _refuse_early(state, call, submit)
        submit.bot = cfg.bot_id
    cap = cfg.text_input_max_length
    if cap is not None and len(submit.message) > cap:
        return _refuse_early(state, call, submit)
    submit.history = _kept(state, submit)
    if submit.stream:
        return await _stream(state, call, submit)
    return _whole(state, call, submit)  # (a PHP warning goes before it: ``Call.reply``)


def json_error(call: Call, code: str, message: str, status: int) -> web.Response:
    """A WordPress REST error (``WP_Error`` as JSON)."""
    return call.reply(
        wp_json({"code": code, "message": message, "data": {"status": status}}),
        status=status,
        content_type=JSON,
    )
