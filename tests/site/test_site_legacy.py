"""Legacy chat handler: reply shapes, streaming, flags, limits, history
(docs/protocol-ai-power.md, "Legacy replies", "Conversation history (legacy)", "Inside the
legacy server")."""

from __future__ import annotations

import json

import aiohttp
import pytest

from chatbridge.site import LocalSite

from ._site_helpers import AJAX, chat, config, echo, fetch, legacy_nonce, sse_events, stream_text


async def test_success_json_shape_and_ajax_headers(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(stream=False))
    async with site as url:
        reply = await chat(http, url, await legacy_nonce(http, url), "What is 2+2?")
        assert reply.status == 200
        assert reply.content_type == "application/json; charset=UTF-8"
        body = reply.json()
        assert set(body) == {"status", "msg", "greeting_message", "data", "log"}
        assert body["status"] == "success"
        assert body["msg"] == "Something went wrong"
        assert body["data"] == echo("What is 2+2?")
        assert isinstance(body["log"], int)
        assert reply.headers["X-Robots-Tag"] == "noindex"
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
        assert "no-cache" in reply.headers["Cache-Control"]
        assert site.stats.chat_requests == 1
        assert site.stats.answers == 1


async def test_stream_shape(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config())  # 2.2 streams by default
    async with site as url:
        reply = await chat(http, url, await legacy_nonce(http, url), "stream me please")
        assert reply.status == 200
        assert reply.content_type == "text/event-stream"
        assert reply.headers["X-Accel-Buffering"] == "no"
        lines = reply.text.split("\n")
        data_lines = [ln for ln in lines if ln.startswith("data: ")]
        assert data_lines[-1] == "data: [DONE]"
        for i, line in enumerate(lines):
            if line.startswith("data: "):
                assert lines[i + 1] == ""  # every data line is followed by a blank line
        chunks = [json.loads(ln[6:]) for ln in data_lines[:-1]]
        assert all(c["object"] == "chat.completion.chunk" for c in chunks)
        assert all(c["id"].startswith("chatcmpl-") for c in chunks)
        contents = [c["choices"][0]["delta"].get("content") for c in chunks]
        assert len([c for c in contents if c]) >= 5
        assert stream_text(reply.text) == echo("stream me please")
        assert site.stats.stream_requests == 1


async def test_18_streams_when_enabled_and_accepts_get(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(generation="1.8", stream=True)) as url:
        nonce = await legacy_nonce(http, url)
        params = {"_wpnonce": nonce, "action": "wpaicg_chat_shortcode_message",
                  "message": "via GET"}
        reply = await fetch(http, "GET", url + AJAX, params=params)
        assert reply.content_type == "text/event-stream"
        assert stream_text(reply.text) == echo("via GET")


async def test_22_reads_fields_from_post_only(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(stream=False)) as url:
        nonce = await legacy_nonce(http, url)
        params = {"_wpnonce": nonce, "action": "wpaicg_chat_shortcode_message", "message": "hi"}
        reply = await fetch(http, "GET", url + AJAX, params=params)
        assert reply.json() == {"status": "error", "msg": "It appears that nothing was inputted."}


@pytest.mark.parametrize("stream", [False, True])
async def test_empty_message_is_plain_json(http: aiohttp.ClientSession, stream: bool) -> None:
    async with LocalSite(config(stream=stream)) as url:
        reply = await chat(http, url, await legacy_nonce(http, url), "")
        assert reply.content_type.startswith("application/json")
        assert reply.json()["msg"] == "It appears that nothing was inputted."


async def test_banned_word_json(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(stream=False, banned_words=("Forbidden",))) as url:
        reply = await chat(http, url, await legacy_nonce(http, url), "a forbidden word")
        assert reply.json() == {"status": "error", "msg": "Your message contains prohibited "
                                "words. Please modify your message and try again."}


async def test_banned_word_flag_then_stream_continues(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(banned_words=("forbidden",))) as url:
        reply = await chat(http, url, await legacy_nonce(http, url), "forbidden stuff")
        events = sse_events(reply.text)
        first = json.loads(events[0][1])
        assert first["messageFlagged"] is True
        assert "prohibited words" in first["msg"]
        assert len(events) > 3  # the plugin carries on streaming after the flag
        assert events[-1][1] == "[DONE]"


