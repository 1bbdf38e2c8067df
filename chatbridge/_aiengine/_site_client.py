"""The AI Engine protocol engine's entry point: one :class:`SiteClient` per site.

A site client answers one message at a time: it gets the site's settings and REST nonce
(cached, refreshed, single-flight: ``_tokens``), checks the message against the bot's limits
(``_transcript``), runs one request (``_exchange``), and on a signal the site gives *before*
it runs the model recovers once: a refused nonce (401 ``rest_forbidden``, 403
``rest_cookie_invalid_nonce``) is refreshed, a missing route (404 ``rest_no_route``) sends it
back to the page. A second refusal is final (:class:`NonceError`). A reply that is cut off,
empty or not JSON is never asked again (the model may have run: a second paid answer), and
nothing is retried once a chunk has reached the caller. A reply's ``new_token`` replaces the
nonce for everyone. It knows nothing about providers, CLIs, servers or the other engine.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from .._exceptions import ChatbridgeError, NonceError, ResponseStatusError
from .._state import StateStore, current_store
from .._state._book import ConversationBook
from .._state._sites import SiteClients
from .._types import Messages, Usage
from ._call import EngineCall, SiteStats
from ._exchange import Submit
from ._page import ChatConfig
from ._replies import NonceRefused, RouteGone
from ._shared import SiteTokens
from ._target import SiteTarget
from ._thread import Thread, decode_thread, encode_thread
from ._tokens import NonceCache
from ._transcript import Split, prepare, split_messages

__all__ = ["SiteClient", "SiteTarget", "site_client", "site_stats"]


def _final(error: ChatbridgeError) -> ChatbridgeError:
    context: dict[str, Any] = {"provider": error.provider, "url": error.url, "status": error.status}
    if isinstance(error, NonceRefused):
        message = f"The site refused a freshly fetched nonce too: {error.message}"
        return NonceError(message, **context)
    return ResponseStatusError(
        "The site no longer answers AI Engine chat requests (plugin removed or changed)",
        **context,
    )


class SiteClient:
    """Talks AI Engine to one site, in whatever generation the site speaks today."""

    def __init__(self, target: SiteTarget, store: StateStore | None = None) -> None:
        self.target = target
        self.store = store or current_store()
        self.stats = SiteStats()
        self.threads: ConversationBook[Thread] = ConversationBook(
            Thread,
            lambda thread: thread.chat_id,
            state=self.store,
            site=target.key,
            codec=(encode_thread, decode_thread),
        )
        self.tokens = NonceCache(target, self.stats, self.store)

    async def prime(self, config: ChatConfig, call: EngineCall) -> None:
        """Settings read from a page fetched to find the site's plugin (that fetch counts),
        and the nonce that goes with them, fetched now and shared with the fleet: a process
        that learns the plugin from the fleet finds the tokens there too."""
        self.stats.page_fetches += 1
        self.tokens.prime(config, call)
        await self.tokens.get(call)

    async def site_tokens(self, call: EngineCall) -> SiteTokens:
        """The site's settings and nonce: cached while fresh, else fetched."""
        return await self.tokens.get(call)

    async def stream(
        self,
        messages: Messages,
        *,
        thread: Thread | None = None,
        call: EngineCall | None = None,
        stream: bool = True,
    ) -> AsyncGenerator[str | Usage, None]:
        """The answer to the last user message: text chunks as the site sends them (one,
        whole, with ``stream=False``), then its :class:`Usage` when the site counted it.
        When the transcript had to be folded to fit the bot's ``maxMessages``,
        ``call.on_history`` hears of it before the first chunk.

        The one generator between the caller and the reply's body: the frames are read here,
        a chunk at a time, and every other step is a plain call."""
        call = call or EngineCall()
        call.start()
        try:
            split = split_messages(messages)  # the caller's mistakes cost no request
            conv = thread or await self.threads.take(messages, split.earlier_key)
            conv.follow(split.earlier_key)
            submit = await self._send(call, split, conv, stream)
            try:
                if submit.chunks is not None:
                    async for chunk in submit.chunks:
                        for text in submit.feed(chunk):
                            call.tell()  # what the transcript folded, before the text (once)
                            yield text
                        if submit.done:
                            break
                rest = await submit.complete()
            except BaseException as error:
                await submit.close(error)
                if isinstance(error, ChatbridgeError):
                    self.tokens.distrust(submit.tokens)  # adopted tokens that failed: not kept
                raise
            await submit.close()
            call.tell()  # (an answer whose text came only at the end, or none)
            if rest:
                yield rest
            usage = await self._answered(submit, split, messages, thread)
            if usage is not None:
                yield usage
        except ChatbridgeError as error:
            error.with_context(provider=call.provider, url=self.target.url)
            raise

    async def _send(self, call: EngineCall, split: Split, conv: Thread, stream: bool) -> Submit:
        """The message sent, its reply open; sent once more after a signal the site gives
        before the model runs (a refused nonce, a missing route). Signals come with the
        reply's status, so never after a chunk reached the caller."""
        tokens = await self.tokens.get(call)
        session = await call.session()
        call.site_jar = self.tokens.jar  # the page's cookies (Cloudflare…), in its jar
        retried: set[type[ChatbridgeError]] = set()
        while True:
            prepared = prepare(split, tokens.config)
            call.left_out(prepared.trimmed, tokens.config.page_url)
            submit = Submit(tokens, prepared, conv, stream=stream)
            try:
                await submit.send(session, call, self.stats, self.tokens.no_jar)
                return submit
            except (NonceRefused, RouteGone) as signal:
                kind = type(signal)
                if kind in retried:  # a signal never reaches the caller
                    self.tokens.distrust(tokens)  # adopted tokens that failed: not kept
                    raise _final(signal) from signal
                retried.add(kind)
                if kind is NonceRefused:
                    tokens = await self.tokens.refresh(call, tokens)
                else:
                    tokens = await self.tokens.rediscover(call, tokens)
            except ChatbridgeError:
                self.tokens.distrust(tokens)
                raise

    async def _answered(
        self, submit: Submit, split: Split, messages: Messages, thread: Thread | None
    ) -> Usage | None:
        """What an answer leaves: a nonce the site handed over adopted, the conversation
        filed under its transcript (answer included); the usage to report, if real."""
        final = submit.final
        assert final is not None
        if final.new_token is not None:
            await self.tokens.adopt(submit.tokens, final.new_token)
        self.stats.messages += 1
        answer = submit.answer
        split.digest.add("assistant", answer)
        key = split.digest.key()
        submit.thread.answered(key)
        if thread is None:
            await self.threads.keep(messages, answer, submit.thread, key=key)
        return final.usage


_clients: SiteClients[SiteTarget, SiteClient] = SiteClients(SiteClient)


def site_client(target: SiteTarget) -> SiteClient:
    """The shared client of a site: one nonce cache per site, whichever provider asks.
    The least recently used sites are forgotten past ``MAX_SITES``."""
    return _clients.get(target)


def site_stats() -> dict[str, SiteStats]:
    """What went over the wire per site this process talks to, by site URL."""
    return {target.url: client.stats for target, client in _clients.items()}
