"""What went over the wire per site, whichever plugin it runs: for ``/metrics``
(``AsyncClient.site_stats``)."""

from __future__ import annotations

from .._aiengine import site_stats as engine_stats
from .._aipower import site_stats as power_stats

__all__ = ["wire_stats"]


def wire_stats() -> dict[str, dict[str, int]]:
    """Per site this process talks to: page fetches, nonce (token) refreshes,
    re-discoveries, chat requests and answered messages, as plain counts; AI Engine sites
    also count their ``start_session`` calls and the nonces their replies handed over."""
    sites = {
        url: {
            "page_fetches": stats.page_fetches,
            "token_refreshes": stats.nonce_refreshes,
            "rediscoveries": stats.rediscoveries,
            "chat_requests": stats.chat_requests,
            "messages": stats.messages,
        }
        for url, stats in power_stats().items()
    }
    for url, engine in engine_stats().items():
        sites[url] = {
            "page_fetches": engine.page_fetches,
            "token_refreshes": engine.nonce_refreshes,
            "rediscoveries": engine.rediscoveries,
            "chat_requests": engine.chat_requests,
            "messages": engine.messages,
            "session_starts": engine.session_starts,
            "new_tokens": engine.new_tokens,
        }
    return sites
