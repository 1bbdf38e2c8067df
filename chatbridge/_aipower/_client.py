"""The AI Power protocol engine: discovery, the nonce lifecycle, every reply generation.

One :class:`SiteClient` per site (see :func:`site_client`), shared by every provider pointed
at that site. It caches the page tokens with their fetch time, refreshes them before they
expire and once when the site rejects them, and lets concurrent calls share one page fetch.
It knows nothing about providers, CLIs or servers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import secrets
import time
import uuid
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp

from .._constants import DEFAULT_TIMEOUT, NONCE_REFRESH_AGE, WORDPRESS_TICK
from .._exceptions import (
    BlockedError,
    ChatbridgeError,
    EmptyResponseError,
    NonceError,
    NotAIPowerSiteError,
    ResponseError,
    ResponseStatusError,
)
from .._http._pool import shared
from .._http._session import StreamResponse, StreamSession
from .._http._status import classify_status
from .._types import Messages
from ._conversation import Conversation, ConversationBook
from ._history import Split, encode_history, split_conversation
from ._page import PageTokens, parse_page
from ._replies import (
    ActionNotRegistered,
    AIPKitStream,
    CacheKeyExpired,
    LegacyStream,
    NonceRejected,
    interpret_legacy_json,
    is_nonce_failure_text,
    plugin_error,
)

__all__ = ["ClientStats", "SiteClient", "SiteTarget", "site_client"]


@dataclass(frozen=True, slots=True)
class SiteTarget:
    """Where the chat lives. ``chat_page`` is a path or URL of the page holding the chat
    (default: the home page); ``bot_id`` picks one bot when a page has several."""

    url: str
    chat_page: str | None = None
    bot_id: int | str | None = None
    #: WordPress nonce half-life the site uses (seconds); tokens are refreshed once two
    #: tick boundaries have passed since the fetch, or after ``refresh_age`` seconds.
    nonce_tick: float = WORDPRESS_TICK
    refresh_age: float = NONCE_REFRESH_AGE

    @property
    def base(self) -> str:
        return self.url.rstrip("/") + "/"


@dataclass
class ClientStats:
    """What went over the wire for one site (for the demo summary and the benchmarks)."""

    page_fetches: int = 0
    chat_requests: int = 0
    nonce_refreshes: int = 0
    rediscoveries: int = 0
    messages: int = 0


@dataclass
class _Call:
    """Per-call options a provider passes through."""

    proxy: str | None = None
    timeout: float | None = DEFAULT_TIMEOUT
    cookies: dict[str, str] | None = None
    headers: dict[str, str] | None = None
    provider: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    async def session(self) -> StreamSession:
        """The loop's shared session for these options. It keeps no cookies of its own:
        each request passes its conversation's jar (``cookie_jar=``)."""
        key = ("aipower", self.proxy, self.timeout, tuple(sorted((self.headers or {}).items())))

        async def make() -> StreamSession:
            session = StreamSession(
                headers=self.headers,
                proxy=self.proxy,
                timeout=self.timeout,
                cookie_jar=aiohttp.DummyCookieJar(),
            )
            await session.open()
            return session

        return await shared(key, make)

    def request_options(self, conversation: Conversation | None = None) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if conversation is not None:
            options["cookie_jar"] = conversation.cookie_jar
        if self.cookies:
            options["cookies"] = self.cookies
        return options


def _bust(url: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}_={secrets.token_hex(6)}"


