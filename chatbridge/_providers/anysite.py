"""``AnySite``: any supported WordPress chat site; the plugin (AI Power or AI Engine) is found
from its page, once per site, and the call goes to that plugin's provider."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from typing import Any, ClassVar

from .._checks import check_timeout
from .._constants import AIPOWER_TIMEOUT
from .._exceptions import NotAIEngineSiteError, NotAIPowerSiteError
from .._http._call import Call
from .._types import Chunk, Messages
from ._base import AsyncGeneratorProvider
from ._family import find_provider
from ._models import ProviderModelMixin
from ._sites import SiteProvider

__all__ = ["AnySite"]


class AnySite(SiteProvider, AsyncGeneratorProvider, ProviderModelMixin):
    """``AnySite.create_async_generator(model="", messages=..., site_url="https://example.org")``:
    what ``AIPower`` or ``AIEngine`` would answer, whichever plugin the site runs. What a
    route target with only ``site_url``, ``Client(site_url=...)`` and ``serve --site`` use.
    A site that changed its plugin since it was looked at is looked at again, once."""

    working: ClassVar[bool] = True
    supports_stream: ClassVar[bool] = True
    supports_system_message: ClassVar[bool] = True
    supports_message_history: ClassVar[bool] = True
    default_model: ClassVar[str | None] = "site-default"
    models: ClassVar[list[str]] = []

    @classmethod
    async def create_async_generator(  # type: ignore[override]  # yields Chunk, not only str
        cls,
        model: str,
        messages: Messages,
        proxy: str | None = None,
        timeout: float | None = AIPOWER_TIMEOUT,
        site_url: str | None = None,
        chat_page: str | None = None,
        bot_id: int | str | None = None,
        endpoint_origins: Sequence[str] = (),
        **kwargs: Any,
    ) -> AsyncIterator[Chunk]:
        """``timeout``: the deadline of the whole call, finding the plugin included."""
        cls.get_model(model)
        url = cls.require_url(site_url)
        call = Call(proxy=proxy, timeout=check_timeout(timeout), provider=cls.__name__)
        call.start()
        origins = tuple(endpoint_origins)
        provider = await find_provider(url, chat_page, bot_id, call, endpoint_origins=origins)
        for last in (False, True):
            options = {**kwargs, "proxy": proxy, "timeout": call.remaining()}
            options.update(site_url=url, chat_page=chat_page, bot_id=bot_id)
            options["endpoint_origins"] = origins
            stream = provider.create_async_generator(model, messages, **options)  # type: ignore[attr-defined]
            yielded = False
            try:
                async with aclosing(stream) as chunks:
                    async for chunk in chunks:
                        yielded = True
                        yield chunk
                return
            except (NotAIPowerSiteError, NotAIEngineSiteError):
                if yielded or last:
                    raise
                # The site changed plugins since it was looked at: look again, once.
                provider = await find_provider(
                    url, chat_page, bot_id, call, wrong=provider, endpoint_origins=origins
                )
