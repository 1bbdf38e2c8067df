"""AIPKit (plugin 2.3+): nonce refresh, the message cache step and the GET SSE stream
(docs/protocol-ai-power.md, "AIPKit" and "Seen on real sites")."""

from __future__ import annotations

import re
import secrets
import string
from typing import Any

from aiohttp import web

from ._call import Call, EventStream, StreamCut, cut_response
from ._history import Turn
from ._markup import aipkit_bot_id
from ._nonce import AIPKIT_ACTION
from ._php import clean_utf8, has_invalid_utf8, intval, sanitize_key, wp_json
from ._responder import (
    UpstreamError,
    delta_text,
    estimate_tokens,
    local_answer,
    raise_configured_failure,
    split_words,
)
from ._state import CachedMessage, SiteState, client_ip

NONCE_REFRESH = "aipkit_get_frontend_chat_nonce"
CACHE = "aipkit_cache_sse_message"
STREAM = "aipkit_frontend_chat_stream"
AIPKIT_ACTIONS = frozenset({NONCE_REFRESH, CACHE, STREAM})

PREAMBLE = b":" + b" " * 4096 + b"\n\n"
_ALNUM = string.ascii_letters + string.digits
_NOT_KEY = re.compile(r"[^a-z0-9_\-]")

CACHE_NONCE_ERROR = (
    "Your session has expired or the request is invalid. Please refresh the page and try again."
)
STREAM_NONCE_ERROR = "Security check failed. Please refresh the page and try again."


def _fail(call: Call, status: int, message: str, code: str) -> web.Response:
    return call.json({"success": False, "data": {"message": message, "code": code}},
                     status=status)


async def handle_aipkit(state: SiteState, call: Call, *, foreign: bool) -> web.StreamResponse:
    """Dispatch one of the AIPKit guest actions."""
    if call.action == NONCE_REFRESH:
        state.stats.nonce_refreshes += 1
        if foreign:
            return _fail(call, 403, "This domain is not permitted to access the chatbot.",
                         "cors_denied")
        return call.json({"success": True, "data": {"nonce": state.clock.create(AIPKIT_ACTION)}})
    if call.action == CACHE:
        return _cache(state, call, foreign)
    try:
        return await _stream(state, call, foreign)
    except StreamCut:
        return await cut_response(call)


def _cache(state: SiteState, call: Call, foreign: bool) -> web.Response:
    """fn-ajax-cache-sse-message.php: cross-origin (bot > 0 only), nonce (POST, through
    ``sanitize_key``), then the message: invalid UTF-8 is emptied, NULs removed, nothing else."""
    state.stats.aipkit_cache_requests += 1
    post = call.post
    if foreign and abs(intval(post.get("bot_id", ""))) > 0:
        return _fail(call, 403, "Embed feature is not available with your current plan.",
                     "embed_not_available")
    nonce = post.get("_ajax_nonce")
    if nonce is None or not state.clock.verify(sanitize_key(nonce), AIPKIT_ACTION):
        state.stats.nonce_failures += 1
        return _fail(call, 403, CACHE_NONCE_ERROR, "nonce_failure_cache_sse")
    raw = post.get("message", "")
    message = "" if has_invalid_utf8(raw) else raw.replace("\0", "")
    if message in ("", "0") and not post.get("image_inputs"):  # PHP empty()
        return _fail(call, 400, "Data to cache (message or image) cannot be empty.",
                     "empty_data_to_cache")
    now = state.clock.now()
    cache = state.aipkit_cache
    if len(cache) > 1000:
        for key in [k for k, v in cache.items() if v.expires < now - 600]:
            del cache[key]
    key = "aipkit_sse_" + "".join(secrets.choice(_ALNUM) for _ in range(32))
    cache[key] = CachedMessage(message, now + state.cfg.aipkit_cache_ttl)
    return call.json({"success": True, "data": {"cache_key": key}})


def _event(name: str | None, data: dict[str, Any], event_id: str | None = None) -> bytes:
    head = b""
    if name:
        head += b"event: " + name.encode() + b"\n"
    if event_id:
        head += b"id: " + event_id.encode() + b"\n"
    return head + b"data: " + wp_json(data) + b"\n\n"


async def _error_then_done(state: SiteState, es: EventStream, text: str,
                           extra: dict[str, Any] | None = None) -> web.StreamResponse:
    state.stats.errors += 1
    data: dict[str, Any] = {"error": text, **(extra or {})}
    await es.send(_event("error", data, f"err-{int(state.clock.now())}"))
    await es.send(_event("done", {"finished": True}))
    return await es.finish()


