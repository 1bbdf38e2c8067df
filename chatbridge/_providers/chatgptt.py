"""``ChatGptt``: the chatgptt.me AI Power site (gone; ``working = False``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any, ClassVar

from .._types import Messages
from ._aipower_base import AIPowerSite
from ._base import AsyncGeneratorProvider, _ClassProperty
from ._models import ProviderModelMixin

__all__ = ["ChatGptt"]


class ChatGptt(AIPowerSite, AsyncGeneratorProvider, ProviderModelMixin):
    url: ClassVar[str | None] = "https://chatgptt.me"
    gone_url: ClassVar[str | None] = "https://chatgptt.me"
    #: Derived from ``url`` on every read, so changing ``url`` moves the endpoint with it.
    api_endpoint: ClassVar[str] = _ClassProperty(  # type: ignore[assignment]
        lambda cls: f"{(cls.url or '').rstrip('/')}/wp-admin/admin-ajax.php"
    )
    working: ClassVar[bool] = False
    supports_stream: ClassVar[bool] = True
    supports_system_message: ClassVar[bool] = True
    supports_message_history: ClassVar[bool] = True
    default_model: ClassVar[str | None] = "gpt-4o"
    models: ClassVar[list[str]] = ["gpt-4", "gpt-4o", "gpt-4o-mini"]

    @classmethod
    async def create_async_generator(
        cls,
        model: str,
        messages: Messages,
        proxy: str | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[str]:
        """The site's answer in chunks, as they arrive."""
        cls.get_model(model)
        async with aclosing(cls._stream_site(messages, proxy=proxy, **kwargs)) as chunks:
            async for chunk in chunks:
                yield chunk
