"""Tests do not leak into each other through the process-wide site registry.

A test's local site listens on a free port, and a later test's site can get the same port
(under load it does). The registry keys sites by URL: without ``_forget_sites`` (conftest)
the second site inherited the first one's tokens (its generation, its nonce), and a
truncated first reply took two requests instead of one. The two tests below run in this
order (file order) and share one port on purpose.
"""

from __future__ import annotations

import pytest

from chatbridge import AIPower, TruncatedStreamError
from chatbridge.site import LocalSite, SiteConfig
from tests.conftest import free_port

_PORT: list[int] = []


async def test_a_legacy_site_is_talked_to_on_some_port() -> None:
    port = free_port()
    async with LocalSite(SiteConfig(generation="2.2"), port=port) as url:
        answer = await AIPower.create_async("", [{"role": "user", "content": "hi"}], site_url=url)
    assert "Echo: hi" in answer
    _PORT.append(port)


async def test_the_next_site_on_that_port_is_discovered_afresh() -> None:
    assert _PORT, "runs after the test above"
    site = LocalSite(SiteConfig(generation="aipkit", faults=("truncate",)), port=_PORT[0])
    async with site as url:
        with pytest.raises(TruncatedStreamError, match="cut off"):
            await AIPower.create_async("", [{"role": "user", "content": "a b c"}], site_url=url)
    assert site.stats.page_fetches == 1  # its own page, not the last site's tokens
    assert site.stats.ajax_requests == 1
