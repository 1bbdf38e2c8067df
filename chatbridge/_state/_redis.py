"""The Redis store: state shared by every process (and host) that names the same Redis.

Only this module imports ``redis`` (its asyncio client), and only when a Redis URL is given.
Each call has a short time limit and no client-side retries: a Redis that is down or stalled
raises :class:`StateUnavailable` at once, and :class:`FallbackStore` answers from memory. The
first reach (:meth:`RedisStore.connect`, at start) has a limit of its own: opening the
connection and loading the store's scripts costs many calls' time, and taking a busy machine's
slow start for an outage would make every process of a fleet keep its state apart.
A key holding a value of the wrong type (written by something else) is deleted and the call
tried once more: a corrupt value is treated as absent, never as a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError, ResponseError

from .._constants import STATE_REDIS_CONNECT_TIMEOUT, STATE_REDIS_TIMEOUT
from . import _scripts
from ._interface import MAX_VALUE_BYTES, Counts, Mark, StateUnavailable, Tally, key_prefix

__all__ = ["RedisStore"]

T = TypeVar("T")


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


class RedisStore:
    """A :class:`~chatbridge._state.StateStore` in Redis (``redis://HOST:PORT/DB``)."""

    shared = True

    def __init__(
        self,
        url: str,
        *,
        namespace: str = "",
        timeout: float = STATE_REDIS_TIMEOUT,
        connect_timeout: float = STATE_REDIS_CONNECT_TIMEOUT,
    ) -> None:
        self.url = url
        #: Every key of this store starts with it: ``chatbridge:v1:NAMESPACE:``.
        self.prefix = key_prefix(namespace)
        self._timeout = timeout
        # Each call is bounded by ``timeout`` (``_run``); the sockets' own limits only
        # must not cut the first reach shorter than its limit.
        slowest = max(timeout, connect_timeout)
        self._redis: Any = aioredis.Redis.from_url(
            url,
            socket_timeout=slowest,
            socket_connect_timeout=slowest,
            retry_on_timeout=False,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=0,
        )
        self._scripts = {
            name: self._redis.register_script(getattr(_scripts, name)) for name in _scripts.__all__
        }

    async def connect(self, timeout: float) -> None:
        """Reach Redis now, within ``timeout``: a connection opened and every script of the
        store loaded (in one round trip), so that each later call is one round trip on a
        connection already open."""

        async def load() -> None:
            async with self._redis.pipeline(transaction=False) as pipe:
                for script in self._scripts.values():
                    pipe.script_load(script.script)
                await pipe.execute()

        await self._run((), load, timeout)

    async def _run(
        self, keys: tuple[str, ...], call: Callable[[], Awaitable[T]], limit: float | None = None
    ) -> T:
        for attempt in (1, 2):
            try:
                async with asyncio.timeout(self._timeout if limit is None else limit):
                    return await call()
            except ResponseError as error:  # WRONGTYPE and friends: a corrupt key
                if attempt == 2 or not keys:
                    raise StateUnavailable(f"refused: {error}") from error
                await self._run((), lambda: self._redis.delete(*keys))
            except (RedisError, OSError, TimeoutError) as error:
                # Every pooled connection may be as dead as this one (Redis restarted):
                # drop them all, so the next try after the back-off starts afresh.
                with contextlib.suppress(RedisError, OSError):
                    await self._redis.connection_pool.disconnect(inuse_connections=True)
                raise StateUnavailable(f"no answer: {error!r}") from error
        raise AssertionError("unreachable")  # pragma: no cover

    async def _script(self, name: str, key: str, *args: Any) -> Any:
        full = self.prefix + key
        return await self._run((full,), lambda: self._scripts[name](keys=[full], args=args))

    async def get(self, key: str) -> bytes | None:
        full = self.prefix + key
        value = await self._run((full,), lambda: self._redis.get(full))
        return value if isinstance(value, bytes) and len(value) <= MAX_VALUE_BYTES else None

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        if len(value) <= MAX_VALUE_BYTES:
            full = self.prefix + key
            await self._run((full,), lambda: self._redis.set(full, value, px=_ms(ttl)))

    async def delete(self, *keys: str) -> None:
        if keys:
            full = [self.prefix + key for key in keys]
            await self._run((), lambda: self._redis.delete(*full))

    async def take(self, key: str) -> bytes | None:
        value = await self._script("TAKE", key)
        return value if isinstance(value, bytes) and len(value) <= MAX_VALUE_BYTES else None

    async def put_unique(self, key: str, owner: str, value: bytes, ttl: float) -> bool:
        if len(value) > MAX_VALUE_BYTES:
            return False
        return bool(await self._script("PUT_UNIQUE", key, owner, value, _ms(ttl)))

    async def incr(self, key: str, ttl: float) -> int:
        count = await self._script("INCR", key, _ms(ttl))
        return count if isinstance(count, int) else 0

    async def ttls(self, *keys: str) -> list[float | None]:
        full = [self.prefix + key for key in keys]
        left = await self._run(tuple(full), lambda: self._scripts["TTLS"](keys=full))
        if not isinstance(left, list) or len(left) != len(keys):
            return [None] * len(keys)
        # -2: absent; -1: no expiry, which no key of ours has: not ours, treated as absent.
        return [ms / 1000 if isinstance(ms, int) and ms >= 0 else None for ms in left]

    async def acquire(self, key: str, ttl: float) -> str | None:
        token = secrets.token_hex(8)
        full = self.prefix + key
        done = await self._run((full,), lambda: self._redis.set(full, token, nx=True, px=_ms(ttl)))
        return token if done else None

    async def release(self, key: str, token: str) -> None:
        await self._script("RELEASE", key, token)

    async def hit(self, key: str, limit: int, window: float) -> float | None:
        member = secrets.token_hex(6)
        wait = await self._script("HIT", key, limit, round(window * 1_000_000), member)
        if not isinstance(wait, int) or wait <= 0:
            return None
        return wait / 1_000_000

    async def open_slot(self, key: str, most: int, ttl: float) -> str | None:
        slot = secrets.token_hex(6)
        opened = await self._script("OPEN_SLOT", key, most, round(ttl * 1_000_000), slot)
        return slot if opened else None

    async def close_slot(self, key: str, slot: str) -> None:
        full = self.prefix + key
        await self._run((full,), lambda: self._redis.zrem(full, slot))

    async def _scripted(self, name: str, keys: list[str], args: list[Any]) -> Any:
        full = [self.prefix + key for key in keys]
        return await self._run(tuple(full), lambda: self._scripts[name](keys=full, args=args))

    async def slot_counts(self, *keys: str) -> list[int]:
        counts = await self._scripted("SLOT_COUNTS", list(keys), [])
        if not isinstance(counts, list) or len(counts) != len(keys):
            raise StateUnavailable("slot counts: a reply of the wrong shape")
        return [count if isinstance(count, int) else 0 for count in counts]

    async def open_least(
        self, keys: Sequence[str], mosts: Sequence[int], ttl: float
    ) -> tuple[int | None, str | None, list[int]]:
        slot = secrets.token_hex(6)
        args = [round(ttl * 1_000_000), slot, *mosts]
        reply = await self._scripted("OPEN_LEAST", list(keys), args)
        if not isinstance(reply, list) or len(reply) != len(keys) + 1:
            raise StateUnavailable("open_least: a reply of the wrong shape")
        counts = [count if isinstance(count, int) else 0 for count in reply[1:]]
        chosen = reply[0] if isinstance(reply[0], int) and reply[0] > 0 else None
        return (None, None, counts) if chosen is None else (chosen - 1, slot, counts)

    async def average(self, key: str, sample: float, weight: float, ttl: float) -> float:
        moved = await self._script("AVERAGE", key, repr(float(sample)), repr(weight), _ms(ttl))
        return _number(moved) or sample

    async def averages(self, *keys: str) -> list[float | None]:
        if not keys:
            return []
        full = [self.prefix + key for key in keys]
        values = await self._run(tuple(full), lambda: self._redis.mget(full))
        return [_number(value) for value in values]

    async def tally(
        self, counts: Counts, ttl: float, limits: Counts | None = None, mark: Mark | None = None
    ) -> Tally:
        limits = limits or {}
        keys = list(dict.fromkeys([*counts, *limits]))
        args: list[Any] = [_ms(ttl), len(keys), 1 if mark else 0]
        args += [mark.seq, mark.low] if mark else [0, 0]
        order: list[tuple[str, str]] = []
        for key in keys:
            names = list(dict.fromkeys([*counts.get(key, {}), *limits.get(key, {})]))
            args.append(len(names))
            for name in names:
                limit = limits.get(key, {}).get(name)
                args += [name, counts.get(key, {}).get(name, 0), "" if limit is None else limit]
                order.append((key, name))
        marks = [f"tally:marks:{mark.writer}"] if mark else []
        reply = await self._scripted("TALLY", keys + marks, args)
        if not isinstance(reply, list) or len(reply) != len(order) + 1:
            raise StateUnavailable("tally: a reply of the wrong shape")
        values: dict[str, dict[str, int]] = {}
        for (key, name), value in zip(order, reply[1:], strict=True):
            values.setdefault(key, {})[name] = int(value)
        return Tally(reply[0] == 1, values)

    async def tallies(self, *keys: str) -> list[dict[str, int]]:
        if not keys:
            return []
        found = await self._scripted("TALLIES", list(keys), [])
        if not isinstance(found, list) or len(found) != len(keys):
            raise StateUnavailable("tallies: a reply of the wrong shape")
        return [_fields(flat) for flat in found]

    async def close(self) -> None:
        with contextlib.suppress(RedisError, OSError):  # a Redis that went away
            await self._redis.aclose()


def _number(value: Any) -> float | None:
    """A number stored as text, or ``None`` (absent, or not a number: treated as absent)."""
    try:
        number = float(value) if isinstance(value, bytes | str) else None
    except ValueError:
        return None
    return number if number is not None and number == number else None


def _fields(flat: Any) -> dict[str, int]:
    """``HGETALL``'s flat name/value list as counters (what is not a whole number: 0)."""
    if not isinstance(flat, list):
        return {}
    fields: dict[str, int] = {}
    for name, value in zip(flat[::2], flat[1::2], strict=False):
        try:
            fields[name.decode() if isinstance(name, bytes) else str(name)] = int(value)
        except (TypeError, ValueError):
            fields[str(name)] = 0
    return fields