class SiteClient:
    """Talks AI Power to one site, in whatever generation the site speaks today."""

    def __init__(self, target: SiteTarget) -> None:
        self.target = target
        self.tokens: PageTokens | None = None
        self.fetched_at = 0.0
        self.stats = ClientStats()
        self.conversations = ConversationBook()
        self._inflight: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, asyncio.Future[PageTokens]
        ] = weakref.WeakKeyDictionary()

    # -- tokens -----------------------------------------------------------------------------

    def _fresh(self, now: float) -> bool:
        if self.tokens is None:
            return False
        tick = self.target.nonce_tick
        ticks_passed = math.floor(now / tick) - math.floor(self.fetched_at / tick)
        return now - self.fetched_at < self.target.refresh_age and ticks_passed < 2

    async def page_tokens(
        self, call: _Call, *, refresh: bool = False, stale: PageTokens | None = None
    ) -> PageTokens:
        """Cached tokens, or one shared fetch for every caller on this loop."""
        loop = asyncio.get_running_loop()
        pending = self._inflight.get(loop)
        if pending is None or pending.done():
            current = self.tokens
            if (
                current is not None
                and self._fresh(time.time())
                and (not refresh or (stale is not None and current is not stale))
            ):
                return current  # fresh, or already refreshed by a concurrent caller
            pending = asyncio.ensure_future(self._discover(call, bust=refresh, stale=stale))
            self._inflight[loop] = pending
        return await asyncio.shield(pending)

    async def _discover(self, call: _Call, *, bust: bool, stale: PageTokens | None) -> PageTokens:
        if self.tokens is not None:
            self.stats.nonce_refreshes += 1
        pages = [urljoin(self.target.base, self.target.chat_page)] if self.target.chat_page else []
        pages.append(self.target.base)
        session = await call.session()
        options = call.request_options()
        for page in dict.fromkeys(pages):
            tokens = await self._fetch(session, page, bust=bust, options=options)
            if tokens is None:
                continue
            if stale is not None and tokens.nonce == stale.nonce:
                tokens = await self._past_page_cache(session, tokens, options)
            self.tokens, self.fetched_at = tokens, time.time()
            return tokens
        raise NotAIPowerSiteError(
            f"No nonce found: {self.target.url} is not an AI Power site (no chat container, "
            "no wpaicgParams script, no AIPKit data-config in its pages)",
            url=self.target.url,
            provider=call.provider,
        )

    async def _fetch(
        self, session: StreamSession, page: str, *, bust: bool, options: dict[str, Any]
    ) -> PageTokens | None:
        self.stats.page_fetches += 1
        async with session.get(_bust(page) if bust else page, **options) as response:
            if response.status == 404:
                return None
            await response.raise_for_status()
            _refuse_login_wall(response)
            text = await response.text()
            final = str(response.url.with_query(None)) if bust else str(response.url)
        return parse_page(text, final, self.target.bot_id)

    async def _past_page_cache(
        self, session: StreamSession, tokens: PageTokens, options: dict[str, Any]
    ) -> PageTokens:
        """The re-fetched page held the same, rejected nonce: a page cache. Ask URLs that
        caches do not hold (rule 30): the post by id, and a page that does not exist."""
        candidates = [f"/?p={tokens.post_id}"] if tokens.post_id else []
        candidates.append(f"/chatbridge-{secrets.token_hex(4)}/")
        for path in candidates:
            self.stats.page_fetches += 1
            async with session.get(urljoin(self.target.base, path), **options) as response:
                if response.status >= 500:
                    continue
                text = await response.text()
            fresh = parse_page(text, tokens.page_url, self.target.bot_id)
            if fresh is not None and fresh.nonce != tokens.nonce:
                return dataclasses.replace(tokens, nonce=fresh.nonce)
        return tokens

    # -- messages ---------------------------------------------------------------------------

    async def stream(
        self,
        messages: Messages,
        *,
        conversation: Conversation | None = None,
        call: _Call | None = None,
    ) -> AsyncIterator[str]:
        """The answer to the last user message, in chunks as the site sends them."""
        call = call or _Call()
        try:
            async for chunk in self._stream(messages, conversation, call):
                yield chunk
        except ChatbridgeError as error:
            error.with_context(provider=call.provider, url=self.target.url)
            raise

    async def _stream(
        self, messages: Messages, conversation: Conversation | None, call: _Call
    ) -> AsyncIterator[str]:
        split = split_conversation(messages)
        conv = conversation or self.conversations.find(messages)
        tokens = await self.page_tokens(call)
        retried: set[str] = set()
        while True:
            yielded = False
            try:
                attempt = (
                    self._aipkit(tokens, split, conv, call)
                    if tokens.generation == "aipkit"
                    else self._legacy(tokens, split, conv, call)
                )
                async for chunk in attempt:
                    yielded = True
                    yield chunk
                self.stats.messages += 1
                return
            except ChatbridgeError as error:
                if yielded:
                    raise
                reason = _retry_reason(error)
                if reason is None:
                    raise
                if reason in retried:
                    raise _final(reason, error) from error
                retried.add(reason)
                if reason in ("nonce", "rediscover"):
                    if reason == "rediscover":
                        self.stats.rediscoveries += 1
                    tokens = await self._refreshed(tokens, call, reason)

    async def _refreshed(self, tokens: PageTokens, call: _Call, reason: str) -> PageTokens:
        if reason == "nonce" and tokens.generation == "aipkit":
            nonce = await self._aipkit_nonce(tokens, call)
            if nonce is not None and nonce != tokens.nonce:
                self.tokens = dataclasses.replace(tokens, nonce=nonce)
                self.fetched_at = time.time()
                return self.tokens
        return await self.page_tokens(call, refresh=True, stale=tokens)

    # -- legacy -----------------------------------------------------------------------------

    async def _legacy(
        self, tokens: PageTokens, split: Split, conv: Conversation, call: _Call
    ) -> AsyncIterator[str]:
        cookie_history = tokens.legacy_version == "1.7"
        message = self._server_side_message(split, conv) if cookie_history else split.message
        form = {
            "_wpnonce": tokens.nonce,
            "post_id": tokens.post_id,
            "url": tokens.data_url or tokens.page_url,
            "action": tokens.action,
            "message": _escape_message(message, cookie_history),
            "bot_id": tokens.bot_id,
            "chatbot_identity": tokens.chatbot_identity,
            "wpaicg_chat_history": "[]" if cookie_history else encode_history(split.turns),
            "wpaicg_chat_client_id": conv.client_id,
        }
        if conv.thread_id:
            form["thread_id"] = conv.thread_id
        context = {"url": tokens.ajax_url}
        headers = {"Referer": tokens.page_url, "Accept": "application/json, text/event-stream, */*"}
        session = await call.session()
        options = call.request_options(conv)
        self.stats.chat_requests += 1
        async with session.post(tokens.ajax_url, data=form, headers=headers, **options) as response:
            await _check_legacy_status(response)
            if response.content_type == "text/event-stream":
                parser = LegacyStream(**context)
                async for event in response.sse():
                    chunk = parser.feed(event)
                    if chunk:
                        yield chunk
                    if parser.done:
                        break
                answer = parser.finish()
                conv.thread_id = parser.thread_id or conv.thread_id
            else:
                answer, thread = interpret_legacy_json(await response.text(), **context)
                conv.thread_id = thread or conv.thread_id
                yield answer
        _remember(conv, split, answer)

    @staticmethod
    def _server_side_message(split: Split, conv: Conversation) -> str:
        """For sites that hold the history themselves: only the new message when the site
        already holds every earlier turn; otherwise a fresh server-side conversation with the
        whole conversation flattened into the message, so no turn is dropped."""
        if not split.flattened and list(split.turns) == conv.server_turns:
            return split.message
        conv.restart_server_side()
        return split.whole

    # -- AIPKit -----------------------------------------------------------------------------

    async def _aipkit(
        self, tokens: PageTokens, split: Split, conv: Conversation, call: _Call
    ) -> AsyncIterator[str]:
        message = self._server_side_message(split, conv)
        context = {"url": tokens.ajax_url}
        session = await call.session()
        options = call.request_options(conv)
        cache_key = await self._aipkit_cache(session, tokens, message, options)
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
        self.stats.chat_requests += 1
        headers = {"Accept": "text/event-stream"}
        async with session.get(
            tokens.ajax_url, params=params, headers=headers, **options
        ) as response:
            await _check_legacy_status(response)
            parser = AIPKitStream(**context)
            async for event in response.sse():
                chunk = parser.feed(event)
                if chunk:
                    yield chunk
                if parser.done:
                    break
            answer = parser.finish()
        _remember(conv, split, answer)

    async def _aipkit_cache(
        self, session: StreamSession, tokens: PageTokens, message: str, options: dict[str, Any]
    ) -> str:
        form = {
            "action": "aipkit_cache_sse_message",
            "_ajax_nonce": tokens.nonce,
            "bot_id": tokens.bot_id,
            "message": message,
            "user_client_message_id": f"msg-{uuid.uuid4().hex}",
        }
        self.stats.chat_requests += 1
        async with session.post(tokens.ajax_url, data=form, **options) as response:
            body = await response.text_prefix()
            status = response.status
        if status == 400 and body.strip() == "0":
            raise ActionNotRegistered("The AIPKit chat action is not registered", status=400)
        data = _json_or_none(body)
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
        error = classify_status(status, {}, body, url=tokens.ajax_url)
        raise error or ResponseError(
            "AIPKit's cache step gave no cache_key", body=body, status=status
        )

    async def _aipkit_nonce(self, tokens: PageTokens, call: _Call) -> str | None:
        """AIPKit 2.3.41+ hands out a fresh nonce on request; older versions answer 400."""
        form = {"action": "aipkit_get_frontend_chat_nonce", "bot_id": tokens.bot_id}
        session = await call.session()
        async with session.post(tokens.ajax_url, data=form, **call.request_options()) as response:
            self.stats.nonce_refreshes += 1
            data = _json_or_none(await response.text_prefix())
        payload = data.get("data") if isinstance(data, dict) else None
        if isinstance(data, dict) and data.get("success") and isinstance(payload, dict):
            nonce = payload.get("nonce")
            return nonce if isinstance(nonce, str) and nonce else None
        return None


