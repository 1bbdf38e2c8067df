"""The AI Engine engine over a shared store: several site clients over one store are several
processes (each with its own nonce cache and conversation book, as a process would)."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from chatbridge._aiengine import SiteClient, SiteTarget
from chatbridge._state import StateStore
from chatbridge.site import AIEngineSiteConfig, LocalSite

SUBMIT = "/mwai-ui/v1/chats/submit"


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


async def ask(client: SiteClient, messages: list[dict[str, str]]) -> str:
    return "".join([c async for c in client.stream(messages) if isinstance(c, str)])


def turns(answer: str) -> int:
    match = re.search(r"history turns: (\d+)", answer)
    assert match is not None, answer
    return int(match.group(1))


async def test_one_start_session_per_rotation_fleet_wide(fleet: StateStore) -> None:
    site = LocalSite(AIEngineSiteConfig())
    async with site as url:
        clients = [SiteClient(SiteTarget(url), fleet) for _ in range(4)]
        answers = await asyncio.gather(*(ask(c, [user(f"hi {i}")]) for i, c in enumerate(clients)))
        assert all("Echo: hi" in answer for answer in answers)
        assert (site.stats.page_fetches, site.stats.session_starts) == (1, 1)
        site.advance_ticks(2)  # the nonce every process holds is dead
        answers = await asyncio.gather(
            *(ask(c, [user(f"after {i}")]) for i, c in enumerate(clients))
        )
        assert all("Echo: after" in answer for answer in answers)
        assert site.stats.session_starts == 2  # one refresh, fleet-wide


async def test_a_new_token_one_process_adopted_serves_the_others(fleet: StateStore) -> None:
    site = LocalSite(AIEngineSiteConfig())
    async with site as url:
        a, b = SiteClient(SiteTarget(url), fleet), SiteClient(SiteTarget(url), fleet)
        await ask(a, [user("one")])
        site.advance_ticks(1)
        await ask(a, [user("two")])  # its reply hands over the next nonce; a publishes it
        assert a.stats.new_tokens == 1
        site.advance_ticks(1)  # the first nonce is dead now, the handed-over one is not
        await ask(b, [user("three")])
        assert site.stats.nonce_failures == 0 and site.stats.session_starts == 1


async def test_a_conversation_alternating_between_processes_keeps_its_chat(
    fleet: StateStore,
) -> None:
    site = LocalSite(AIEngineSiteConfig())
    async with site as url:
        a, b = SiteClient(SiteTarget(url), fleet), SiteClient(SiteTarget(url), fleet)
        messages = [user("first")]
        for turn, client in enumerate((a, b, a), start=1):
            answer = await ask(client, messages)
            assert turns(answer) == 2 * (turn - 1), (turn, answer)
            messages += [{"role": "assistant", "content": answer}, user(f"question {turn + 1}")]
    chats = [r.fields for r in site.requests if r.action == SUBMIT]
    assert len({chat["chatId"] for chat in chats}) == 1  # one conversation, one chatId
    assert len({chat["cookie"] for chat in chats[1:]}) == 1  # and one site session


@pytest.mark.parametrize(
    "junk", [b"\xff\x00", b"[]", b'{"nonce": 5}', b'{"fetched_at": 1e300}', b"{" * 5000]
)
async def test_a_corrupt_shared_value_is_ignored(fleet: StateStore, junk: bytes) -> None:
    async with LocalSite(AIEngineSiteConfig()) as url:
        target = SiteTarget(url)
        await fleet.set(f"aiengine:tokens:{target.key}", junk, 60)
        assert "Echo: x" in await ask(SiteClient(target, fleet), [user("x")])


async def test_a_shared_conversation_entry_that_is_not_right_starts_afresh(
    fleet: StateStore,
) -> None:
    site = LocalSite(AIEngineSiteConfig())
    async with site as url:
        target = SiteTarget(url)
        client = SiteClient(target, fleet)
        answer = await ask(client, [user("one")])
        messages = [user("one"), {"role": "assistant", "content": answer}, user("two")]
        from chatbridge._state._book import continued_key

        key = f"conv:{target.key}:{continued_key(messages).hex()}"  # type: ignore[union-attr]
        await fleet.set(key, b"owner|" + json.dumps({"chat_id": "not/valid"}).encode(), 60)
        assert turns(await ask(SiteClient(target, fleet), messages)) == 2  # the transcript
    ids = [r.fields["chatId"] for r in site.requests if r.action == SUBMIT]
    assert ids[0] != ids[1]


async def test_shared_tokens_naming_another_origin_are_not_adopted(fleet: StateStore) -> None:
    """Tokens read back from the store obey the page rule: a REST root on another origin
    (written by a hostile or confused process) is never sent the nonce or a session."""
    import dataclasses
    import time

    from chatbridge._aiengine._shared import SiteTokens, encode_tokens

    site = LocalSite(AIEngineSiteConfig())
    async with site as url:
        target = SiteTarget(url)
        honest = SiteClient(target, fleet)
        await ask(honest, [user("one")])
        tokens = honest.tokens.tokens
        assert tokens is not None
        evil = dataclasses.replace(tokens.config, rest_url="http://127.0.0.1:9/wp-json")
        await fleet.set(
            f"aiengine:tokens:{target.key}",
            encode_tokens(SiteTokens(evil, "f" * 10), time.time()),
            60,
        )
        answer = await ask(SiteClient(target, fleet), [user("two")])
    assert "Echo: two" in answer  # the page was read again instead
    assert site.stats.page_fetches == 2