def _problem(state: SiteState, call: Call, foreign: bool) -> tuple[str | None, str]:
    """Validate the stream request in the plugin's order (CORS for a bot, nonce, cache key,
    requirements); returns (error text, cached message)."""
    q = call.query
    if foreign and abs(intval(q.get("bot_id", ""))) > 0:
        return "This domain is not permitted to access the chatbot.", ""
    if not state.clock.verify(q.get("_ajax_nonce"), AIPKIT_ACTION):
        state.stats.nonce_failures += 1
        return STREAM_NONCE_ERROR, ""
    key = q.get("cache_key", "")
    if not key:
        return "Message cache key is missing.", ""
    entry = state.aipkit_cache.get(key)
    if entry is None:
        return "Message not found in cache.", ""
    if entry.expires < state.clock.now():
        return "Cached message has expired.", ""  # an expired entry stays (only reads delete)
    del state.aipkit_cache[key]  # read once
    if q.get("bot_id", "").strip() != str(aipkit_bot_id(state.cfg)):
        return "Invalid chatbot specified.", ""
    if not _NOT_KEY.sub("", q.get("conversation_uuid", "").lower()):
        return "Conversation ID is missing.", ""
    if not q.get("session_id", "").strip():
        return "Session ID is missing for guest.", ""
    if not entry.message.strip():
        return "Message or image cannot be empty.", ""
    return None, entry.message


async def _stream(state: SiteState, call: Call, foreign: bool) -> web.StreamResponse:
    stats, cfg, q = state.stats, state.cfg, call.query
    stats.chat_requests += 1
    stats.stream_requests += 1
    es = EventStream(call)
    call.stream = es
    await es.send(PREAMBLE)  # headers and padding go out before any check
    problem, message = _problem(state, call, foreign)
    if problem is not None:
        return await _error_then_done(state, es, problem)
    message = clean_utf8(message)
    session = q["session_id"].strip()
    if client_ip(call.request) in cfg.banned_ips:
        return await _error_then_done(state, es, "You are not allowed to access this feature.")
    banned = {w.lower() for w in cfg.banned_words}
    if banned and any(w in banned for w in message.lower().split(" ")):
        return await _error_then_done(state, es, "Your message contains prohibited words.")
    limit = cfg.guest_token_limit
    if limit is not None and state.token_usage.get(session, 0) > limit:
        notice = {"type": "token_limit", "message": cfg.token_limit_message}
        return await _error_then_done(state, es, cfg.token_limit_message, {"quota_notice": notice})
    conv_key = (session, aipkit_bot_id(cfg), _NOT_KEY.sub("", q["conversation_uuid"].lower()))
    stored = state.aipkit_history.setdefault(conv_key, [])
    history = stored[-cfg.aipkit_max_messages :]
    call.record.history_turns = stats.last_history_turns = len(history)
    log_id = state.next_log_id()
    await es.send(_event("message_start", {"message_id": f"aipkit-msg-{log_id}"}))
    try:
        answer = await _deltas(state, es, history, message)
    except UpstreamError as err:
        stats.errors += 1
        text = f"API Error: {err.message} (Code: {err.code or 'api_error'})"
        await es.send(_event("error", {"error": text}, f"err-{int(state.clock.now())}"))
        return await es.finish()  # upstream errors end without `done`, as on real sites
    stored.extend([("user", message), ("assistant", answer)])
    stats.answers += 1
    state.token_usage[session] = state.token_usage.get(session, 0) + estimate_tokens(
        message, answer
    )
    await es.send(_event("done", {"finished": True}))
    return await es.finish()


async def _deltas(state: SiteState, es: EventStream, history: list[Turn], message: str) -> str:
    cfg = state.cfg
    raise_configured_failure(cfg)
    if state.upstream is not None and state.session is not None:
        msgs = state.upstream.messages(cfg.greeting, history, message)
        parts: list[str] = []
        async for line in state.upstream.stream_lines(state.session, msgs):
            text = delta_text(line)
            if text:
                parts.append(text)
                await es.send(_event(None, {"delta": text}))
        return "".join(parts)
    answer = local_answer(message, history)
    for piece in split_words(answer):
        await es.send(_event(None, {"delta": piece}))
    return answer
