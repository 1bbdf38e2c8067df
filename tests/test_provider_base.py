"""The provider framework: sync bridge, introspection, registry — with tiny local providers."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, ClassVar

import pytest

import chatbridge
from chatbridge import (
    AsyncGeneratorProvider,
    AsyncProvider,
    AsyncResult,
    Messages,
    ProviderNotFoundError,
    get_provider,
    list_providers,
)


class Whole(AsyncProvider):
    @classmethod
    async def create_async(cls, model: str, messages: Messages, **kwargs: Any) -> str:
        await asyncio.sleep(0)
        return f"{model}:{messages[-1]['content']}:{threading.current_thread().name}"


class Chunks(AsyncGeneratorProvider):
    closed: ClassVar[list[bool]] = []

    @classmethod
    async def create_async_generator(
        cls, model: str, messages: Messages, proxy: str | None = None, **kwargs: Any
    ) -> AsyncResult:
        try:
            for word in ("a", "b", "c"):
                await asyncio.sleep(0)
                yield word
        finally:
            cls.closed.append(True)


MESSAGES = [{"role": "user", "content": "hi"}]


def test_sync_completion_without_a_running_loop() -> None:
    (answer,) = list(Whole.create_completion("m", MESSAGES))
    assert answer.startswith("m:hi:chatbridge-sync")
    assert list(Chunks.create_completion("m", MESSAGES, stream=True)) == ["a", "b", "c"]
    assert list(Chunks.create_completion("m", MESSAGES)) == ["abc"]


async def test_sync_completion_inside_a_running_loop_does_not_patch_it() -> None:
    loop = asyncio.get_running_loop()
    run_until_complete = loop.run_until_complete
    assert list(Chunks.create_completion("m", MESSAGES)) == ["abc"]
    assert loop.run_until_complete == run_until_complete  # no nest_asyncio-style patching
    assert not hasattr(loop, "_nest_patched")


def test_breaking_out_of_a_sync_stream_closes_the_generator() -> None:
    Chunks.closed.clear()
    for chunk in Chunks.create_completion("m", MESSAGES, stream=True):
        assert chunk == "a"
        break
    assert Chunks.closed == [True]


async def test_async_create_joins_generator_chunks_and_instances_work() -> None:
    assert await Chunks.create_async("m", MESSAGES) == "abc"
    provider = Chunks()
    assert [c async for c in provider.create_async_generator(model="m", messages=MESSAGES)] == [
        "a",
        "b",
        "c",
    ]


def test_sync_call_from_the_private_loop_is_refused_not_deadlocked() -> None:
    class Nested(AsyncProvider):
        @classmethod
        async def create_async(cls, model: str, messages: Messages, **kwargs: Any) -> str:
            return next(iter(Whole.create_completion(model, messages)))

    with pytest.raises(RuntimeError, match="inside chatbridge's own event loop"):
        list(Nested.create_completion("m", MESSAGES))


def test_parameters_and_summary() -> None:
    params = chatbridge.Chatgpt4o.get_parameters()
    assert list(params) == ["model", "messages", "proxy", "timeout", "cookies"]
    assert params["timeout"] == 120
    assert params["model"] is chatbridge._providers._base.REQUIRED
    as_json = chatbridge.Chatgpt4o.get_parameters(as_json=True)
    assert as_json["model"] is None and as_json["proxy"] is None
    summary = chatbridge.Chatgpt4o.params
    assert summary == chatbridge.Chatgpt4o.describe_parameters()
    assert summary.startswith("Chatgpt4o supports: (model, messages, proxy=None, timeout=120")
    assert "proxy=None" in chatbridge.ChatGptt.params


def test_registry_lookup_and_listing() -> None:
    assert get_provider("chatgpt4o") is chatbridge.Chatgpt4o
    assert get_provider(" CHATGPTT ") is chatbridge.ChatGptt
    with pytest.raises(ProviderNotFoundError, match="Unknown provider 'nope'"):
        get_provider("nope")
    names = [p.get_name() for p in list_providers()]
    assert names == sorted(names, key=str.lower)
    assert {"AIPower", "ChatGptt", "Chatgpt4o"} <= set(names)
    assert [p.get_name() for p in list_providers(working_only=True)] == [
        "AIEngine",
        "AIPower",
        "AnySite",
        "OpenAICompatible",
    ]
    described = chatbridge.ChatGptt.describe()
    assert described["models"] == ["gpt-4", "gpt-4o", "gpt-4o-mini"]
    assert described["supports_stream"] is True


def test_seed_provider_contract_table() -> None:
    c4o, gtt = chatbridge.Chatgpt4o, chatbridge.ChatGptt
    assert issubclass(c4o, chatbridge.AsyncProvider) and not issubclass(
        c4o, chatbridge.AsyncGeneratorProvider
    )
    assert issubclass(c4o, chatbridge.ProviderModelMixin)
    assert issubclass(gtt, chatbridge.AsyncGeneratorProvider)
    assert (c4o.url, gtt.url) == ("https://chatgpt4o.one", "https://chatgptt.me")
    assert gtt.api_endpoint == "https://chatgptt.me/wp-admin/admin-ajax.php"
    assert not c4o.working and not gtt.working
    assert gtt.supports_stream and gtt.supports_system_message and gtt.supports_message_history
    assert c4o.model_aliases == {"gpt-4o-mini": "gpt-4o-mini-2024-07-18"}
