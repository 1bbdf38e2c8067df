"""The engine over a shared store: several site clients over one store are several processes
(each has its own token cache and conversation book, as a process would)."""

from __future__ import annotations

import asyncio
import time

import pytest

from chatbridge._aipower._shared import site_key
from chatbridge._aipower._site_client import SiteClient, SiteTarget
from chatbridge._aipower._tokens import TokenCache
from chatbridge._state import StateStore
from chatbridge.site import LocalSite, SiteConfig
from tests.providers.test_generations import history_turns


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


async def ask(client: SiteClient, messages: list[dict[str, str]]) -> str:
    return "".join([chunk async for chunk in client.stream(messages)])


@pytest.mark.parametrize("generation", ["1.8", "aipkit"])
async def test_one_page_fetch_per_site_after_a_rotation(fleet: StateStore, generation: str) -> None:
    site = LocalSite(SiteConfig(generation=generation))
    async with site as url:
        target = SiteTarget(url)
        fleet_clients = [SiteClient(target, fleet) for _ in range(4)]
        answers = await asyncio.gather(
            *(ask(c, [user(f"hi {i}")]) for i, c in enumerate(fleet_clients))
        )
        assert all("Echo: hi" in a for a in answers)
        assert site.stats.page_fetches == 1
        old = fleet_clients[0].tokens
        site.advance_ticks(2)  # the nonce every process holds is dead
        answers = await asyncio.gather(
            *(ask(c, [user(f"after {i}")]) for i, c in enumerate(fleet_clients))
        )
        assert all("Echo: after" in a for a in answers)
        assert site.stats.page_fetches + site.stats.nonce_refreshes == 2  # one refresh, fleet-wide
        assert {c.tokens.nonce for c in fleet_clients if c.tokens} != {old.nonce if old else ""}


async def test_a_corrupt_shared_value_is_ignored(fleet: StateStore) -> None:
    async with LocalSite(SiteConfig(generation="2.2")) as url:
        target = SiteTarget(url)
        key = f"tokens:{site_key(target)}"
        for junk in (b"\xff\x00", b"[]", b'{"nonce": 5}', b'{"fetched_at": 1e300}', b"{" * 5000):
            await fleet.set(key, junk, 60)
            client = SiteClient(target, fleet)
            assert "Echo: x" in await ask(client, [user("x")])
            await fleet.set(key, junk, 60)


async def test_a_dead_lock_holder_is_taken_over_after_the_lock_expires(fleet: StateStore) -> None:
    site = LocalSite(SiteConfig(generation="2.2"))
    async with site as url:
        target = SiteTarget(url)
        key = f"tokens:{site_key(target)}:lock"
        assert await fleet.acquire(key, 0.3) is not None  # a process took it, then died
        client = SiteClient(target, fleet)
        started = time.monotonic()
        answer = await ask(client, [user("still here")])
        waited = time.monotonic() - started
        assert "Echo: still here" in answer
        assert 0.2 <= waited < 3, waited
        assert site.stats.page_fetches == 1


@pytest.mark.parametrize("generation", ["1.7", "aipkit"])
async def test_a_conversation_alternating_between_processes_keeps_its_history(
    fleet: StateStore, generation: str
) -> None:
    async with LocalSite(SiteConfig(generation=generation)) as url:
        target = SiteTarget(url)
        a, b = SiteClient(target, fleet), SiteClient(target, fleet)
        messages = [user("first")]
        for turn, client in enumerate((a, b, a), start=1):
            answer = await ask(client, messages)
            assert history_turns(answer) == 2 * (turn - 1), (turn, answer)  # the site held it
            messages += [{"role": "assistant", "content": answer}, user(f"question {turn + 1}")]


async def test_a_continued_conversation_is_continued_once_fleet_wide(fleet: StateStore) -> None:
    async with LocalSite(SiteConfig(generation="aipkit")) as url:
        target = SiteTarget(url)
        a, b = SiteClient(target, fleet), SiteClient(target, fleet)
        first = await ask(a, [user("hello")])
        follow = [user("hello"), {"role": "assistant", "content": first}, user("next")]
        one, two = await asyncio.gather(ask(a, follow), ask(b, follow))
        assert sorted([history_turns(one), history_turns(two)]) == [0, 2]


def test_the_lock_lifetime_is_the_caller_choice(fleet: StateStore) -> None:
    cache = TokenCache(
        SiteTarget("http://127.0.0.1:9"), SiteClient(SiteTarget("x")).stats, fleet, lock_ttl=1.5
    )
    assert cache.shared.lock_ttl == 1.5 and cache.shared.fleet is fleet
