"""A plain aiohttp client for talking to the fake upstream at the HTTP level."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def sse_data(body: str) -> list[str]:
    """The ``data:`` payloads of an SSE body, checking OpenAI's framing on the way."""
    assert body.endswith("\n\n")
    events = body.split("\n\n")[:-1]
    assert all(event.startswith("data: ") and "\n" not in event for event in events), events
    return [event[len("data: ") :] for event in events]
