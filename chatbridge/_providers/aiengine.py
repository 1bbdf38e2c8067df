"""``AIEngine``: any WordPress site running the AI Engine chat plugin (Meow Apps), in either
generation (the REST nonce in the page, or ``start_session``)."""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Sequence
from typing import Any, ClassVar

from .._aiengine import EngineCall, SiteClient, SiteTarget, Thread, site_client
from .._aipower import Conversation
from .._constants import AIENGINE_TIMEOUT
from .._types import Chunk, HistoryListener, Messages
from ._base import AsyncGeneratorProvider
from ._models import ProviderModelMixin
from ._sites import SiteProvider

__all__ = ["AIEngine"]

#: The AI Engine side of each :class:`Conversation` a caller passes, per site (a chatId and a
#: session are one site's): they live as long as the conversation object does.
_threads: weakref.WeakKeyDictionary[Conversation, dict[str, Thread]] = weakref.WeakKeyDictionary()




def _thread(conversation: Conversation | None, site: SiteClient) -> Thread | None:
    if conversation is None:
        return None
    threads = _threads.setdefault(conversation, {})
    thread = threads.get(site.target.key)
    if thread is None:
        thread = threads[site.target.key] = Thread()
    return thread


class AIEngine(SiteProvider, AsyncGeneratorProvider, ProviderModelMixin):
    """Point it at a site: ``AIEngine.create_async_generator(model="", messages=...,
    site_url="https://example.org", chat_page="/chat/", bot_id=None)``.

    The site's bot decides which model answers, so any model name is accepted and only labels
    the request. ``bot_id`` picks a bot by its ``botId`` or ``customId`` (default: the page's
    first chat); ``stream=False`` asks the site for its whole answer at once; ``conversation``
    (a :class:`Conversation`) keeps one ``chatId`` across calls. The answer's token counts
    follow the text as a :class:`Usage` chunk when the site says they are real.
    """

    working: ClassVar[bool] = True
    supports_stream: ClassVar[bool] = True
    #: Its replies carry the usage the site counted (a later G3 says when it only guessed).
    reports_usage: ClassVar[bool] = True
    supports_system_message: ClassVar[bool] = True
    supports_message_history: ClassVar[bool] = True
    default_model: ClassVar[str | None] = "site-default"
    models: ClassVar[list[str]] = []

    @classmethod
    def site(
        cls,
        site_url: str | None = None,
        chat_page: str | None = None,
        bot_id: int | str | None = None,
        endpoint_origins: Sequence[str] = (),
    ) -> SiteClient:
        """The engine's client of the site (shared: one nonce cache per site).
        ``endpoint_origins``: origins besides the page's own its REST root may be on."""
        return site_client(cls.target(SiteTarget, site_url, chat_page, bot_id, endpoint_origins))

    @classmethod
    def create_async_generator(  # type: ignore[override]  # yields Chunk, not only str
        cls,
        model: str,
        messages: Messages,
        proxy: str | None = None,
        timeout: float | None = AIENGINE_TIMEOUT,
        site_url: str | None = None,
        chat_page: str | None = None,
        bot_id: int | str | None = None,
        conversation: Conversation | None = None,
        stream: bool = True,
        endpoint_origins: Sequence[str] = (),
        cookies: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        on_history: HistoryListener | None = None,
        connections_per_host: int | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[Chunk]:
        """``kwargs``: options other providers take (``temperature``…): the site's bot
        decides those itself, so they are accepted and not sent. ``timeout`` is the deadline
        of the whole call in seconds (``None``: none). ``on_history``: called with a
        :class:`HistoryTrimmed`, before the text, when the conversation had more messages
        than the bot keeps and its oldest were folded into one (a warning is logged either
        way). ``connections_per_host``: requests to the site at once from this process
        (default ``SITE_CONNECTIONS_PER_HOST``)."""
        cls.get_model(model)
        call = EngineCall(
            proxy=proxy,
            timeout=timeout,  # (checked by the call: InvalidRequestError)
            cookies=cookies,
            headers=headers,
            provider=cls.__name__,
            on_history=on_history,
            connections_per_host=connections_per_host,
        )
        client = cls.site(site_url, chat_page, bot_id, endpoint_origins)
        # The engine's own stream, not a generator around it: one layer less per chunk.
        return client.stream(
            messages, thread=_thread(conversation, client), call=call, stream=stream
        )
