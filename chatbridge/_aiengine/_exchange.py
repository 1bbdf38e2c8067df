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

import json
import logging
from collections.abc import AsyncGenerator
from typing import Any

import aiohttp

from .._exceptions import ResponseStatusError
from .._http._pages import refuse_login_wall
from .._http._session import StreamSession
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
    """One chat request and what came of it (``final``: the site's reply; ``text``: what was
    handed to the caller)."""

    def __init__(
        self, tokens: SiteTokens, prepared: Prepared, thread: Thread, *, stream: bool
    ) -> None:
        self.tokens = tokens
        self.prepared = prepared
        self.thread = thread
        self.stream = stream
        self.final: Final | None = None
        self.parts: list[str] = []

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def body(self) -> bytes:
        config, thread = self.tokens.config, self.thread
        session = config.session if config.generation == "g2" else thread.session
        data: dict[str, Any] = {
            "botId": config.bot_id,
            "customId": config.custom_id,
            "session": session,
            "chatId": thread.chat_id,
            "contextId": config.context_id,
            "messages": self.prepared.messages,
            "newMessage": self.prepared.new_message,
            "newFileId": None,
            "newFileIds": None,
            "stream": self.stream,
        }
        return json.dumps(data, ensure_ascii=False).encode("utf-8")

    def _options(self, call: EngineCall, no_jar: aiohttp.DummyCookieJar) -> dict[str, Any]:
        # The conversation keeps no jar (its one cookie is sent by name, to this request's
        # origin only); the site's page jar supplies the cookies of Cloudflare and the like.
        options = call.request_options(no_jar)
        if self.thread.session is not None:
            options["cookies"] = {**options.get("cookies", {}), SESSION_COOKIE: self.thread.session}
        return options

    async def run(
        self,
        session: StreamSession,
        call: EngineCall,
        stats: SiteStats,
        no_jar: aiohttp.DummyCookieJar,
    ) -> AsyncGenerator[str, None]:
        config = self.tokens.config
        url = config.endpoint(SUBMIT)
        headers = {
            "Content-Type": "application/json",
            "X-WP-Nonce": self.tokens.nonce,
            "Accept": "text/event-stream" if self.stream else "application/json",
            "Referer": config.page_url,
        }
        stats.chat_requests += 1
        async with session.post(
            url,
            data=self.body(),
            headers=headers,
            allow_redirects=False,
            **self._options(call, no_jar),
        ) as response:
            if 300 <= response.status < 400:
                refuse_login_wall(response)
                location = response.headers.get("Location", "?")
                raise ResponseStatusError(
                    f"The site redirected its chat endpoint to {location}", status=response.status
                )
            if response.status >= 400:
                body = await response.text_prefix()
                error = rest_error(response.status, response.headers, body, url=url)
                if error is not None:
                    raise error
            self.thread.adopt_session(response.headers.getall("Set-Cookie", []))
            if response.content_type == "text/event-stream":
                parser = FrameStream(url=url, status=response.status)
                async for event in response.sse():
                    chunk = parser.feed(event)
                    if chunk:
                        self.parts.append(chunk)
                        yield chunk
                    if parser.done:
                        break
                self.final = parser.finish()
            else:
                self.final = whole_reply(await response.text(), url=url, status=response.status)
        tail = tail_of(self.text, self.final.reply)
        if tail is None:
            log.warning(
                "%s: the site's final reply differs from the text it streamed; the streamed "
                "text stands (ask with stream=False for the final text)",
                config.page_url,
            )
        elif tail:
            self.parts.append(tail)
            yield tail
