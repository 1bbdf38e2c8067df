"""Fixtures: the local AI Power and AI Engine sites, started per test with the configuration
it asks for."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from typing import Any

import pytest

from chatbridge.site import AIEngineSiteConfig, LocalSite, SiteConfig

SiteFactory = Callable[..., Any]


@pytest.fixture
async def local_site() -> AsyncIterator[SiteFactory]:
    """``site, url = await local_site(generation="1.8", stream=True)``."""
    async with AsyncExitStack() as stack:

        async def start(**options: Any) -> tuple[LocalSite, str]:
            site = LocalSite(SiteConfig(**options))
            url = await stack.enter_async_context(site)
            return site, url

        yield start


@pytest.fixture
async def engine_site() -> AsyncIterator[SiteFactory]:
    """``site, url = await engine_site(generation="2.4", permalinks="plain")``: the local AI
    Engine site."""
    async with AsyncExitStack() as stack:

        async def start(**options: Any) -> tuple[LocalSite, str]:
            site = LocalSite(AIEngineSiteConfig(**options))
            url = await stack.enter_async_context(site)
            return site, url

        yield start


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}
