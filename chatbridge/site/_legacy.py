"""The legacy chat handler (``wpaicg_chat_shortcode_message`` / ``wpaicg_chatbox_message``),
plugin 1.7 to 2.2, following the plugin's processing order (docs/protocol-ai-power.md,
"Processing order")."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from aiohttp import web

from ._assistant import ASSISTANT_STREAM_HEADERS, assistant_reply
from ._call import Call, EventStream, StreamCut, cut_response
from ._completion import error_words, flag_line, stream_answer, whole_answer
from ._history import (
    cookie_entries_to_turns,
    encode_cookie_history,
    history_cookie_name,
    history_key_cookie,
    parse_history_18,
    parse_history_22,
    read_cookie_history,
)
from ._nonce import CHAT_ACTION
from ._php import add_slashes, clean_utf8, esc_html, intval, sanitize_text_field
from ._responder import UpstreamError
from ._state import SiteState, client_ip

NONCE_ERROR_17 = (
    "Invalid nonce. This means we are unable to verify the validity of the nonce. There are "
    "couple of possible reasons for this. 1. A cache plugin is caching the nonce. 2. The nonce "
    "has expired. Please clear your cache and try again."
)
NONCE_ERROR_18 = "Nonce verification failed"
NONCE_EXPIRED = "The link you followed has expired."
EMPTY_MESSAGE = "It appears that nothing was inputted."
BANNED_IP = "You are not allowed to access this feature."
BANNED_WORD = "Your message contains prohibited words. Please modify your message and try again."
#: No API key (the ``misconfigured`` option): 1.8+ and 1.7 texts (the AI client step).
NO_AI_INSTANCE = "Unable to initialize the AI instance. Please make sure the API key is valid."
MISSING_API_SETTING = "Missing API Setting"
NO_PINECONE_RESULTS = "No results from Pinecone."
ACTIONS = frozenset({"wpaicg_chat_shortcode_message", "wpaicg_chatbox_message"})


def expired_text(request: web.Request) -> str:
    """``wp_nonce_ays`` under admin-ajax: the bare expired-link text (403)."""
    text = NONCE_EXPIRED
    referer = request.headers.get("Referer", "")
    if referer and urlsplit(referer).netloc == request.host:
        text += f'</p><p><a href="{esc_html(referer)}">Please try again.</a>'
    return text


async def handle_legacy(state: SiteState, call: Call) -> web.StreamResponse:
    """Answer one legacy chat request."""
    try:
        return await _handle(state, call)
    except StreamCut:
        return await cut_response(call)


async def _handle(state: SiteState, call: Call) -> web.StreamResponse:
    gen, cfg, stats = state.generation, state.cfg, state.stats
    stats.chat_requests += 1
    both = {**call.query, **call.post}
    cookies = call.request.cookies
    client_id = ""
    if gen == "1.7":
        client_id = cookies.get("wpaicg_chat_client_id", "")
        if not client_id:
            client_id = "t_" + secrets.token_hex(15)
            call.cookies.append(("wpaicg_chat_client_id", client_id, 7 * 86400))
        if cfg.misconfigured:  # 1.7.x checks the API key before the nonce
            stats.errors += 1
            return call.json({"status": "error", "msg": MISSING_API_SETTING})
    if not state.clock.verify(both.get("_wpnonce"), CHAT_ACTION):
        stats.nonce_failures += 1
        if gen == "1.7":
            return call.json({"status": "error", "msg": NONCE_ERROR_17})
        if gen == "1.8":
            return call.json({"status": "error", "msg": NONCE_ERROR_18})
        return call.reply(expired_text(call.request).encode(), status=403)
    fields = call.post if gen == "2.2" else both
    if gen != "1.7":
        client_id = fields.get("wpaicg_chat_client_id", "")
    if cfg.misconfigured:  # decided before streaming: plain JSON
        stats.errors += 1
        return call.json({"status": "error", "msg": NO_AI_INSTANCE})
    bot_id = intval(fields.get("bot_id", ""))
    es = None
    if cfg.streams_for(call.action, bot_id):
        es = EventStream(call, extra_headers=ASSISTANT_STREAM_HEADERS if cfg.assistant else None)
    call.stream = es
    if es is not None:
        stats.stream_requests += 1
    if client_ip(call.request) in cfg.banned_ips:
        stats.errors += 1
        if es is None:
            return call.json({"status": "error", "msg": BANNED_IP})
        await es.send(flag_line(BANNED_IP, "ipBanned"))  # the plugin carries on after the flag
    raw = fields.get("message", "")
    message = clean_utf8(raw) if gen == "2.2" else sanitize_text_field(add_slashes(raw))
    if raw in ("", "0") or message == "":
        stats.errors += 1
        if es is not None and es.started:
            return await es.finish()
        return call.json({"status": "error", "msg": EMPTY_MESSAGE})
    banned = {w.lower() for w in cfg.banned_words}
    if banned and any(w in banned for w in message.lower().split(" ")):
        stats.errors += 1
        if es is None:
            return call.json({"status": "error", "msg": BANNED_WORD})
        await es.send(flag_line(BANNED_WORD, "messageFlagged"))  # and carries on here too
    limit = cfg.guest_token_limit
    if limit is not None and state.token_usage.get(client_id, 0) > limit:
        stats.errors += 1
        text = cfg.token_limit_message
        if gen == "1.7":
            return call.json({"status": "error", "msg": text})
        if es is None:
            return call.json({"msg": text, "tokenLimitReached": True})
        await es.send(flag_line(text, "tokenLimitReached"))
        return await es.finish()
    if cfg.pinecone_error:  # the embeddings fetched before the prompt is built found nothing
        stats.errors += 1
        if es is None:
            return call.json({"status": "error", "msg": NO_PINECONE_RESULTS})
        await es.send(flag_line(NO_PINECONE_RESULTS, "pineconeError"))
        return await es.finish()
    if cfg.assistant:  # the thread holds the history
        return await assistant_reply(
            state, call, es, sent_thread=fields.get("thread_id"), message=message,
            client_id=client_id, log_id=state.next_log_id(),
        )
    entries: list[str] = []
    history_name = ""
    if gen == "1.7":
        # The key cookie (named per shortcode / widget / bot) only says "a conversation was
        # started"; the history cookie's name is recomputed from client id and url. Without the
        # key cookie the history is empty and the key cookie is set (1 day, never refreshed).
        history_name = history_cookie_name(client_id, fields.get("url", ""))
        # A bot id names a bot only if that post exists (the configured bot).
        key_cookie = history_key_cookie(call.action, bot_id if bot_id == cfg.bot_id else 0)
        if cookies.get(key_cookie):
            entries = read_cookie_history(cookies.get(history_name))
        else:
            call.cookies.append((key_cookie, history_name, 86400))
        entries = entries[-cfg.conversation_cut :] if cfg.conversation_cut > 0 else []
        history = cookie_entries_to_turns(entries)
    elif gen == "1.8":
        history = parse_history_18(add_slashes(fields.get("wpaicg_chat_history", "")))
    else:
        history = parse_history_22(fields.get("wpaicg_chat_history", ""))
    call.record.history_turns = stats.last_history_turns = len(history)
    log_id = state.next_log_id()
    try:
        if es is not None:
            answer = await stream_answer(state, es, history, message, log_id)
        else:
            answer = await whole_answer(state, history, message)
    except UpstreamError as err:
        stats.errors += 1
        if es is None:
            return call.json({"status": "error", "msg": esc_html(err.message),
                              "greeting_message": cfg.greeting, "log": log_id})
        await error_words(es, err, repeat=2 if gen == "2.2" else 1)
        return await es.finish()
    stats.answers += 1
    state.charge(client_id, message, answer)
    if es is not None:
        return await es.finish()
    if gen == "1.7":  # the cut entries plus this turn (so up to conversation_cut + 2)
        kept = [*entries, f"Human: {message}\nAI: ", answer]
        call.cookies.append((history_name, encode_cookie_history(kept), 86400))
    return call.json({"status": "success", "msg": "Something went wrong",
                      "greeting_message": cfg.greeting, "data": answer, "log": log_id})



