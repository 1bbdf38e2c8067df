"""Redis away: one warning, answers from memory, Redis used again when it is back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import pytest

from chatbridge._exceptions import ConfigError
from chatbridge._state import FallbackStore, MemoryStore, open_store
from chatbridge._state._interface import Mark
from chatbridge._state._redis import RedisStore
from tests.redisd import RedisServer, free_port


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_down_then_back(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "chatbridge.state")
    clock = Clock()
    with RedisServer() as redis:
        store = FallbackStore(RedisStore(redis.url), MemoryStore(), name="Redis", clock=clock)
        assert await store.check()
        await store.set("k", b"shared", 60)
        redis.kill()
        answers = await asyncio.gather(*(store.incr("n", 60) for _ in range(20)))
        assert sorted(answers) == list(range(1, 21))  # from memory, none failed
        assert store.degraded and await store.get("k") is None  # memory never had it
        redis.start()
        clock.now += 0.5  # within the back-off: still memory, no new warning
        assert await store.incr("n", 60) == 21
        clock.now += 1.0
        assert await store.incr("n", 60) == 1  # Redis again (restarted empty)
        assert not store.degraded and (store.outages, store.recoveries) == (1, 1)
        await store.close()
    messages = [r.getMessage() for r in caplog.records]
    assert sum(" is unavailable (" in m for m in messages) == 1, messages
    assert sum(" is back" in m for m in messages) == 1, messages


async def test_unreachable_at_start_and_the_back_off_grows() -> None:
    clock = Clock()
    nowhere = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    store = FallbackStore(RedisStore(nowhere), MemoryStore(), clock=clock)
    assert not await store.check()
    assert await store.acquire("lock", 10) is not None  # memory answers
    waits = []
    for _ in range(5):
        clock.now = store._retry_at
        await store.get("x")  # a retry that fails again
        waits.append(store._retry_at - clock.now)
    assert waits == [2.0, 4.0, 5.0, 5.0, 5.0]
    await store.close()


def test_open_store_refuses_a_bad_url() -> None:
    assert isinstance(open_store(None), MemoryStore)
    for url in ("http://127.0.0.1:6379", "redis", "redis://"):
        with pytest.raises(ConfigError):
            open_store(url)
    assert isinstance(open_store("redis://127.0.0.1:1/0"), FallbackStore)


async def test_a_stalled_redis_costs_a_call_at_most_its_time_limit() -> None:
    import os
    import signal
    import time

    clock = Clock()
    with RedisServer() as redis:
        store = FallbackStore(RedisStore(redis.url), MemoryStore(), clock=clock)
        assert await store.check()
        assert redis.process is not None
        os.kill(redis.process.pid, signal.SIGSTOP)  # alive, but answers nothing
        try:
            started = time.monotonic()
            results = await asyncio.gather(*(store.incr("n", 60) for _ in range(10)))
            took = time.monotonic() - started
            assert sorted(results) == list(range(1, 11)) and store.degraded
            assert took < 0.6, took  # one 0.25 s time limit, not one per call
        finally:
            os.kill(redis.process.pid, signal.SIGCONT)
        clock.now += 1.0
        assert await store.incr("after", 60) == 1  # Redis answers again
        assert not store.degraded
        await store.close()


@contextlib.asynccontextmanager
async def slow_first_answer(port: int, hold: float) -> AsyncIterator[str]:
    """A relay to the Redis on ``port`` whose first connection's first answer arrives ``hold``
    seconds late (a busy machine's first reach: a process not yet warm, a handshake that
    waits for the CPU); the URL of the relay."""
    first = True
    ends: list[asyncio.StreamWriter] = []

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, hold: float) -> None:
        data = await reader.read(65536)
        if hold:
            await asyncio.sleep(hold)  # the slowness simulated, not a wait in the test
        while data:
            writer.write(data)
            await writer.drain()
            data = await reader.read(65536)
        writer.close()

    async def relay(client_reader: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        nonlocal first
        held, first = hold if first else 0.0, False
        redis_reader, redis = await asyncio.open_connection("127.0.0.1", port)
        ends.extend((client, redis))
        with contextlib.suppress(OSError):
            await asyncio.gather(pipe(client_reader, redis, 0.0), pipe(redis_reader, client, held))

    server = await asyncio.start_server(relay, "127.0.0.1", 0)
    try:
        yield f"redis://127.0.0.1:{server.sockets[0].getsockname()[1]}/0"
    finally:
        server.close()
        for end in ends:
            end.close()
        await server.wait_closed()


async def test_a_slow_first_reach_at_start_is_not_an_outage(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Under load a process's first Redis call (a connection opened, its handshake, a script
    # loaded) took longer than a call's 0.25 s: the server started "degraded", kept its
    # state to itself, and a fleet fetched one site's page once per process.
    caplog.set_level(logging.WARNING, "chatbridge.state")
    with RedisServer() as redis:
        async with slow_first_answer(redis.port, hold=0.5) as url:
            store = FallbackStore(RedisStore(url), MemoryStore(), name="Redis")
            assert await store.check()
            assert await store.incr("n", 60) == 1 and not store.degraded
            direct = RedisStore(redis.url)
            assert await direct.incr("n", 60) == 2  # the count is Redis's, not memory's
            # Every script was loaded at start: no later call pays for loading one.
            shas = [script.sha for script in direct._scripts.values()]
            assert await direct._redis.script_exists(*shas) == [True] * len(shas)
            await direct.close()
            await store.close()
    assert not [r.getMessage() for r in caplog.records]


async def test_a_stalled_redis_at_start_is_an_outage_after_the_start_limit() -> None:
    import os
    import signal

    with RedisServer() as redis:
        assert redis.process is not None
        os.kill(redis.process.pid, signal.SIGSTOP)  # alive, but answers nothing
        try:
            store = FallbackStore(RedisStore(redis.url), MemoryStore())
            assert not await store.check(timeout=0.5)
            assert store.degraded and store.outages == 1
            assert await store.incr("n", 60) == 1  # memory answers
        finally:
            os.kill(redis.process.pid, signal.SIGCONT)
        await store.close()


async def test_a_count_sent_twice_under_one_mark_counts_once(redis_server: RedisServer) -> None:
    store = RedisStore(redis_server.url, namespace="marks")
    try:
        first = await store.tally({"c": {"n": 1}}, 60, mark=Mark("w", 1, 1))
        again = await store.tally({"c": {"n": 1}}, 60, mark=Mark("w", 1, 1))
        other = await store.tally({"c": {"n": 1}}, 60, mark=Mark("w", 2, 1))
        assert first.applied and again.applied and other.applied
        assert await store.tallies("c") == [{"n": 2}]
        await store.tally({"c": {"n": 1}}, 60, mark=Mark("w", 3, 3))  # marks below 3 go
        assert (await store.tally({"c": {"n": 1}}, 60, mark=Mark("w", 1, 3))).applied
        assert await store.tallies("c") == [{"n": 4}]
    finally:
        await store._redis.flushdb()
        await store.close()


async def test_counts_made_while_redis_is_away_are_added_back_once() -> None:
    """A real redis-server (every write on disk) killed mid-way and restarted: what was
    counted meanwhile is added back when it returns; no count lost, none counted twice."""
    clock = Clock()
    with RedisServer(persist=True) as redis:
        store = FallbackStore(RedisStore(redis.url), MemoryStore(), clock=clock)
        limits = {"quota": {"requests": 25}}
        for _ in range(10):
            assert (await store.tally({"quota": {"requests": 1}}, 60, limits)).applied
        redis.kill()
        away = [await store.tally({"quota": {"requests": 1}}, 60, limits) for _ in range(20)]
        assert [t.applied for t in away].count(True) == 15  # the limit still holds, locally
        assert await store.tallies("quota") == [{"requests": 25}]  # as this process knows
        redis.start()
        clock.now += 1.0
        await store.tally({"other": {"n": 1}}, 60)  # Redis answers: what is owed goes back
        assert await store.settle()
        assert await store.tallies("quota") == [{"requests": 25}]
        fresh = RedisStore(redis.url)  # another process reads it from Redis itself
        assert await fresh.tallies("quota", "other") == [{"requests": 25}, {"n": 1}]
        await fresh.close()
        await store.close()


async def test_a_count_whose_reply_was_lost_is_not_counted_twice() -> None:
    """Redis stalled: the count's call times out with its fate unknown (Redis runs it when it
    wakes, or not); sent back under its mark, it is counted exactly once either way."""
    import os
    import signal

    clock = Clock()
    with RedisServer() as redis:
        store = FallbackStore(RedisStore(redis.url), MemoryStore(), clock=clock)
        await store.tally({"c": {"n": 1}}, 60)
        assert redis.process is not None
        os.kill(redis.process.pid, signal.SIGSTOP)
        try:
            lost = await store.tally({"c": {"n": 1}}, 60)  # times out: fate unknown
            assert lost.applied and store.degraded
            await store.tally({"c": {"n": 1}}, 60)  # away: owed
        finally:
            os.kill(redis.process.pid, signal.SIGCONT)
        clock.now += 1.0
        assert await store.settle()
        assert await store.tallies("c") == [{"n": 3}]
        await store.close()
