"""``Chatgpt4o``: the chatgpt4o.one AI Power site (gone; ``working = False``)."""

from __future__ import annotations

from contextlib import aclosing
from typing import Any, ClassVar

from .._constants import CHATGPT4O_TIMEOUT
from .._types import Messages
from ._aipower_base import AIPowerSite
from ._base import AsyncProvider
from ._models import ProviderModelMixin

__all__ = ["Chatgpt4o"]


class Chatgpt4o(AIPowerSite, AsyncProvider, ProviderModelMixin):
    url: ClassVar[str | None] = "https://chatgpt4o.one"
    gone_url: ClassVar[str | None] = "https://chatgpt4o.one"
    working: ClassVar[bool] = False
    default_model: ClassVar[str | None] = "gpt-4o-mini-2024-07-18"
    models: ClassVar[list[str]] = ["gpt-4o-mini-2024-07-18"]
    model_aliases: ClassVar[dict[str, str | list[str]]] = {"gpt-4o-mini": "gpt-4o-mini-2024-07-18"}

    @classmethod
    async def create_async(
        cls,
        model: str,
        messages: Messages,
        proxy: str | None = None,
        timeout: float = CHATGPT4O_TIMEOUT,
        cookies: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> str:
        """The whole answer of the site to ``messages`` (the site picks its own model; an
        unknown ``model`` is still refused, as the seed's model list promises)."""
        cls.get_model(model)
        stream = cls._stream_site(messages, proxy=proxy, timeout=timeout, cookies=cookies, **kwargs)
        async with aclosing(stream) as chunks:
            return "".join([chunk async for chunk in chunks])
