"""One deadline over many awaits: it fires only while an await is pending."""

from __future__ import annotations

import asyncio

import pytest

from chatbridge._client._watchdog import Watchdog


async def test_a_pending_wait_times_out_at_its_due_time() -> None:
    dog = Watchdog()
    started = dog.now()
    with pytest.raises(TimeoutError):
        await dog.wait(asyncio.sleep(10), started + 0.05)
    assert 0.04 <= dog.now() - started < 0.5
    dog.close()


async def test_moving_the_due_time_later_needs_no_new_timer() -> None:
    dog = Watchdog()
    started = dog.now()
    for _ in range(5):  # each wait finishes in time, though the total passes the first due
        assert await dog.wait(asyncio.sleep(0.02, "ok"), dog.now() + 0.05) == "ok"
    assert dog.now() - started >= 0.1  # well past the first due time: no false timeout
    dog.close()


async def test_time_spent_outside_a_wait_does_not_fire_it() -> None:
    dog = Watchdog()
    await dog.wait(asyncio.sleep(0), dog.now() + 0.03)
    await asyncio.sleep(0.06)  # the caller is busy: nothing to cancel
    assert await dog.wait(asyncio.sleep(0, "ok"), dog.now() + 0.03) == "ok"
    dog.close()


async def test_an_outside_cancellation_is_not_turned_into_a_timeout() -> None:
    dog = Watchdog()

    async def waiter() -> None:
        await dog.wait(asyncio.sleep(10), dog.now() + 5)

    task = asyncio.create_task(waiter())
    await asyncio.sleep(0.01)
    task.cancel()  # long before the due time
    with pytest.raises(asyncio.CancelledError):
        await task
    racing = asyncio.create_task(dog.wait(asyncio.sleep(10), dog.now() + 0.02))
    await asyncio.sleep(0.02)  # the due time and the outside cancellation in one tick
    racing.cancel()
    with pytest.raises((asyncio.CancelledError, TimeoutError)):
        await racing  # either way it ends at once, never a hang
    dog.close()


async def test_waits_from_different_tasks_share_one_watchdog() -> None:
    dog = Watchdog()
    due = dog.now() + 0.05
    assert await asyncio.create_task(dog.wait(asyncio.sleep(0, 1), due)) == 1
    with pytest.raises(TimeoutError):
        await asyncio.create_task(dog.wait(asyncio.sleep(1), due))
    dog.close()
