"""The client over AI Engine sites, and over sites named by their URL alone."""

from __future__ import annotations

import pytest

from chatbridge import AllTargetsFailedError, AsyncClient, Client, Policy
from chatbridge._client._health import HealthBook
from chatbridge.site import AIEngineSiteConfig, LocalSite, SiteConfig

from ..conftest import free_port
from .test_client_sites import site_in_thread

HI = [{"role": "user", "content": "hi"}]


def fresh() -> dict[str, object]:
    chosen = Policy()
    return {"policy": chosen, "health": HealthBook(chosen)}


async def test_an_ai_engine_target_answers_with_the_usage_the_site_counted() -> None:
    async with LocalSite(AIEngineSiteConfig()) as url:
        client = AsyncClient(routes={"r": [{"provider": "AIEngine", "site_url": url}]}, **fresh())
        answer = await client.chat.completions.create(model="r", messages=HI)
        chunks = [
            chunk
            async for chunk in await client.chat.completions.create(
                model="r", messages=HI, stream=True, stream_options={"include_usage": True}
            )
        ]
    assert (answer.choices[0].message.content or "").startswith("[local AI Engine site] Echo: hi")
    assert answer.usage is not None and answer.usage.total_tokens > 0  # "accuracy": "tokens"
    info = answer.chatbridge
    assert info is not None and (info.provider, info.site) == ("AIEngine", url)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("[local AI Engine site] Echo: hi")
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0


async def test_an_estimated_usage_is_never_reported() -> None:
    async with LocalSite(AIEngineSiteConfig(usage_accuracy="estimated")) as url:
        client = AsyncClient(provider="AIEngine", site_url=url, **fresh())
        answer = await client.chat.completions.create(messages=HI)
    assert answer.usage is None


@pytest.mark.parametrize("config", [SiteConfig(), AIEngineSiteConfig(generation="2.4")])
async def test_a_client_given_only_a_site_finds_its_plugin(
    config: SiteConfig | AIEngineSiteConfig,
) -> None:
    async with LocalSite(config) as url:
        client = AsyncClient(site_url=url, **fresh())
        answer = await client.chat.completions.create(messages=HI)
    assert "] Echo: hi" in (answer.choices[0].message.content or "")
    assert answer.chatbridge is not None and answer.chatbridge.provider == "AnySite"


async def test_a_route_of_bare_sites_fails_over_from_one_plugin_to_the_other() -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    async with (
        LocalSite(SiteConfig(faults=("http500",))) as broken,
        LocalSite(AIEngineSiteConfig()) as engine,
    ):
        client = AsyncClient(
            routes={"r": [{"site_url": dead}, {"site_url": broken}, {"site_url": engine}]},
            **fresh(),
        )
        answer = await client.chat.completions.create(model="r", messages=HI)
        nowhere = AsyncClient(routes={"x": [{"site_url": f"{engine}/no-chat/"}]}, **fresh())
        with pytest.raises(AllTargetsFailedError, match="neither an AI Power site nor"):
            await nowhere.chat.completions.create(model="x", messages=HI)
    assert (answer.choices[0].message.content or "").startswith("[local AI Engine site]")
    assert answer.chatbridge is not None
    outcomes = [(a.outcome, a.error) for a in answer.chatbridge.attempts]
    assert outcomes == [
        ("failed", "ConnectError"),
        ("failed", "ConnectError"),  # nothing was sent: asked once more
        ("failed", "ResponseStatusError"),
        ("answered", None),
    ]


def test_the_sync_client_over_an_ai_engine_site() -> None:
    with (
        site_in_thread(AIEngineSiteConfig()) as url,
        Client(provider="AIEngine", site_url=url, **fresh()) as client,
    ):
        answer = client.chat.completions.create(messages=HI)
        streamed = "".join(
            chunk.choices[0].delta.content or ""
            for chunk in client.chat.completions.create(messages=HI, stream=True)
            if chunk.choices
        )
    assert (answer.choices[0].message.content or "") == streamed
