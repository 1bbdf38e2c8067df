"""What a long-running client keeps: nothing per call once the call is over (the soak in
``bench/bench_soak.py`` measures a server's memory over 100,000 requests; these are its
findings, counted exactly)."""

from __future__ import annotations

import gc

from chatbridge import AsyncClient
from chatbridge._client._health import HealthBook
from chatbridge._http._session import StreamSession
from chatbridge.upstream import LocalUpstream

from .wall import QUESTION


def _live(kind: type) -> int:
    gc.collect()
    return sum(1 for thing in gc.get_objects() if isinstance(thing, kind))


async def test_calls_leave_no_session_behind() -> None:
    """Each call's timeout is what is left of its deadline, a new number every time; it once
    chose the provider's shared session, so every call kept one more session (with its
    aiohttp session and headers) for as long as the loop ran: about 1.7 kB per request."""
    async with LocalUpstream() as url:
        client = AsyncClient(
            routes={"r": [{"provider": "OpenAICompatible", "base_url": url, "model": "m"}]},
            health=HealthBook(),
        )
        for _ in range(5):
            await client.chat.completions.create(model="r", messages=QUESTION)
        before = _live(StreamSession)
        for _ in range(60):
            await client.chat.completions.create(model="r", messages=QUESTION)
            stream = client.chat.completions.create(model="r", messages=QUESTION, stream=True)
            async with stream:
                async for _chunk in stream:
                    pass
        after = _live(StreamSession)
    assert before >= 1 and after == before
