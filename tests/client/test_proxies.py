"""Outbound proxies, through real proxies on 127.0.0.1 (``tests.proxies``): a pool per
target, a conversation kept on its proxy, new ones rotating, a failing proxy cooling down
without a word to the site's breaker, the default proxy, and credentials that never show."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from chatbridge import AsyncClient, Policy, ProxyError
from chatbridge._client._health import HealthBook
from chatbridge.site import LocalSite
from chatbridge.upstream import LocalUpstream
from tests.conftest import free_port
from tests.proxies import forward_proxy, socks5_proxy

from .wall import FULL, QUESTION


def target(url: str, **extra: Any) -> dict[str, Any]:
    return {"provider": "OpenAICompatible", "base_url": url, "model": "m", **extra}


def turn(first: str, *more: str) -> list[dict[str, str]]:
    """A conversation opened by ``first``, with ``more`` questions after it."""
    messages = [{"role": "user", "content": first}]
    for text in more:
        messages += [{"role": "assistant", "content": "…"}, {"role": "user", "content": text}]
    return messages


async def test_a_conversation_stays_on_its_proxy_and_new_ones_rotate() -> None:
    async with forward_proxy() as one, forward_proxy() as two, LocalUpstream() as url:
        client = AsyncClient(
            routes={"r": [target(url, proxies=[one.url, two.url])]}, health=HealthBook()
        )
        for messages in (turn("a"), turn("a", "b"), turn("a", "b", "c")):
            await client.chat.completions.create(model="r", messages=messages)
        assert (len(one.carried), len(two.carried)) == (3, 0)  # one conversation, one proxy
        await client.chat.completions.create(model="r", messages=turn("new"))
        await client.chat.completions.create(model="r", messages=turn("new", "more"))
        await client.chat.completions.create(model="r", messages=turn("third"))
    assert (len(one.carried), len(two.carried)) == (4, 2)


async def test_a_dead_proxy_cools_down_and_the_sites_breaker_hears_nothing() -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    policy = Policy(failure_threshold=1, retry_backoff=0)
    async with forward_proxy() as live, LocalUpstream() as url:
        routes = {"r": [target(url, proxies=[dead, live.url], name="site")]}
        client = AsyncClient(routes=routes, policy=policy, health=HealthBook(policy))
        first = await client.chat.completions.create(model="r", messages=turn("one"))
        second = await client.chat.completions.create(model="r", messages=turn("two"))
        health = client.health()["r"]["site"]
    assert first.choices[0].message.content and second.choices[0].message.content
    assert first.chatbridge is not None
    assert [(a.outcome, a.error) for a in first.chatbridge.attempts] == [
        ("failed", "ProxyError"),
        ("answered", None),
    ]
    assert health["state"] == "closed" and health["consecutive_failures"] == 0
    cooling = {shown["proxy"]: shown["cooling_for"] for shown in health["proxies"]}
    assert cooling[dead] > 0 and cooling[live.url] == 0
    assert len(live.carried) == 2  # the second conversation went round the cooling one


async def test_with_every_proxy_cooling_the_target_is_never_asked_directly() -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    proxied, other = LocalUpstream(), LocalUpstream()
    async with proxied as a, other as b:
        routes = {"r": [target(a, proxies=[dead]), target(b)]}
        client = AsyncClient(routes=routes, health=HealthBook())
        answer = await client.chat.completions.create(model="r", messages=QUESTION)
    assert answer.chatbridge is not None and answer.chatbridge.site == b
    failures = [a.message for a in answer.chatbridge.attempts if a.outcome == "failed"]
    assert len(failures) == 2 and "cooling down" in failures[1], failures
    assert proxied.stats.requests == 0 and answer.choices[0].message.content == FULL


async def test_a_socks5_proxy_with_a_login_carries_an_ai_power_conversation() -> None:
    async with socks5_proxy("alice", "s0cks-pass") as socks, LocalSite() as site:
        proxy = socks.url.replace("socks5://", "socks5://alice:s0cks-pass@")
        routes = {"r": [{"provider": "AIPower", "site_url": site, "proxies": [proxy]}]}
        client = AsyncClient(routes=routes, health=HealthBook())
        first = await client.chat.completions.create(model="r", messages=turn("Hello"))
        again = await client.chat.completions.create(model="r", messages=turn("Hello", "More"))
    assert "Hello" in (first.choices[0].message.content or "")
    assert "More" in (again.choices[0].message.content or "")
    assert socks.carried and socks.refused == 0


async def test_proxy_credentials_never_show(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, "chatbridge")
    dead = f"http://bob:dead-s3cret@127.0.0.1:{free_port()}"
    async with forward_proxy("bob", "right-pass") as guarded, LocalUpstream() as url:
        wrong = guarded.url.replace("http://", "http://bob:wr0ng-pass@")
        routes = {"r": [target(url, proxies=[dead]), target(url, proxies=[wrong], name="w")]}
        client = AsyncClient(routes=routes, health=HealthBook(), policy=Policy(retry_backoff=0))
        with pytest.raises(Exception) as failed:
            await client.chat.completions.create(model="r", messages=QUESTION)
        shown = [
            str(failed.value),
            repr(failed.value),
            *(str(e) for e in failed.value.errors),  # type: ignore[attr-defined]
            *(repr(t) for t in client.routes["r"].targets),
            str(client.health()),
            caplog.text,
        ]
    assert guarded.refused >= 1 and all(isinstance(e, ProxyError) for e in failed.value.errors)  # type: ignore[attr-defined]
    for text in shown:
        assert "dead-s3cret" not in text and "wr0ng-pass" not in text, text


async def test_the_default_proxy_and_the_standard_variables_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name only the proxy resolves: reaching it means the call went through the proxy."""
    async with LocalUpstream() as url:
        port = int(url.split(":")[2].split("/")[0])
        far = f"http://upstream.test:{port}/v1"
        hosts = {"upstream.test": "127.0.0.1"}
        async with forward_proxy(hosts=hosts) as named, forward_proxy(hosts=hosts) as standard:
            config = tmp_path / "routes.toml"
            config.write_text(
                f'[routes.r]\ntargets = [{{ provider = "OpenAICompatible", base_url = "{far}", '
                f'model = "m" }}]\n[client]\nproxy = "{named.url}"\n'
            )
            from_file = AsyncClient(config=str(config), health=HealthBook())
            await from_file.chat.completions.create(model="r", messages=QUESTION)
            monkeypatch.setenv("HTTP_PROXY", standard.url)
            monkeypatch.setenv("CHATBRIDGE_PROXY", named.url)
            plain = AsyncClient(routes={"r": [target(far)]}, health=HealthBook())
            await plain.chat.completions.create(model="r", messages=QUESTION)
            monkeypatch.setenv("CHATBRIDGE_PROXY", "environment")
            from_environment = AsyncClient(routes={"r": [target(far)]}, health=HealthBook())
            await from_environment.chat.completions.create(model="r", messages=QUESTION)
            monkeypatch.setenv("NO_PROXY", "upstream.test")
            exempt = AsyncClient(routes={"r": [target(far)]}, health=HealthBook())
            with pytest.raises(Exception, match="ConnectError"):
                await exempt.chat.completions.create(model="r", messages=QUESTION)
    assert (len(named.carried), len(standard.carried)) == (2, 1)


async def test_a_queue_for_the_sites_connections_holds_through_its_proxies() -> None:
    """``connections_per_host`` limits connections to the site whichever proxy carries
    them: three conversations at once on two proxies, one connection at a time to the
    upstream, each answered (queued inside the deadline, not failed over)."""
    import asyncio

    from chatbridge.upstream import Behaviour

    upstream = LocalUpstream()
    async with forward_proxy() as one, forward_proxy() as two, upstream as url:
        upstream.set_plan([Behaviour("first_token_delay", seconds=0.2)])
        routes = {"r": [target(url, proxies=[one.url, two.url], connections_per_host=1)]}
        client = AsyncClient(routes=routes, health=HealthBook())
        answers = await asyncio.gather(
            *(
                client.chat.completions.create(model="r", messages=turn(f"q{n}"))
                for n in range(3)
            )
        )
    assert [answer.choices[0].finish_reason for answer in answers] == ["stop"] * 3
    assert all(answer.chatbridge.attempts[0].outcome == "answered" for answer in answers)  # type: ignore[union-attr]
    assert upstream.stats.requests == 3 and upstream.stats.most_active == 1
    assert sorted((len(one.carried), len(two.carried))) == [1, 2]  # new ones rotate
