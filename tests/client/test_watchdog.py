"""One deadline over many awaits: it fires only while an await is pending.

The machine may be busy (other test runs share its cores), and a busy machine can freeze this
process for half a second or more. A frozen loop that wakes past a due time rightly takes the
wait as expired (``asyncio.timeout`` does the same), so: a wait that must finish in time is
given 30 s, or never yields to the loop (``_at_once``: no ring can find it pending); a short
due time is used only where the wait must time out, held to "not before its due time, and long
before what it waits for would end"; and a test that needs the timer to have rung waits for
that, not for a fixed time."""

from __future__ import annotations

import asyncio

import pytest

from chatbridge._client._watchdog import Watchdog

#: Long enough that no freeze of a busy machine reaches it.
FAR = 30.0


async def _at_once(value: object = None) -> object:
    """An await that completes without yielding to the loop."""
    return value


def _live_alarm_timers(loop: asyncio.AbstractEventLoop) -> int:
    return sum(
        1
        for handle in loop._scheduled  # type: ignore[attr-defined]
        if not handle.cancelled() and getattr(handle._callback, "__name__", "") == "_ring"
    )


async def _until_refiled(dog: Watchdog) -> None:
    """Until the timer has rung for ``dog``'s early entry and found its wait given longer:
    the entry is filed again for the later due time."""
    for _ in range(30_000):  # 30 s at least, for the ring of an entry due in milliseconds
        if dog.filed == dog.due:
            return
        await asyncio.sleep(0.001)
    raise AssertionError(f"the early entry was never filed again ({dog.filed} != {dog.due})")


async def test_a_pending_wait_times_out_at_its_due_time() -> None:
    dog = Watchdog()
    started = dog.now()
    with pytest.raises(TimeoutError):
        await dog.wait(asyncio.sleep(10), started + 0.05)
    assert 0.05 <= dog.now() - started < 5  # at its due time, not at the sleep's end
    dog.close()


async def test_moving_the_due_time_later_needs_no_new_timer() -> None:
    loop = asyncio.get_running_loop()
    dog = Watchdog()
    started = dog.now()
    dog.enter(started + 0.05)  # an entry due soon (its wait ended at once)...
    dog.leave()
    for _ in range(4):  # ...and later waits, each due later: none files a timer of its own
        assert await dog.wait(asyncio.sleep(0.05, "ok"), dog.now() + FAR) == "ok"
    assert dog.now() - started >= 0.2  # past the first due time: no false timeout
    assert started + FAR < dog.filed < dog.now() + FAR  # the ring filed a pending wait's due
    assert _live_alarm_timers(loop) == 1
    dog.close()


async def test_time_spent_outside_a_wait_does_not_fire_it() -> None:
    dog = Watchdog()
    await dog.wait(_at_once(), dog.now() + 0.05)
    await asyncio.sleep(0.2)  # the caller is busy past the due time: nothing to cancel
    assert await dog.wait(asyncio.sleep(0, "ok"), dog.now() + FAR) == "ok"
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
    assert await asyncio.create_task(dog.wait(_at_once(1), due)) == 1
    with pytest.raises(TimeoutError):
        await asyncio.create_task(dog.wait(asyncio.sleep(10), due))
    dog.close()


async def test_the_watchdogs_of_a_loop_share_one_timer() -> None:
    """A thousand calls' watchdogs add no timer handles to the loop past the first, and the
    entries of finished ones are dropped: the shared heap stays bounded."""
    from chatbridge._client._watchdog import _alarm

    loop = asyncio.get_running_loop()
    before = len(loop._scheduled)  # type: ignore[attr-defined]
    for _ in range(5000):
        dog = Watchdog()
        assert await dog.wait(asyncio.sleep(0, "ok"), dog.now() + 60) == "ok"
        dog.close()
    assert len(loop._scheduled) <= before + 1  # type: ignore[attr-defined]
    assert len(_alarm(loop)._heap) <= 2048
    # and a later, nearer due time still fires on time
    dog = Watchdog()
    started = dog.now()
    with pytest.raises(TimeoutError):
        await dog.wait(asyncio.sleep(10), started + 0.05)
    assert dog.now() - started < 5
    dog.close()


async def test_re_aiming_while_the_timer_rings_leaves_one_timer() -> None:
    """A wait whose due time moved later is filed again while the shared timer rings: that
    must not leave a second timer behind (they used to pile up, one per such wait)."""
    loop = asyncio.get_running_loop()
    keeper = Watchdog()  # an open watchdog with a far entry keeps the heap non-empty
    keeper.enter(keeper.now() + 60)
    keeper.leave()
    for _ in range(20):
        dog = Watchdog()
        dog.enter(dog.now() + 0.005)  # rings while the wait is still pending...
        dog.due = dog.now() + FAR  # ...but it has been given longer: filed again in the ring
        await _until_refiled(dog)
        dog.leave()
        dog.close()
    assert _live_alarm_timers(loop) == 1
    keeper.close()
    assert _live_alarm_timers(loop) <= 1


def test_a_closed_loop_is_not_kept_alive_by_the_shared_timer() -> None:
    import gc
    import weakref

    loops = []

    async def one_call() -> None:
        loops.append(weakref.ref(asyncio.get_running_loop()))
        dog = Watchdog()
        await dog.wait(asyncio.sleep(0), dog.now() + 60)  # a far entry stays in the heap
        dog.close()

    for _ in range(10):
        asyncio.run(one_call())
    gc.collect()
    assert sum(ref() is not None for ref in loops) == 0


async def test_an_idle_loop_is_woken_at_most_once() -> None:
    """When every watchdog has closed, the timer's next ring drops the stale entries and
    arms no other: nothing wakes the loop for the deadlines of finished calls."""
    from chatbridge._client._watchdog import _alarm

    loop = asyncio.get_running_loop()
    for step in range(5):
        dog = Watchdog()
        await dog.wait(_at_once(), dog.now() + 0.05 + step * 0.05)
        dog.close()
    await asyncio.sleep(0.4)  # past every entry (timers run in due order): one ring at most
    assert _live_alarm_timers(loop) == 0
    assert _alarm(loop)._heap == []


async def test_used_as_a_context_manager_it_times_out_one_await() -> None:
    from chatbridge._client._watchdog import Expired

    dog = Watchdog(deadline=asyncio.get_running_loop().time() + 60)
    with dog:  # no limit: until the deadline
        assert await asyncio.sleep(0, "ok") == "ok"
    assert dog.due == dog.deadline
    dog.limit = 0.05
    started = dog.now()
    with pytest.raises(Expired), dog:
        await asyncio.sleep(10)
    assert 0.04 <= dog.now() - started < 5  # at its due time, not at the sleep's end
    assert issubclass(Expired, TimeoutError)
    with dog:  # time outside a wait fires nothing
        pass
    await asyncio.sleep(0.1)
    dog.limit = 1e9
    with dog:
        assert dog.due == dog.deadline  # never past the deadline
    dog.close()
