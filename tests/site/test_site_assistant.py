"""Assistants mode (the ``assistant`` option): container flag, threads, JSON and stream shapes
(docs/protocol-ai-power.md, "Assistants streams")."""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

import aiohttp
import pytest

from chatbridge.site import LocalSite, SiteConfig
from chatbridge.site._main import add_arguments, config_from_args

from ._site_helpers import chat, config, container, echo, fetch, legacy_nonce, sse_events
from .test_site_upstream import fake_openai

THREAD = re.compile(r"thread_[A-Za-z0-9]{24}")
QUOTA = "You exceeded your current quota."


def assistant_text(events: list[tuple[str | None, str]]) -> str:
    out = []
    for name, data in events:
        if name == "thread.message.delta":
            obj = json.loads(data)
            assert obj["object"] == "thread.message.delta"
            out.append(obj["delta"]["content"][0]["text"]["value"])
    return "".join(out)


@pytest.mark.parametrize("placement", ["shortcode", "widget"])
async def test_container_says_assistant_enabled(
    http: aiohttp.ClientSession, placement: str
) -> None:
    async with LocalSite(config(assistant=True, placement=placement)) as url:
        attrs = container((await fetch(http, "GET", url + "/")).text)[1]
        assert attrs["data-assistant-enabled"] == "true"
    async with LocalSite(config(placement=placement)) as url:
        attrs = container((await fetch(http, "GET", url + "/")).text)[1]
        assert attrs["data-assistant-enabled"] == "false"


@pytest.mark.parametrize(
    "options",
    [{"generation": "1.8", "assistant": True}, {"generation": "1.7", "assistant": True},
     {"generation": "aipkit", "assistant": True}, {"generation": "aipkit", "misconfigured": True},
     {"generation": "aipkit", "pinecone_error": True}],
)
def test_impossible_combinations_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"needs generation 2\.2|legacy generations"):
        SiteConfig(**options)


async def test_json_thread_is_created_then_echoed(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(assistant=True, stream=False))
    async with site as url:
        nonce = await legacy_nonce(http, url)
        # The client's history is not used: the thread holds the conversation.
        noise = json.dumps([{"id": 1, "text": "Human: ignored"}, {"id": 2, "text": "AI: too"}])
        first = (await chat(http, url, nonce, "one", wpaicg_chat_history=noise)).json()
        assert set(first) == {"status", "msg", "greeting_message", "data", "log", "thread_id"}
        assert first["status"] == "success" and first["data"] == echo("one")
        thread = first["thread_id"]
        assert THREAD.fullmatch(thread)
        second = (await chat(http, url, nonce, "two", thread_id=thread)).json()
        assert (second["thread_id"], second["data"]) == (thread, echo("two", 1, 1))
        third = (await chat(http, url, nonce, "three", thread_id=thread,
                            wpaicg_chat_history=noise)).json()
        assert (third["thread_id"], third["data"]) == (thread, echo("three", 2, 2))
        assert [r.history_turns for r in site.requests if r.action] == [0, 2, 4]
        assert site.state.threads.turns(thread)[-1] == ("assistant", echo("three", 2, 2))
        assert site.stats.answers == 3


async def test_unknown_thread_starts_a_new_one(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(assistant=True, stream=False))
    async with site as url:
        nonce = await legacy_nonce(http, url)
        body = (await chat(http, url, nonce, "hi", thread_id="thread_unknown")).json()
        assert body["data"] == echo("hi")
        assert THREAD.fullmatch(body["thread_id"]) and body["thread_id"] != "thread_unknown"
        assert "thread_unknown" not in site.state.threads


async def test_stream_shape(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(assistant=True))
    async with site as url:
        nonce = await legacy_nonce(http, url)
        reply = await chat(http, url, nonce, "stream me please")
        assert reply.status == 200 and reply.content_type == "text/event-stream"
        assert reply.headers["Connection"] == "keep-alive"
        assert reply.headers["X-Accel-Buffering"] == "no"
        events = sse_events(reply.text)
        name, thread = events[0]
        assert name == "thread_id" and THREAD.fullmatch(thread)
        assert events[-1] == ("done", "[DONE]")
        deltas = events[1:-1]
        assert len(deltas) >= 5 and {n for n, _ in deltas} == {"thread.message.delta"}
        assert assistant_text(events) == echo("stream me please")
        # The next turn on the same thread: no thread_id event, the stored turns counted.
        again = sse_events((await chat(http, url, nonce, "more", thread_id=thread)).text)
        assert "thread_id" not in {n for n, _ in again}
        assert assistant_text(again) == echo("more", 1, 1)
        assert again[-1] == ("done", "[DONE]")
        assert site.stats.stream_requests == 2 and site.stats.last_history_turns == 2


@pytest.mark.parametrize("stream", [False, True])
async def test_upstream_error(http: aiohttp.ClientSession, stream: bool) -> None:
    site = LocalSite(config(assistant=True, stream=stream, upstream_error=QUOTA))
    async with site as url:
        reply = await chat(http, url, await legacy_nonce(http, url))
        if stream:
            assert reply.content_type == "text/event-stream"
            assert sse_events(reply.text) == [
                ("assistant_error", '{"status":"error","msg":"' + QUOTA + '"}'),
                ("done", "[DONE]"),
            ]
        else:
            body = reply.json()
            assert (body["status"], body["msg"]) == ("error", QUOTA)
            assert "thread_id" not in body
        assert len(site.state.threads) == 0  # the failure came before a thread was made
        assert (site.stats.errors, site.stats.answers) == (1, 0)


async def test_forwards_the_thread_upstream(http: aiohttp.ClientSession) -> None:
    seen: list[dict[str, Any]] = []
    async with fake_openai(seen) as upstream, LocalSite(
        config(assistant=True, upstream=upstream)
    ) as url:
        nonce = await legacy_nonce(http, url)
        events = sse_events((await chat(http, url, nonce, "first")).text)
        assert assistant_text(events) == "upstream streams"
        thread = events[0][1]
        events = sse_events((await chat(http, url, nonce, "second", thread_id=thread)).text)
        assert assistant_text(events) == "upstream streams"
    assert seen[1]["messages"][1:] == [{"role": "user", "content": "first"},
                                       {"role": "assistant", "content": "upstream streams"},
                                       {"role": "user", "content": "second"}]


def test_cli_options() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    cfg = config_from_args(parser.parse_args(["--assistant", "--pinecone-error",
                                              "--misconfigured"]))
    assert (cfg.assistant, cfg.pinecone_error, cfg.misconfigured) == (True, True, True)
    cfg = config_from_args(parser.parse_args([]))
    assert (cfg.assistant, cfg.pinecone_error, cfg.misconfigured) == (False, False, False)
    with pytest.raises(ValueError, match=r"generation 2\.2"):
        config_from_args(parser.parse_args(["--generation", "1.8", "--assistant"]))
