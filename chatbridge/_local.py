"""Serving an aiohttp app on a local port, for the two local servers the project ships (the
AI Power site and the fake OpenAI-compatible upstream): ``async with`` gives the base URL."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Any

from aiohttp import web

__all__ = ["LocalServer"]


class LocalServer(ABC):
    """Subclasses implement :meth:`start` with :meth:`_listen` and :meth:`stop` with
    :meth:`_close`, adding what they own around them."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _listen(self, app: web.Application, path: str = "", **options: Any) -> str:
        """Serve ``app`` (``port`` 0 picks a free one); returns and keeps the base URL."""
        runner = web.AppRunner(app, access_log=None, handle_signals=False, **options)
        await runner.setup()
        await web.TCPSite(runner, self.host, self.port).start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        self.url = f"http://{self.host}:{self.port}{path}"
        return self.url

    async def _close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @abstractmethod
    async def start(self) -> str:
        """Start serving; returns the base URL."""

    async def stop(self) -> None:
        await self._close()

    async def __aenter__(self) -> str:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
