"""What every AI Power provider shares: turning a provider's class attributes into a site.

A provider on this base declares its site (``url``, optionally ``chat_path`` and ``bot_id``)
and its models; the protocol engine (``chatbridge._aipower``) does everything else.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any, ClassVar

from .._aipower import CallOptions, SiteClient, SiteTarget, site_client, site_stats, streams_known
from .._aipower._conversation import Conversation
from .._checks import check_timeout
from .._constants import AIPOWER_TIMEOUT
from .._exceptions import InvalidRequestError, MissingSiteError
from .._http._guard import origin
from .._types import Messages

__all__ = ["AIPowerSite", "wire_stats"]


class AIPowerSite:
    """Mixin: the site a provider talks to, derived from its class attributes at call time,
    so assigning ``Provider.url`` retargets page, endpoint and token cache at once."""

    url: ClassVar[str | None] = None
    #: Path (or URL) of the page that holds the chat; ``None`` for the home page.
    chat_path: ClassVar[str | None] = None
    #: The bot to talk to when a page has several; ``None`` for the page's first chat.
    bot_id: ClassVar[int | str | None] = None

    @classmethod
    def site(
        cls,
        site_url: str | None = None,
        chat_page: str | None = None,
        bot_id: int | str | None = None,
        endpoint_origins: Sequence[str] = (),
    ) -> SiteClient:
        return site_client(cls._site_target(site_url, chat_page, bot_id, endpoint_origins))

    @classmethod
    def _site_target(
        cls,
        site_url: str | None,
        chat_page: str | None,
        bot_id: int | str | None,
        endpoint_origins: Sequence[str],
    ) -> SiteTarget:
        url = site_url or cls.url
        if not url:
            raise MissingSiteError(
                f"{cls.__name__} needs a site URL: pass site_url=... or set {cls.__name__}.url",
                provider=cls.__name__,
            )
        return SiteTarget(
            url=url.rstrip("/"),
            chat_page=chat_page if chat_page is not None else cls.chat_path,
            bot_id=bot_id if bot_id is not None else cls.bot_id,
            endpoint_origins=check_origins(endpoint_origins),
        )

    @classmethod
    def answers_whole(cls, options: Mapping[str, Any]) -> bool:
        """An AI Power site that does not stream sends nothing until its answer is done:
        whole, unless its page said it streams (AIPKit always does; plugin 1.7 never). A
        site not read yet counts as whole (the generous limit, until it is known)."""
        try:
            target = cls._site_target(
                options.get("site_url"),
                options.get("chat_page"),
                options.get("bot_id"),
                options.get("endpoint_origins") or (),
            )
        except (MissingSiteError, InvalidRequestError):
            return True
        return streams_known(target) is not True

    @classmethod
    def _stream_site(
        cls,
        messages: Messages,
        *,
        proxy: str | None = None,
        timeout: float | None = AIPOWER_TIMEOUT,
        cookies: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        conversation: Conversation | None = None,
        site_url: str | None = None,
        chat_page: str | None = None,
        bot_id: int | str | None = None,
        endpoint_origins: Sequence[str] = (),
        **ignored: Any,
    ) -> AsyncGenerator[str, None]:
        """``ignored``: options other providers take (``stream``, ``temperature``…). An AI
        Power site decides those itself (its own model, settings and prompt), so they are
        accepted and not sent.
        ``timeout`` is the deadline of the whole call in seconds (``None``: none); ``0``,
        negative, NaN, infinite or non-numeric values raise ``InvalidRequestError``."""
        call = CallOptions(
            proxy=proxy,
            timeout=check_timeout(timeout),
            cookies=cookies,
            headers=headers,
            provider=cls.__name__,
        )
        client = cls.site(site_url, chat_page, bot_id, endpoint_origins)
        return client.stream(messages, conversation=conversation, call=call)


def check_origins(origins: Sequence[str] | None) -> tuple[str, ...]:
    """``endpoint_origins`` as a tuple of ``"*"`` or ``scheme://host[:port]`` strings; any
    other value is the caller's mistake (``InvalidRequestError``)."""
    if not origins:
        return ()
    if isinstance(origins, str) or not all(isinstance(o, str) and o for o in origins):
        raise InvalidRequestError(
            "endpoint_origins must be a list of origins like 'https://host' (or '*')",
            param="endpoint_origins",
        )
    for item in origins:
        if item != "*" and not (item.startswith(("http://", "https://")) and origin(item)[1]):
            raise InvalidRequestError(
                f"endpoint_origins: {item!r} is not an origin like 'https://host'",
                param="endpoint_origins",
            )
    return tuple(origins)


def wire_stats() -> dict[str, dict[str, int]]:
    """Per AI Power site this process talks to: page fetches, nonce (token) refreshes,
    re-discoveries, chat requests and answered messages, as plain counts."""
    return {
        url: {
            "page_fetches": stats.page_fetches,
            "token_refreshes": stats.nonce_refreshes,
            "rediscoveries": stats.rediscoveries,
            "chat_requests": stats.chat_requests,
            "messages": stats.messages,
        }
        for url, stats in site_stats().items()
    }
