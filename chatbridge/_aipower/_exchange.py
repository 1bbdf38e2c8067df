"""One message, one attempt: the legacy exchange and AIPKit's (docs/protocol-ai-power.md,
"Asking (legacy)", "Legacy replies" and "AIPKit"; below, ``protocol:`` names its sections).

Chat requests never follow redirects: the AJAX URL comes from discovery (the site's final
origin), so a redirect here is a login wall or a misconfiguration, and following it would
carry the conversation's cookies to wherever it points.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncGenerator
from http.cookies import Morsel
from typing import Any

from .._constants import (
    AIPKIT_HISTORY_LIMIT,
    ASSISTANT_HISTORY_LIMIT,
    LEGACY17_HISTORY_LIMIT,
    MAX_COOKIE_BYTES,
)
from .._exceptions import BlockedError, ResponseError, ResponseStatusError
from .._http._decoders import SSEDecoder
from .._http._session import StreamResponse, StreamSession
from .._http._status import classify_status
from ._call import CallOptions, ClientStats
from ._conversation import Conversation
from ._history import Split, encode_history
from ._page import PageTokens
from ._replies import (
    ActionNotRegistered,
    AIPKitStream,
    LegacyStream,
    NonceRejected,
    interpret_legacy_json,
    is_nonce_failure_text,
    json_object,
    plugin_error,
    sse_body_start,
    unreadable_reply,
)
from ._tokens import refuse_login_wall

__all__ = ["aipkit_exchange", "legacy_exchange"]

_HISTORY_LIMITS = {"1.7": LEGACY17_HISTORY_LIMIT, "assistant": ASSISTANT_HISTORY_LIMIT}


async def check_status(response: StreamResponse) -> None:
    """The status decides first (protocol: "Status and content type first"): 3xx = login
    wall or a stray redirect; 403 with the short expired-link text = nonce; 400 ``0`` =
    action gone; other failures typed."""
    if 300 <= response.status < 400:
        refuse_login_wall(response)
        location = response.headers.get("Location", "?")
        raise ResponseStatusError(
            f"The site redirected its chat endpoint to {location}", status=response.status
        )
    if response.status < 400:
        return
    body = await response.text_prefix()
    if response.status == 403 and is_nonce_failure_text(body):
        raise NonceRejected(
            "The site rejected the nonce (HTTP 403: the link you followed has expired)",
            status=403,
            body=body,
        )
    if response.status == 400 and body.strip() == "0":
        raise ActionNotRegistered(
            "The site does not answer this chat action (HTTP 400 '0')", status=400, body=body
        )
    error = classify_status(response.status, response.headers, body, url=str(response.url))
    if error is not None:
        raise error


def _escape_message(message: str, cookie_history: bool) -> str:
    """Escape ``<``/``>`` as the browser does (protocol: "Message text"), so tag-like text survives
    ``sanitize_text_field``. On 1.7, which stores the magic-quoted message in its history
    cookie, also escape quotes (as the browser does) and swap backslashes for a look-alike:
    a slashed quote or backslash breaks the serialised cookie and loses the whole history."""
    text = message.replace("<", "&lt;").replace(">", "&gt;")
    if cookie_history:
        text = text.replace('"', "&quot;").replace("'", "&#039;").replace("\\", "\uff3c")
    return text


def _stream_in_text(text: str, parser: LegacyStream) -> str:
    """An event stream that arrived whole, labelled as HTML (a PHP warning went first)."""
    decoder = SSEDecoder()
    for event in [*decoder.feed(text.encode()), *decoder.flush()]:
        parser.feed(event)
        if parser.done:
            break
    return parser.finish()


async def _relay(
    parser: LegacyStream | AIPKitStream, response: StreamResponse
) -> AsyncGenerator[str, None]:
    """The answer text of each event as it arrives, until the parser sees the end."""
    async for event in response.sse():
        chunk = parser.feed(event)
        if chunk:
            yield chunk
        if parser.done:
            break


async def legacy_exchange(
    session: StreamSession,
    call: CallOptions,
    tokens: PageTokens,
    split: Split,
    conv: Conversation,
    stats: ClientStats,
) -> AsyncGenerator[str, None]:
    cookie_history = tokens.legacy_version == "1.7"
    # Sites that hold the history themselves: 1.7 in its cookies, an Assistants bot in its
    # thread (the thread_id we send back). Everything else gets the history field.
    held_by = "1.7" if cookie_history else "assistant" if tokens.assistant else None
    message = (
        conv.message_for_site_history(split, held_by, _HISTORY_LIMITS[held_by])
        if held_by
        else split.message
    )
    # The flattened conversation (the very object) goes out: what it left out is said.
    call.left_out(split.trimmed if message is split.whole else None, tokens.page_url)
    form = {
        "_wpnonce": tokens.nonce,
        "post_id": tokens.post_id,
        "url": tokens.data_url or tokens.page_url,
        "action": tokens.action,
        "message": _escape_message(message, cookie_history),
        "bot_id": tokens.bot_id,
        "chatbot_identity": tokens.chatbot_identity,
        "wpaicg_chat_history": "[]" if held_by else encode_history(split.turns),
        "wpaicg_chat_client_id": conv.client_id,
    }
    if conv.thread_id:
        form["thread_id"] = conv.thread_id
    context: dict[str, Any] = {"url": tokens.ajax_url}
    headers = {"Referer": tokens.page_url, "Accept": "application/json, text/event-stream, */*"}
    options = call.request_options(conv.jar())
    stats.chat_requests += 1
    async with session.post(
        tokens.ajax_url, data=form, headers=headers, allow_redirects=False, **options
    ) as response:
        await check_status(response)
        parser = LegacyStream(**context)
        if response.content_type == "text/event-stream":
            async for chunk in _relay(parser, response):
                yield chunk
            answer = parser.finish()
            conv.thread_id = parser.thread_id or conv.thread_id
        else:
            body = await response.text()
            start = sse_body_start(body)
            if start is not None:
                answer = _stream_in_text(body[start:], parser)
                conv.thread_id = parser.thread_id or conv.thread_id
            else:
                answer, thread = interpret_legacy_json(body, **context)
                conv.thread_id = thread or conv.thread_id
            yield answer
    if cookie_history and not _cookies_fit(response, conv):
        held_by = None  # the site will not see its history cookie: start over next time
    conv.record(split, answer, held_by)


def _cookies_fit(response: StreamResponse, conv: Conversation) -> bool:
    """Whether every cookie the reply set fits ``MAX_COOKIE_BYTES``; an oversized one (1.7's
    history after a long answer) is dropped from the conversation's jar, as a browser drops
    it, so it is never sent back in a Cookie header servers refuse."""
    pairs = [line.split(";", 1)[0] for line in response.headers.getall("Set-Cookie", [])]
    oversized = {pair.split("=", 1)[0].strip() for pair in pairs if len(pair) > MAX_COOKIE_BYTES}

    def drop(cookie: Morsel[str]) -> bool:
        return cookie.key in oversized

    if oversized:
        conv.cookie_jar.clear(drop)
    return not oversized


async def aipkit_exchange(
    session: StreamSession,
    call: CallOptions,
    tokens: PageTokens,
    split: Split,
    conv: Conversation,
    stats: ClientStats,
) -> AsyncGenerator[str, None]:
    message = conv.message_for_site_history(split, "aipkit", AIPKIT_HISTORY_LIMIT)
    call.left_out(split.trimmed if message is split.whole else None, tokens.page_url)
    cache_options = call.request_options(conv.jar())
    cache_key = await _aipkit_cache(session, tokens, message, cache_options, stats)
    params = {
        "action": "aipkit_frontend_chat_stream",
        "cache_key": cache_key,
        "bot_id": tokens.bot_id,
        "session_id": conv.session_id,
        "conversation_uuid": conv.conversation_uuid,
        "_ajax_nonce": tokens.nonce,
        "post_id": tokens.post_id,
        "_ts": str(int(time.time() * 1000)),
    }
    stats.chat_requests += 1
    headers = {"Accept": "text/event-stream"}
    options = call.request_options(conv.jar())  # after the cache step: less time left
    async with session.get(
        tokens.ajax_url, params=params, headers=headers, allow_redirects=False, **options
    ) as response:
        await check_status(response)
        parser = AIPKitStream(url=tokens.ajax_url)
        async for chunk in _relay(parser, response):
            yield chunk
        answer = parser.finish()
    conv.record(split, answer, "aipkit")


async def _aipkit_cache(
    session: StreamSession,
    tokens: PageTokens,
    message: str,
    options: dict[str, Any],
    stats: ClientStats,
) -> str:
    """Cache the message; the reply carries the one-shot key for the stream (protocol:
    "Caching the message")."""
    form = {
        "action": "aipkit_cache_sse_message",
        "_ajax_nonce": tokens.nonce,
        "bot_id": tokens.bot_id,
        "message": message,
        "user_client_message_id": f"msg-{uuid.uuid4().hex}",
    }
    stats.chat_requests += 1
    async with session.post(
        tokens.ajax_url, data=form, allow_redirects=False, **options
    ) as response:
        if 300 <= response.status < 400:
            await check_status(response)
        body = await response.text()
        status, reply_headers = response.status, response.headers
    if status == 400 and body.strip() == "0":
        raise ActionNotRegistered("The AIPKit chat action is not registered", status=400)
    try:
        data = json_object(body)
    except ValueError:
        data = None
    payload = data.get("data") if isinstance(data, dict) else None
    if isinstance(data, dict) and data.get("success") is True and isinstance(payload, dict):
        key = payload.get("cache_key")
        if isinstance(key, str) and key:
            return key
    if isinstance(payload, dict):
        code = str(payload.get("code") or "")
        text = str(payload.get("message") or code or "AIPKit refused the message")
        if code.startswith("nonce_failure"):
            raise NonceRejected(text, status=status, body=body)
        if code in ("cors_denied", "embed_not_available"):
            raise BlockedError(text, status=status, body=body)
        raise plugin_error(text, status=status, body=body)
    error = classify_status(status, reply_headers, body, url=tokens.ajax_url)
    if error is not None:
        raise error
    if data is None:
        raise unreadable_reply(body, "AIPKit's cache step reply", status=status)
    raise ResponseError("AIPKit's cache step gave no cache_key", body=body, status=status)
