"""One message, one attempt: ``POST {restUrl}/mwai-ui/v1/chats/submit``
(docs/protocol-ai-engine.md, "Sending a message", "Replies" and "The end frame").

The request carries the JSON body the plugin's browser sends (without its UI-only keys), the
REST nonce in ``X-WP-Nonce`` and the conversation's site session cookie, and never follows a
redirect (a redirect here is a login wall or a misconfiguration, and following it would carry
the conversation's cookie to wherever it points).

The ``end`` frame's ``reply`` is what the site stands behind. A whole answer is exactly it. A
stream hands text over as it comes, and text handed over cannot be taken back, so at the end:
a reply equal to the streamed text adds nothing; a reply that extends it (a filter on the site
appended to the model's text) adds the rest as the last chunk; a reply that differs otherwise
(a filter rewrote it) leaves the streamed text as the answer and logs a warning naming the
site. Ask for a whole answer (``stream=False``) to get the site's final text in every case.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiohttp

from .._exceptions import ResponseStatusError
from .._http._decoders import ServerSentEvent, SSEDecoder
from .._http._pages import refuse_login_wall
from .._http._session import StreamResponse, StreamSession
from ._body import submit_body
from ._call import EngineCall, SiteStats
from ._replies import Final, FrameStream, rest_error, whole_reply
from ._shared import SiteTokens
from ._thread import SESSION_COOKIE, Thread
from ._transcript import Prepared

__all__ = ["SUBMIT", "Submit", "tail_of"]

SUBMIT = "/mwai-ui/v1/chats/submit"

log = logging.getLogger("chatbridge.aiengine")


def tail_of(streamed: str, reply: str) -> str | None:
    """What the final ``reply`` adds to the ``streamed`` text: ``""`` when nothing, the rest
    when it extends it, ``None`` when it differs otherwise."""
    if reply == streamed or not reply.strip() or reply.strip() == streamed.strip():
        return ""
    if reply.startswith(streamed):
        return reply[len(streamed) :]
    return None


class Submit:
    """One chat request and what came of it. :meth:`send` leaves its reply open; an event
    stream is then read a chunk at a time (``chunks``, :meth:`feed`), and :meth:`complete`
    reads the rest: ``final`` (the site's reply) and ``answer`` (what the caller was handed).
    :meth:`close` gives the connection back."""

    def __init__(
        self, tokens: SiteTokens, prepared: Prepared, thread: Thread, *, stream: bool
    ) -> None:
        self.tokens = tokens
        self.prepared = prepared
        self.thread = thread
        self.stream = stream
        self.url = tokens.config.endpoint(SUBMIT)
        self.final: Final | None = None
        #: The whole answer the caller was handed, once complete.
        self.answer = ""
        self.response: StreamResponse | None = None
        self._request: AbstractAsyncContextManager[StreamResponse] | None = None
        #: The reply's body as it arrives, when it is an event stream (else ``None``).
        self.chunks: AsyncGenerator[bytes, None] | None = None
        self._context: dict[str, Any] = {"url": self.url}
        self._frames: FrameStream | None = None
        self._events: SSEDecoder | None = None

    @property
    def done(self) -> bool:
        """The stream's last frame (``end`` or ``error``) was read."""
        return self._frames is not None and self._frames.done

    def body(self) -> bytes:
        return submit_body(self.tokens.config, self.thread, self.prepared, self.stream)

    def _options(self, call: EngineCall, no_jar: aiohttp.DummyCookieJar) -> dict[str, Any]:
        # The conversation keeps no jar (its one cookie is sent by name, to this request's
        # origin only); the site's page jar supplies the cookies of Cloudflare and the like.
        options = call.request_options(no_jar)
        if self.thread.session is not None:
            options["cookies"] = {**options.get("cookies", {}), SESSION_COOKIE: self.thread.session}
        return options

    async def send(
        self,
        session: StreamSession,
        call: EngineCall,
        stats: SiteStats,
        no_jar: aiohttp.DummyCookieJar,
    ) -> None:
        """POST the message. On return its reply is open (``response``); a redirect or a
        refusal (a signal among them) raises, with the reply closed."""
        headers = {
            "Content-Type": "application/json",
            "X-WP-Nonce": self.tokens.nonce,
            "Accept": "text/event-stream" if self.stream else "application/json",
            "Referer": self.tokens.config.page_url,
        }
        stats.chat_requests += 1
        request = session.post(
            self.url,
            data=self.body(),
            headers=headers,
            allow_redirects=False,
            **self._options(call, no_jar),
        )
        # Entered here and exited by ``close`` (what ``async with`` would do), so that the
        # caller reads the stream itself: no generator between it and the body.
        response = await request.__aenter__()
        self._request, self.response = request, response
        try:
            if response.status >= 300:
                await self._refuse(response)
            self._accept(response, call)
        except BaseException as error:
            await self.close(error)
            raise

    async def _refuse(self, response: StreamResponse) -> None:
        """A redirect, or the site's refusal (a signal among them), raised as its error."""
        if response.status < 400:
            refuse_login_wall(response)
            location = response.headers.get("Location", "?")
            raise ResponseStatusError(
                f"The site redirected its chat endpoint to {location}", status=response.status
            )
        body = await response.text_prefix()
        error = rest_error(response.status, response.headers, body, url=self.url)
        if error is not None:
            raise error

    def _accept(self, response: StreamResponse, call: EngineCall) -> None:
        self.thread.adopt_session(response.headers.getall("Set-Cookie", []))
        self._context["status"] = response.status
        if response.content_type == "text/event-stream":
            self._frames = FrameStream(**self._context)
            self._events = SSEDecoder(call.max_line_bytes)
            # (an async generator, typed as the iterator it is used as)
            self.chunks = response.iter_content()  # type: ignore[assignment]

    def feed(self, chunk: bytes) -> list[str]:
        """The answer text in the next piece of the event stream (thinking, status and the
        like left out)."""
        assert self._events is not None
        return self._texts(self._events.feed(chunk))

    def _texts(self, events: list[ServerSentEvent]) -> list[str]:
        frames = self._frames
        assert frames is not None
        texts = []
        for event in events:
            text = frames.feed(event)
            if text:
                texts.append(text)
            if frames.done:
                break
        return texts

    async def complete(self) -> str:
        """After the last chunk: the site's final reply (``final``; a whole one is read now),
        and the text still to hand over (``""`` for none): an event the stream left
        undispatched at its end, and what the final reply adds to the stream."""
        assert self.response is not None
        if self._frames is None or self._events is None:  # a whole answer: the site's reply
            self.final = whole_reply(await self.response.text(), **self._context)
            self.answer = self.final.reply
            return self.answer
        leftover = "" if self._frames.done else "".join(self._texts(self._events.flush()))
        self.final = self._frames.finish()
        streamed = self._frames.text
        tail = tail_of(streamed, self.final.reply)
        if tail is None:
            log.warning(
                "%s: the site's final reply differs from the text it streamed; the streamed "
                "text stands (ask with stream=False for the final text)",
                self.tokens.config.page_url,
            )
            tail = ""
        self.answer = streamed + tail
        return leftover + tail

    async def close(self, error: BaseException | None = None) -> None:
        """The request ended as ``async with`` ends it: the connection back to the pool
        (closed after an ``error``: the reply was not read to its end) and its slot given
        back, so the next request to the site may go (``connections_per_host``)."""
        if self.chunks is not None:
            await self.chunks.aclose()
        request, self._request = self._request, None
        if request is not None:
            kind = type(error) if error is not None else None
            await request.__aexit__(kind, error, None)
