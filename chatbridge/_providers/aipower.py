"""``AIPower``: any WordPress site running the AI Power chat plugin, in any generation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any, ClassVar

from .._constants import AIPOWER_TIMEOUT
from .._types import Messages
from ._aipower_base import AIPowerSite
from ._base import AsyncGeneratorProvider
from ._models import ProviderModelMixin

__all__ = ["AIPower"]


class AIPower(AIPowerSite, AsyncGeneratorProvider, ProviderModelMixin):
    """Point it at a site: ``AIPower.create_async_generator(model="", messages=...,
    site_url="https://example.org", chat_page="/chat/", bot_id=None)``.

    The site decides which model answers (the plugin ignores the client's choice), so any
    model name is accepted and only labels the request.
    """

    url: ClassVar[str | None] = None
    working: ClassVar[bool] = True
    supports_stream: ClassVar[bool] = True
    supports_system_message: ClassVar[bool] = True
    supports_message_history: ClassVar[bool] = True
    default_model: ClassVar[str | None] = "site-default"
    models: ClassVar[list[str]] = []

    @classmethod
    async def create_async_generator(
        cls,
        model: str,
        messages: Messages,
        proxy: str | None = None,
        timeout: float | None = AIPOWER_TIMEOUT,
        site_url: str | None = None,
        chat_page: str | None = None,
        bot_id: int | str | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[str]:
        cls.get_model(model)
        stream = cls._stream_site(
            messages,
            proxy=proxy,
            timeout=timeout,
            site_url=site_url,
            chat_page=chat_page,
            bot_id=bot_id,
            **kwargs,
        )
        async with aclosing(stream) as chunks:
            async for chunk in chunks:
                yield chunk
