"""Every failure a client meets (docs/protocol-ai-power.md, "Failures a client meets") ends
in a typed error with a clear message."""

from __future__ import annotations

import pytest

from chatbridge import (
    AIPower,
    BlockedError,
    ChallengeError,
    Chatgpt4o,
    ChatGptt,
    ConfigError,
    MissingSiteError,
    PluginError,
    RateLimitError,
    RequestTimeoutError,
    ResponseStatusError,
    TransportError,
    TruncatedStreamError,
    UpstreamError,
)
from tests.providers.conftest import SiteFactory, assistant, user


@pytest.mark.parametrize(
    ("fault", "target", "error", "text"),
    [
        ("http500", "chat", ResponseStatusError, "HTTP 500"),
        ("maintenance", "chat", ResponseStatusError, r"maintenance \(HTTP 503\); try again in"),
        ("cloudflare", "chat", ChallengeError, "Cloudflare"),
        ("cloudflare503", "chat", ChallengeError, "Cloudflare"),
        ("cloudflare", "pages", ChallengeError, "Cloudflare"),
        ("reset", "chat", TransportError, "broke"),
    ],
)
async def test_fault_kinds_become_typed_errors(
    local_site: SiteFactory, fault: str, target: str, error: type[Exception], text: str
) -> None:
    _, url = await local_site(generation="2.2", faults=(fault,), fault_target=target)
    with pytest.raises(error, match=text) as caught:
        await AIPower.create_async("", [user("hi")], site_url=url)
    assert getattr(caught.value, "provider", None) == "AIPower"


async def test_php_warning_before_json_is_tolerated(local_site: SiteFactory) -> None:
    _, url = await local_site(generation="1.8", stream=False, faults=("php_warning",))
    assert "Echo: hi" in await AIPower.create_async("", [user("hi")], site_url=url)


@pytest.mark.parametrize("generation", ["2.2", "aipkit"])
async def test_truncated_stream_carries_the_partial_text(
    local_site: SiteFactory, generation: str
) -> None:
    # AIPKit: every second chat request, so the cache step passes and its stream is cut.
    every = 2 if generation == "aipkit" else None
    _, url = await local_site(generation=generation, faults=("truncate",), fault_every=every)
    received: list[str] = []
    with pytest.raises(TruncatedStreamError) as caught:
        async for chunk in AIPower.create_async_generator("", [user("a b c d e f")], site_url=url):
            received.append(chunk)
    assert caught.value.partial == "".join(received)
    assert caught.value.partial.startswith("[local")


async def test_slow_reply_hits_the_timeout(local_site: SiteFactory) -> None:
    _, url = await local_site(generation="2.2", faults=("slow",), slow_seconds=1.5)
    with pytest.raises(RequestTimeoutError) as caught:
        await AIPower.create_async("", [user("hi")], site_url=url, timeout=0.3)
    assert isinstance(caught.value, TimeoutError)


async def test_chatgpt4o_honours_its_timeout(local_site: SiteFactory) -> None:
    _, url = await local_site(generation="1.8", faults=("slow",), slow_seconds=1.5)
    with pytest.raises(TimeoutError):
        await Chatgpt4o.create_async("", [user("hi")], timeout=0.3, site_url=url)


@pytest.mark.parametrize("generation", ["1.7", "1.8", "2.2"])
async def test_token_limit_is_rate_limited_and_not_retried(
    local_site: SiteFactory, generation: str
) -> None:
    site, url = await local_site(generation=generation, guest_token_limit=1)
    conversation = [user("first message uses up the quota")]
    answer = await AIPower.create_async("", conversation, site_url=url)
    before = site.stats.chat_requests
    with pytest.raises(RateLimitError, match="token limit"):  # the same guest, continuing
        await AIPower.create_async(
            "", [*conversation, assistant(answer), user("again")], site_url=url
        )
    assert site.stats.chat_requests == before + 1  # never retried


@pytest.mark.parametrize("stream", [False, True])
async def test_banned_word_is_a_plugin_error(local_site: SiteFactory, stream: bool) -> None:
    _, url = await local_site(generation="2.2", stream=stream, banned_words=("forbidden",))
    with pytest.raises(PluginError, match="prohibited words"):
        await AIPower.create_async("", [user("a forbidden word")], site_url=url)


@pytest.mark.parametrize("stream", [False, True])
async def test_banned_ip_stops_at_the_flag(local_site: SiteFactory, stream: bool) -> None:
    _, url = await local_site(generation="2.2", stream=stream, banned_ips=("127.0.0.1",))
    received: list[str] = []
    with pytest.raises(BlockedError, match="not allowed"):
        async for chunk in AIPower.create_async_generator("", [user("hi")], site_url=url):
            received.append(chunk)
    assert received == []  # the answer streamed after the flag is never passed on


@pytest.mark.parametrize("generation", ["1.8", "2.2", "aipkit"])
@pytest.mark.parametrize("stream", [False, True])
async def test_upstream_quota_error_is_an_upstream_error(
    local_site: SiteFactory, generation: str, stream: bool
) -> None:
    quota = 'You exceeded your current quota, please check your plan and "billing" details.'
    _, url = await local_site(generation=generation, stream=stream, upstream_error=quota)
    received: list[str] = []
    with pytest.raises(UpstreamError, match="exceeded your current quota"):
        async for chunk in ChatGptt.create_async_generator("", [user("hi")], site_url=url):
            received.append(chunk)
    assert received == []  # error text streamed as content is not an answer


async def test_php_exception_stream_ends_with_limited(local_site: SiteFactory) -> None:
    _, url = await local_site(
        generation="2.2", upstream_error="cURL error 28: timed out", upstream_error_mode="exception"
    )
    with pytest.raises(PluginError, match="cURL error 28"):
        await AIPower.create_async("", [user("hi")], site_url=url)


async def test_unknown_model_is_refused_before_any_request(local_site: SiteFactory) -> None:
    site, url = await local_site()
    with pytest.raises(ValueError, match="Model not found: nope in: ChatGptt"):
        async for _ in ChatGptt.create_async_generator("nope", [user("hi")], site_url=url):
            pass
    assert site.stats.requests == 0


async def test_empty_messages_are_a_value_error(local_site: SiteFactory) -> None:
    _, url = await local_site()
    with pytest.raises(ValueError):
        await Chatgpt4o.create_async("", [], site_url=url)


async def test_a_site_url_without_its_scheme_is_our_clear_error() -> None:
    """From Python as from the command line: not a dependency's bare ValueError."""
    with pytest.raises(ConfigError) as caught:
        await AIPower.create_async("", [user("hi")], site_url="127.0.0.1:8080")
    assert str(caught.value).startswith(
        "site_url '127.0.0.1:8080' is not a site URL: it needs http:// or https:// and a host "
        "(for example http://127.0.0.1:8080)"
    )
    with pytest.raises(ConfigError, match="has a space"):
        await AIPower.create_async("", [user("hi")], site_url="http://exa mple.org")


@pytest.mark.parametrize("provider", [Chatgpt4o, ChatGptt])
async def test_a_seed_provider_whose_site_is_gone_sends_nothing(
    provider: type[Chatgpt4o] | type[ChatGptt],
) -> None:
    """Its own site is gone: the clear error the CLI and the client give, at once, rather
    than a DNS lookup of the dead site."""
    with pytest.raises(MissingSiteError) as caught:
        await provider.create_async(provider.default_model or "", [user("hi")])
    name = provider.__name__
    assert str(caught.value).startswith(
        f"{name}'s own site ({provider.url}) is gone: pass site_url=... (any AI Power site) "
        f"or set {name}.url first"
    )
