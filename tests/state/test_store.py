"""The state interface: the memory store and the Redis store pass the same tests."""

from __future__ import annotations

import asyncio

from chatbridge._state import StateStore


async def test_values_live_for_their_ttl(store: StateStore) -> None:
    await store.set("a", b"one", 0.15)
    assert await store.get("a") == b"one"
    assert await store.get("missing") is None
    [left, absent] = await store.ttls("a", "missing")
    assert left is not None and 0 < left <= 0.15 and absent is None
    await asyncio.sleep(0.2)
    assert await store.get("a") is None
    assert await store.ttls("a") == [None]


async def test_delete(store: StateStore) -> None:
    await store.set("a", b"1", 10)
    await store.set("b", b"2", 10)
    await store.delete("a", "b", "never")
    assert [await store.get("a"), await store.get("b")] == [None, None]


async def test_take_is_once(store: StateStore) -> None:
    await store.set("c", b"conversation", 10)
    taken = await asyncio.gather(*(store.take("c") for _ in range(5)))
    assert sorted(taken, key=lambda v: v or b"") == [None, None, None, None, b"conversation"]
    assert await store.get("c") is None


async def test_put_unique_leaves_a_tombstone_for_a_second_owner(store: StateStore) -> None:
    assert await store.put_unique("t", "alice", b"A", 10)
    assert await store.put_unique("t", "alice", b"A2", 10)  # the same owner may re-file
    assert await store.get("t") == b"alice|A2"
    assert not await store.put_unique("t", "bob", b"B", 10)
    assert await store.take("t") == b""  # the tombstone is read, and stays
    assert not await store.put_unique("t", "carol", b"C", 10)
    assert await store.take("t") == b""


async def test_incr_counts_and_expires(store: StateStore) -> None:
    counts = await asyncio.gather(*(store.incr("n", 0.15) for _ in range(10)))
    assert sorted(counts) == list(range(1, 11))
    await asyncio.sleep(0.2)
    assert await store.incr("n", 10) == 1


async def test_a_lock_has_one_holder_and_frees_itself(store: StateStore) -> None:
    tokens = await asyncio.gather(*(store.acquire("lock", 0.15) for _ in range(5)))
    held = [t for t in tokens if t is not None]
    assert len(held) == 1
    await store.release("lock", "not-the-token")  # a stranger cannot free it
    assert await store.acquire("lock", 10) is None
    await asyncio.sleep(0.2)  # the holder died: the lock expires
    late = await store.acquire("lock", 10)
    assert late is not None
    await store.release("lock", held[0])  # the old holder's release frees nothing
    assert await store.acquire("lock", 10) is None
    await store.release("lock", late)
    assert await store.acquire("lock", 10) is not None


async def test_hit_is_a_sliding_window(store: StateStore) -> None:
    results = await asyncio.gather(*(store.hit("rpm", 3, 0.3) for _ in range(5)))
    assert results.count(None) == 3
    waits = [r for r in results if r is not None]
    assert len(waits) == 2 and all(0 < w <= 0.3 for w in waits)
    await asyncio.sleep(0.35)
    assert await store.hit("rpm", 3, 0.3) is None


async def test_slots_count_up_to_most(store: StateStore) -> None:
    opened = await asyncio.gather(*(store.open_slot("s", 2, 10) for _ in range(4)))
    held = [slot for slot in opened if slot is not None]
    assert len(held) == 2 and len(set(held)) == 2
    await store.close_slot("s", held[0])
    again = await store.open_slot("s", 2, 10)
    assert again is not None
    assert await store.open_slot("s", 2, 10) is None
    for _ in range(3):  # closing a slot twice, or one never opened, frees nothing more
        await store.close_slot("s", held[0])
        await store.close_slot("s", "never")
    assert await store.open_slot("s", 2, 10) is None
    assert await store.open_slot("unlimited", 0, 10) is not None


async def test_a_slot_never_closed_stops_counting_after_its_ttl(store: StateStore) -> None:
    assert await store.open_slot("s", 1, 0.15) is not None  # its process dies holding it
    for _ in range(3):  # a busy key: others keep trying, which must not keep it alive
        assert await store.open_slot("s", 1, 10) is None
        await asyncio.sleep(0.03)
    await asyncio.sleep(0.1)
    assert await store.open_slot("s", 1, 10) is not None


async def test_values_of_the_wrong_type_are_absent_not_a_crash(store: StateStore) -> None:
    await store.set("x", b"text", 10)
    assert await store.incr("x", 10) == 1  # a non-number counter starts again
    await store.incr("y", 10)
    assert await store.get("y") in (None, b"1")  # never a crash
    await store.hit("w", 5, 10)
    assert await store.get("w") is None  # a window is no value
    assert await store.open_slot("x", 2, 10) is not None  # a value is not a slot set


async def test_slot_counts_count_live_slots(store: StateStore) -> None:
    slots = [await store.open_slot("busy", 0, 10) for _ in range(3)]
    await store.open_slot("brief", 0, 0.05)
    assert await store.slot_counts("busy", "brief", "none") == [3, 1, 0]
    await asyncio.sleep(0.08)
    assert slots[0] is not None
    await store.close_slot("busy", slots[0])
    assert await store.slot_counts("busy", "brief") == [2, 0]


async def test_a_moving_average_moves_and_expires(store: StateStore) -> None:
    assert await store.average("ttft", 1.0, 0.5, 10) == 1.0
    assert await store.average("ttft", 3.0, 0.5, 0.1) == 2.0
    assert await store.averages("ttft", "none") == [2.0, None]
    await asyncio.sleep(0.15)
    assert await store.averages("ttft") == [None]


async def test_tally_counts_fields_atomically_under_limits(store: StateStore) -> None:
    limits = {"q": {"requests": 3, "tokens": 10}}
    counted = await asyncio.gather(
        *(store.tally({"q": {"requests": 1, "tokens": 0}}, 10, limits) for _ in range(5))
    )
    assert [t.applied for t in counted].count(True) == 3
    refused = next(t for t in counted if not t.applied)
    assert refused.values == {"q": {"requests": 3, "tokens": 0}}
    done = await store.tally({"q": {"tokens": 12}, "ledger": {"a|b|tokens": 12}}, 10)
    assert done.applied and done.values == {"q": {"tokens": 12}, "ledger": {"a|b|tokens": 12}}
    look = await store.tally({"q": {}}, 10, {"q": {"tokens": 10}})  # a look: no room left
    assert not look.applied and look.values == {"q": {"tokens": 12}}
    assert await store.tallies("q", "ledger", "none") == [
        {"requests": 3, "tokens": 12},
        {"a|b|tokens": 12},
        {},
    ]


async def test_counters_live_for_their_ttl(store: StateStore) -> None:
    await store.tally({"brief": {"n": 1}}, 0.1)
    await asyncio.sleep(0.15)
    assert await store.tallies("brief") == [{}]


async def test_open_least_opens_on_the_least_busy_key_under_its_cap(store: StateStore) -> None:
    await store.open_slot("x", 0, 10)
    await store.open_slot("x", 0, 10)
    await store.open_slot("y", 0, 10)
    chosen, slot, counts = await store.open_least(["x", "y", "z"], [0, 0, 0], 10)
    assert (chosen, counts) == (2, [2, 1, 0]) and slot is not None
    chosen, _, counts = await store.open_least(["x", "y", "z"], [0, 0, 1], 10)
    assert (chosen, counts) == (1, [2, 1, 1])  # z is at its cap: y has the fewest left
    assert await store.open_least(["y"], [2], 10) == (None, None, [2])
    assert await store.slot_counts("x", "y", "z") == [2, 2, 1]
