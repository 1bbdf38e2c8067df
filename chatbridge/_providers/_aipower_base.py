"""What every AI Power provider shares: turning a provider's class attributes into a site.

A provider on this base declares its site (``url``, optionally ``chat_path`` and ``bot_id``)
and its models; the protocol engine (``chatbridge._aipower``) does everything else.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

from .._aipower import (
    CallOptions,
    Conversation,
    SiteClient,
    SiteTarget,
    site_client,
    streams_known,
)
from .._checks import check_timeout
from .._constants import AIPOWER_TIMEOUT
from .._exceptions import InvalidRequestError, MissingSiteError
from .._types import HistoryListener, Messages
from ._sites import SiteProvider, check_origins  # check_origins: re-exported

__all__ = ["AIPowerSite", "check_origins"]


class AIPowerSite(SiteProvider):
    """Mixin: an AI Power site (see :class:`SiteProvider`)."""

    @classmethod
    def site(
        cls,
        site_url: str | None = None,
        chat_page: str | None = None,
        bot_id: int | str | None = None,
        endpoint_origins: Sequence[str] = (),
    ) -> SiteClient:
        return site_client(cls.target(SiteTarget, site_url, chat_page, bot_id, endpoint_origins))

    @classmethod
    def answers_whole(cls, options: Mapping[str, Any]) -> bool:
        """An AI Power site that does not stream sends nothing until its answer is done:
        whole, unless its page said it streams (AIPKit always does; plugin 1.7 never). A
        site not read yet counts as whole (the generous limit, until it is known)."""
        try:
            target = cls.target(
                SiteTarget,
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
        on_history: HistoryListener | None = None,
        connections_per_host: int | None = None,
        **ignored: Any,
    ) -> AsyncGenerator[str, None]:
        """``ignored``: options other providers take (``stream``, ``temperature``…). An AI
        Power site decides those itself (its own model, settings and prompt), so they are
        accepted and not sent.
        ``timeout`` is the deadline of the whole call in seconds (``None``: none); ``0``,
        negative, NaN, infinite or non-numeric values raise ``InvalidRequestError``.
        ``on_history``: called with a :class:`HistoryTrimmed`, before the text, when the
        conversation had to be shortened to fit the one message sent (a warning is logged
        either way).
        ``connections_per_host``: requests to the site at once from this process (default
        ``SITE_CONNECTIONS_PER_HOST``: a WordPress site runs few PHP workers)."""
        call = CallOptions(
            proxy=proxy,
            timeout=check_timeout(timeout),
            cookies=cookies,
            headers=headers,
            provider=cls.__name__,
            on_history=on_history,
            connections_per_host=connections_per_host,
        )
        client = cls.site(site_url, chat_page, bot_id, endpoint_origins)
        return client.stream(messages, conversation=conversation, call=call)