async def test_banned_ip_json_and_stream(http: aiohttp.ClientSession) -> None:
    cfg = config(stream=False, banned_ips=("203.0.113.9",))
    async with LocalSite(cfg) as url:
        nonce = await legacy_nonce(http, url)
        data = {"_wpnonce": nonce, "action": "wpaicg_chat_shortcode_message", "message": "x"}
        reply = await fetch(http, "POST", url + AJAX, data=data,
                            headers={"X-Forwarded-For": "203.0.113.9, 10.0.0.1"})
        assert reply.json() == {"status": "error",
                                "msg": "You are not allowed to access this feature."}
        assert (await chat(http, url, nonce)).json()["status"] == "success"
    async with LocalSite(config(banned_ips=("203.0.113.9",))) as url:
        nonce = await legacy_nonce(http, url)
        data = {"_wpnonce": nonce, "action": "wpaicg_chat_shortcode_message", "message": "x"}
        reply = await fetch(http, "POST", url + AJAX, data=data,
                            headers={"Client-IP": "203.0.113.9"})
        events = sse_events(reply.text)
        assert json.loads(events[0][1])["ipBanned"] is True
        assert stream_text(reply.text) == echo("x")  # an answer follows the flag


@pytest.mark.parametrize(("generation", "stream"), [("1.7", False), ("1.8", False),
                                                     ("2.2", False), ("2.2", True)])
async def test_token_limit(http: aiohttp.ClientSession, generation: str, stream: bool) -> None:
    site = LocalSite(config(generation=generation, stream=stream, guest_token_limit=5))
    async with site as url:
        nonce = await legacy_nonce(http, url)
        first = await chat(http, url, nonce, "a message long enough to use some tokens")
        assert first.status == 200 and "Echo:" in first.text
        second = await chat(http, url, nonce, "again")
        if generation == "1.7":
            assert second.json() == {"status": "error", "msg": "You have reached your token limit."}
        elif stream:
            events = sse_events(second.text)
            assert len(events) == 1
            assert json.loads(events[0][1]) == {"msg": "You have reached your token limit.",
                                                "tokenLimitReached": True}
        else:
            assert second.json() == {"msg": "You have reached your token limit.",
                                     "tokenLimitReached": True}
        if generation != "1.7":  # the counter is keyed by the client id
            other = await chat(http, url, nonce, "new id", wpaicg_chat_client_id="ZZZZZZZZZZ")
            assert "Echo: new id" in (other.text if not stream else stream_text(other.text))


async def test_upstream_error_json(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(stream=False, upstream_error="You exceeded <quota>")) as url:
        body = (await chat(http, url, await legacy_nonce(http, url))).json()
        assert body["status"] == "error"
        assert body["msg"] == "You exceeded &lt;quota&gt;"
        assert "greeting_message" in body and "data" not in body


async def test_upstream_error_stream_word_split(http: aiohttp.ClientSession) -> None:
    text = 'The model "gpt-9" does not exist'
    async with LocalSite(config(upstream_error=text)) as url:
        reply = await chat(http, url, await legacy_nonce(http, url))
        assert reply.content_type == "text/event-stream"
        assert "[DONE]" not in reply.text
        events = sse_events(reply.text)
        first_stop = next(i for i, (_, d) in enumerate(events) if "finish_reason" in d)
        words = events[:first_stop]
        assert all(name == "message" for name, _ in words)
        assert words[0][1] == '{"choices":[{"delta":{"content":"The"}}]}'
        assert words[2][1] == '{"choices":[{"delta":{"content":" "gpt-9""}}]}'
        with pytest.raises(ValueError):
            json.loads(words[2][1])  # the quote is not escaped
        assert events[first_stop] == (None, '{"choices":[{"finish_reason":"stop"}]}')
        assert len(events) == 2 * (first_stop + 1)  # 1.9.18 sends the sequence twice


async def test_upstream_exception_stream_ends_limited(http: aiohttp.ClientSession) -> None:
    cfg = config(upstream_error="cURL error 28: timed out", upstream_error_mode="exception")
    async with LocalSite(cfg) as url:
        reply = await chat(http, url, await legacy_nonce(http, url))
        events = sse_events(reply.text)
        assert events[-1] == (None, "[LIMITED]")
        assert [n for n, _ in events[:-1]] == ["message"] * 5


async def test_history_well_encoded_is_counted(http: aiohttp.ClientSession) -> None:
    history = [{"id": 1, "text": "Human: hi"}, {"id": 2, "text": "AI: hello there"},
               "Human: how are you", {"id": "", "text": "AI: fine"}, {"id": 5, "text": "AI: "}]
    site = LocalSite(config(stream=False))
    async with site as url:
        reply = await chat(http, url, await legacy_nonce(http, url), "next",
                           wpaicg_chat_history=json.dumps(history, ensure_ascii=False))
        assert reply.json()["data"] == echo("next", 2, 2)  # the empty AI turn is dropped
        assert site.requests[-1].history_turns == 4


