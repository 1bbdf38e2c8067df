"""Stored responses over both stores: whole and in parts, per owner, with a lifetime; a bad
value read back (a part missing, a wrong shape, another owner) is no value."""

from __future__ import annotations

import asyncio
import json

from chatbridge._state import StateStore
from chatbridge.server._dialects._stored import MAX_PARTS, PART, forget, recall, remember

RESPONSE = {"id": "resp_1", "object": "response", "output": []}
SENT = json.dumps(RESPONSE).encode()  # the response is stored as the bytes it was sent as
CONVERSATION = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]


async def test_a_response_comes_back_only_to_its_owner(store: StateStore) -> None:
    assert await remember("r1", "owner-a", SENT, CONVERSATION, 60, store)
    got = await recall("r1", "owner-a", store)
    assert got is not None and got.response == RESPONSE and got.conversation == CONVERSATION
    assert await recall("r1", "owner-b", store) is None
    assert await recall("r2", "owner-a", store) is None
    assert not await forget("r1", "owner-b", store)
    assert await forget("r1", "owner-a", store)
    assert await recall("r1", "owner-a", store) is None


async def test_a_large_conversation_is_kept_in_parts_and_a_missing_part_is_no_value(
    store: StateStore,
) -> None:
    long = [{"role": "user", "content": "é" * PART}, {"role": "user", "content": "y" * PART}]
    assert await remember("big", "o", SENT, long, 60, store)
    got = await recall("big", "o", store)
    assert got is not None and got.conversation == long
    await store.delete("responses:big:2")
    assert await recall("big", "o", store) is None
    too_long = [{"role": "user", "content": "z" * PART * MAX_PARTS}]
    assert not await remember("huge", "o", SENT, too_long, 60, store)
    assert await store.get("responses:huge") is None


async def test_bad_values_read_back_are_no_value(store: StateStore) -> None:
    wrong_shape = b'1\n{"owner": "o", "response": {}, "conversation": [{"no": "role"}]}'
    for raw in (
        b"1\n{not json",
        b"1\n[1, 2]",
        b'1\n{"owner": "o"}',
        b"x\n{}",
        b"99\n{}",
        wrong_shape,
    ):
        await store.set("responses:bad", raw, 60)
        assert await recall("bad", "o", store) is None, raw


async def test_a_stored_response_expires(store: StateStore) -> None:
    assert await remember("brief", "o", SENT, CONVERSATION, 0.3, store)
    assert await recall("brief", "o", store) is not None
    for _ in range(100):
        if await recall("brief", "o", store) is None:
            break
        await asyncio.sleep(0.05)
    assert await recall("brief", "o", store) is None
