"""Stored ``/v1/responses`` answers, in the process's state store (memory in one process,
Redis in a fleet), through the state interface only.

A stored response is one JSON value: the owner (a fingerprint of the API key that made it,
never the key), the response object as it was sent, and the conversation up to and including
it (what a follow-up's ``previous_response_id`` continues). A value larger than the store
takes in one key is kept in parts (the head names how many; parts are written first, so a
reader never sees a head without them). What is read back is untrusted: a value of the wrong
shape, a part missing or an owner that differs is the same as no value (a 404).
"""

from __future__ import annotations

import asyncio
import hmac
import json
from dataclasses import dataclass
from typing import Any

from pydantic_core import to_json

from ..._state import StateStore, current_store

__all__ = ["MAX_PARTS", "Stored", "forget", "recall", "remember"]

#: Bytes per part (under the store's largest value).
PART = 200_000
#: Parts at most: a larger conversation is not stored (its response says ``store: false``).
MAX_PARTS = 20
#: Parts outlive their head a little, so a head read at its last moment finds them.
_PART_GRACE = 60.0


@dataclass(frozen=True, slots=True)
class Stored:
    response: dict[str, Any]
    conversation: list[dict[str, Any]]


def _key(ident: str) -> str:
    return f"responses:{ident}"


async def remember(
    ident: str,
    owner: str,
    response: bytes,
    conversation: list[dict[str, Any]],
    ttl: float,
    store: StateStore | None = None,
) -> bool:
    """Store a response (its JSON, as sent) for ``ttl`` seconds; whether it was (not when
    too large)."""
    head = to_json({"owner": owner, "conversation": conversation})
    data = head[:-1] + b',"response":' + response + b"}"
    parts = [data[i : i + PART] for i in range(0, len(data), PART)]
    if len(parts) > MAX_PARTS:
        return False
    store = store or current_store()
    key = _key(ident)
    for number, part in enumerate(parts[1:], start=1):
        await store.set(f"{key}:{number}", part, ttl + _PART_GRACE)
    await store.set(key, f"{len(parts)}\n".encode() + parts[0], ttl)
    return True


async def _read(store: StateStore, key: str) -> bytes | None:
    head = await store.get(key)
    if not head:
        return None
    count, _, first = head.partition(b"\n")
    if not count.isdigit() or not 1 <= int(count) <= MAX_PARTS:
        return None
    rest = await asyncio.gather(*(store.get(f"{key}:{n}") for n in range(1, int(count))))
    if any(part is None for part in rest):
        return None
    return first + b"".join(part for part in rest if part is not None)


async def recall(ident: str, owner: str, store: StateStore | None = None) -> Stored | None:
    """The response stored as ``ident`` for ``owner``, or ``None`` (absent, expired, another
    key's, or unreadable)."""
    data = await _read(store or current_store(), _key(ident))
    if data is None:
        return None
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or not isinstance(value.get("owner"), str):
        return None
    if not hmac.compare_digest(value["owner"].encode(), owner.encode()):
        return None
    response, conversation = value.get("response"), value.get("conversation")
    if not isinstance(response, dict) or not isinstance(conversation, list):
        return None
    if not all(isinstance(m, dict) and isinstance(m.get("role"), str) for m in conversation):
        return None
    return Stored(response, conversation)


async def forget(ident: str, owner: str, store: StateStore | None = None) -> bool:
    """Delete the response stored as ``ident`` for ``owner``; whether there was one."""
    store = store or current_store()
    if await recall(ident, owner, store) is None:
        return False
    key = _key(ident)
    await store.delete(key, *(f"{key}:{n}" for n in range(1, MAX_PARTS)))
    return True