@pytest.mark.parametrize("generation", ["1.8", "2.2"])
async def test_history_backslash_escape_drops_it(http: aiohttp.ClientSession,
                                                 generation: str) -> None:
    history = [{"id": 1, "text": 'Human: say "hi"'}, {"id": 2, "text": "AI: hi"}]
    async with LocalSite(config(generation=generation, stream=False)) as url:
        nonce = await legacy_nonce(http, url)
        bad = await chat(http, url, nonce, "q", wpaicg_chat_history=json.dumps(history))
        assert bad.json()["data"].endswith("history turns: 0 (user 0, assistant 0)")
        lone = [{"id": 1, "text": "Human: C:\\\\temp"}]  # an escaped backslash just disappears
        ok = await chat(http, url, nonce, "q", wpaicg_chat_history=json.dumps(lone))
        assert ok.json()["data"].endswith("history turns: 1 (user 1, assistant 0)")
        none = await chat(http, url, nonce, "q", wpaicg_chat_history="None")
        assert none.json()["status"] == "success"


async def test_history_18_collapses_newlines_22_keeps_them(http: aiohttp.ClientSession) -> None:
    # a raw newline inside a JSON string is invalid JSON: 1.8 turns it into a space first
    raw = '[{"id":1,"text":"Human: line1\nline2"}]'
    for generation, turns in (("1.8", 1), ("2.2", 0)):
        async with LocalSite(config(generation=generation, stream=False)) as url:
            reply = await chat(http, url, await legacy_nonce(http, url), "q",
                               wpaicg_chat_history=raw)
            assert reply.json()["data"].endswith(f"history turns: {turns} (user {turns}, "
                                                 "assistant 0)")


async def test_18_sanitizes_message_22_keeps_it(http: aiohttp.ClientSession) -> None:
    message = "a <b>bold</b>\nline 100%25 it's"
    async with LocalSite(config(generation="1.8", stream=False)) as url:
        body = (await chat(http, url, await legacy_nonce(http, url), message)).json()
        assert body["data"] == echo("a bold line 100 it\\'s")
    async with LocalSite(config(stream=False)) as url:
        body = (await chat(http, url, await legacy_nonce(http, url), message)).json()
        assert body["data"] == echo(message)


async def test_17_cookie_history(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(generation="1.7"))
    async with site as url:
        nonce = await legacy_nonce(http, url)
        answers = [(await chat(http, url, nonce, f"turn {i}")).json()["data"] for i in range(3)]
        assert answers == [echo("turn 0"), echo("turn 1", 1, 1), echo("turn 2", 2, 2)]
        cookies = {c.key: c.value for c in http.cookie_jar}
        client_id = cookies["wpaicg_chat_client_id"]
        assert client_id.startswith("t_") and len(client_id) == 32
        int(client_id[2:], 16)
        md5 = cookies["wpaicg_conversation_url_shortcode"]
        assert len(md5) == 32 and md5 in cookies
        assert cookies[md5].startswith("a%3A6%3A%7B")  # urlencoded "a:6:{"
        # another url is another conversation
        other = await chat(http, url, nonce, "elsewhere", url=url + "/other")
        assert other.json()["data"] == echo("elsewhere")
    async with LocalSite(config(generation="1.7")) as url, aiohttp.ClientSession() as jarless:
        nonce = await legacy_nonce(jarless, url)
        for _ in range(2):  # no cookie jar (IP host refused): every request is a fresh chat
            assert (await chat(jarless, url, nonce)).json()["data"] == echo("hello")


async def test_17_apostrophe_spoils_next_cookie_history(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(generation="1.7")) as url:
        nonce = await legacy_nonce(http, url)
        assert (await chat(http, url, nonce, "it's")).json()["data"] == echo("it\\'s")
        assert (await chat(http, url, nonce, "next")).json()["data"] == echo("next")


@pytest.mark.parametrize("action", ["", "nope", "aipkit_cache_sse_message"])
async def test_unknown_action_400_zero(http: aiohttp.ClientSession, action: str) -> None:
    site = LocalSite(config())
    async with site as url:
        reply = await fetch(http, "POST", url + AJAX, data={"action": action})
        assert (reply.status, reply.text) == (400, "0")
        assert reply.headers["X-Robots-Tag"] == "noindex"
        assert site.stats.unknown_actions == 1


async def test_widget_action_works(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(placement="widget", stream=False)) as url:
        reply = await chat(http, url, await legacy_nonce(http, url),
                           action="wpaicg_chatbox_message", chatbot_identity="widget")
        assert reply.json()["data"] == echo("hello")