def _json_or_none(body: str) -> Any:
    try:
        return json.loads(body[body.find("{") :]) if "{" in body else None
    except ValueError:
        return None


def _refuse_login_wall(response: StreamResponse) -> None:
    if "wp-login.php" in urlsplit(str(response.url)).path:
        raise BlockedError(
            "The site redirected to its login page (a login wall)", url=str(response.url)
        )


async def _check_legacy_status(response: StreamResponse) -> None:
    """Rule 13: status first. 403 short text = nonce; 400 "0" = action gone; else typed."""
    _refuse_login_wall(response)
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
    """Rule 10: escape ``<``/``>`` as the browser does, so tag-like text survives
    ``sanitize_text_field``. On 1.7, which stores the magic-quoted message in its history
    cookie, also escape quotes (as the browser does) and swap backslashes for a look-alike:
    a slashed quote or backslash breaks the serialised cookie and loses the whole history."""
    text = message.replace("<", "&lt;").replace(">", "&gt;")
    if cookie_history:
        text = text.replace('"', "&quot;").replace("'", "&#039;").replace("\\", "\uff3c")
    return text


def _remember(conv: Conversation, split: Split, answer: str) -> None:
    conv.server_turns = (
        [] if split.flattened else [*split.turns, ("user", split.last_user), ("assistant", answer)]
    )


def _retry_reason(error: ChatbridgeError) -> str | None:
    if isinstance(error, NonceRejected):
        return "nonce"
    if isinstance(error, ActionNotRegistered):
        return "rediscover"
    if isinstance(error, CacheKeyExpired):
        return "cache"
    if isinstance(error, EmptyResponseError):
        return "empty"
    if type(error) is ResponseError:  # a non-JSON 200 body: once more (rule 18)
        return "malformed"
    return None


def _final(reason: str, error: ChatbridgeError) -> ChatbridgeError:
    context: dict[str, Any] = {
        "provider": error.provider,
        "url": error.url,
        "status": error.status,
    }
    if reason == "nonce":
        return NonceError(
            f"The site rejected a freshly fetched nonce too: {error.message}", **context
        )
    if reason == "rediscover":
        return ResponseStatusError(
            "The site no longer answers AI Power chat requests (plugin removed or changed)",
            **context,
        )
    return error


_clients: dict[SiteTarget, SiteClient] = {}


def site_client(target: SiteTarget) -> SiteClient:
    """The shared client of a site: one token cache per site, whichever provider asks."""
    client = _clients.get(target)
    if client is None:
        client = _clients[target] = SiteClient(target)
    return client
