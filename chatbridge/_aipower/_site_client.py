"""The AI Power protocol engine's entry point: one :class:`SiteClient` per site.

A site client answers one message at a time in whatever generation the site speaks today:
it gets the page tokens (cached, refreshed, single-flight: ``_tokens``), runs one exchange
(``_exchange``), and on a signal from the site recovers once: a rejected nonce is refreshed,
an unregistered action triggers re-discovery (a site upgraded to AIPKit), an expired AIPKit
cache key redoes the cache step. Only those are retried, because the site gives each of them
*before* it runs the model. A reply that is cut off, empty or not JSON is not retried: the site
may already have answered (a second paid completion, a second charge against the visitor's
token limit), so it is raised as a typed error and a route may fail over instead. Nothing is
retried once a chunk has reached the caller. It knows nothing about providers, CLIs or
servers.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

from .._exceptions import ChatbridgeError, NonceError, ResponseError, ResponseStatusError
from .._http._call import Call
from .._state import StateStore, current_store
from .._state._book import ConversationBook
from .._state._sites import SiteClients
from .._types import Messages
from ._call import CallOptions, ClientStats
from ._conversation import Conversation
from ._exchange import aipkit_exchange, legacy_exchange
from ._history import Split, split_conversation
from ._page import PageTokens
from ._replies import (
    ActionNotRegistered,
    CacheKeyExpired,
    NonceRejected,
)
from ._shared import decode_conversation, encode_conversation, site_key
from ._target import SiteTarget
from ._tokens import TokenCache

__all__ = ["SiteClient", "site_client", "site_stats", "streams_known"]


def _retry_reason(error: ChatbridgeError) -> str | None:
    if isinstance(error, NonceRejected):
        return "nonce"
    if isinstance(error, ActionNotRegistered):
        return "rediscover"
    if isinstance(error, CacheKeyExpired):
        return "cache"
    return None


def _final(reason: str, error: ChatbridgeError) -> ChatbridgeError:
    context: dict[str, Any] = {"provider": error.provider, "url": error.url, "status": error.status}
    if reason == "nonce":
        return NonceError(
            f"The site rejected a freshly fetched nonce too: {error.message}", **context
        )
    if reason == "rediscover":
        return ResponseStatusError(
            "The site no longer answers AI Power chat requests (plugin removed or changed)",
            **context,
        )
    return ResponseError(f"AIPKit refused its message cache key twice: {error.message}", **context)


class SiteClient:
    """Talks AI Power to one site, in whatever generation the site speaks today."""

    def __init__(self, target: SiteTarget, store: StateStore | None = None) -> None:
        self.target = target
        self.store = store or current_store()
        self.stats = ClientStats()
        self.conversations: ConversationBook[Conversation] = ConversationBook(
            Conversation,
            lambda conversation: conversation.client_id,
            state=self.store,
            site=site_key(target),
            codec=(encode_conversation, decode_conversation),
        )
        self._tokens = TokenCache(target, self.stats, self.store)

    @property
    def tokens(self) -> PageTokens | None:
        return self._tokens.tokens

    @tokens.setter
    def tokens(self, value: PageTokens | None) -> None:
        self._tokens.tokens = value

    @property
    def fetched_at(self) -> float:
        return self._tokens.fetched_at

    @fetched_at.setter
    def fetched_at(self, value: float) -> None:
        self._tokens.fetched_at = value

    async def prime(self, tokens: PageTokens, call: Call) -> None:
        """Tokens read from a page fetched to find the site's plugin (that fetch counts)."""
        self.stats.page_fetches += 1
        await self._tokens.prime(tokens, call)

    async def page_tokens(self, call: CallOptions) -> PageTokens:
        """The site's tokens: cached while fresh, else fetched (discovery)."""
        return await self._tokens.get(call)

    async def stream(
        self,
        messages: Messages,
        *,
        conversation: Conversation | None = None,
        call: CallOptions | None = None,
    ) -> AsyncGenerator[str, None]:
        """The answer to the last user message, in chunks as the site sends them; when the
        conversation had to be shortened to fit the message, ``call.on_history`` hears what
        was left out before the first chunk."""
        call = call or CallOptions()
        call.start()
        try:
            split = split_conversation(messages)
            conv = conversation or await self.conversations.take(messages)
            tokens = await self._tokens.get(call)
            retried: set[str] = set()
            while True:
                yielded = False
                try:
                    exchange = await self._exchange(call, tokens, split, conv)
                    async with aclosing(exchange) as attempt:
                        async for chunk in attempt:
                            if not yielded:
                                call.tell()  # what the message left out, before the text
                            yielded = True
                            yield chunk
                    call.tell()  # (an answer with no text)
                    break
                except ChatbridgeError as error:
                    reason = _retry_reason(error)
                    if reason is None or yielded or reason in retried:
                        self._tokens.distrust(tokens)  # adopted tokens failed: not kept
                    if reason is None:
                        raise
                    if yielded or reason in retried:  # a signal never reaches the caller
                        raise _final(reason, error) from error
                    retried.add(reason)
                    if reason == "nonce":
                        tokens = await self._tokens.refresh(call, tokens)
                    elif reason == "rediscover":
                        self.stats.rediscoveries += 1
                        tokens = await self._tokens.refresh(call, tokens)
            self.stats.messages += 1
            if conversation is None:
                await self.conversations.keep(messages, conv.last_answer, conv)
        except ChatbridgeError as error:
            error.with_context(provider=call.provider, url=self.target.url)
            raise

    async def _exchange(
        self, call: CallOptions, tokens: PageTokens, split: Split, conv: Conversation
    ) -> AsyncGenerator[str, None]:
        """One exchange with the site, ready to be read (the generator itself: no layer
        that only passes its chunks on)."""
        session = await call.session()
        # Cookies from the page fetch (Cloudflare, security plugins) go along from the site's
        # own jar, which scopes them to their domain: never copied into the conversation's
        # jar, where an explicit Conversation used on another site would carry them there.
        call.site_jar = self._tokens.jar
        exchange = aipkit_exchange if tokens.generation == "aipkit" else legacy_exchange
        return exchange(session, call, tokens, split, conv, self.stats)


_clients: SiteClients[SiteTarget, SiteClient] = SiteClients(SiteClient)


def site_client(target: SiteTarget) -> SiteClient:
    """The shared client of a site: one token cache per site, whichever provider asks.
    The least recently used sites are forgotten past ``MAX_SITES``."""
    return _clients.get(target)


def site_stats() -> dict[str, ClientStats]:
    """What went over the wire per site this process talks to (page fetches, nonce
    refreshes…), by site URL: the sites the registry still holds."""
    return {target.url: client.stats for target, client in _clients.items()}


def streams_known(target: SiteTarget) -> bool | None:
    """Does the site stream its answers, as far as its page told this process (no I/O)?
    ``True`` for AIPKit and a legacy page that says it streams, ``False`` for plugin 1.7
    (it never streams) and a page that says it does not, ``None`` when the site was not
    read yet or its page does not say."""
    client = _clients.peek(target)
    tokens = client.tokens if client is not None else None
    if tokens is None:
        return None
    if tokens.generation == "aipkit":
        return True
    if tokens.legacy_version == "1.7":
        return False
    return tokens.stream_hint
