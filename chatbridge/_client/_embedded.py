"""The embedded default: with no provider, routes or config, a client answers from the
built-in local AI Power site (``chatbridge.site``), started on first use on the client's loop
and stopped when the client closes. It lets the README's first example and ``chatbridge serve``
work on a fresh machine with nothing configured."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

from .._providers.aipower import AIPower
from ._config import Route, Target

__all__ = ["DEFAULT_ROUTE", "EmbeddedSite"]

DEFAULT_ROUTE = "default"


class EmbeddedSite:
    def __init__(self) -> None:
        self._stack: AsyncExitStack | None = None
        self._route: Route | None = None
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def route(self) -> Route:
        loop = asyncio.get_running_loop()
        if self._route is not None and self._loop is loop:
            return self._route
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop, self._route = asyncio.Lock(), loop, None
        async with self._lock:
            if self._route is None:
                from ..site import LocalSite  # only the embedded default needs the site

                stack = AsyncExitStack()
                url = await stack.enter_async_context(LocalSite())
                self._stack = stack
                target = Target(AIPower, {"site_url": url}, name=f"built-in local site {url}")
                self._route = Route(DEFAULT_ROUTE, (target,))
        return self._route

    async def aclose(self) -> None:
        stack, self._stack, self._route = self._stack, None, None
        if stack is not None:
            await stack.aclose()
