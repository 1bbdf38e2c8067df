"""Bad input gets WordPress's answer, never a server crash (docs/protocol-ai-power.md,
"admin-ajax")."""

from __future__ import annotations

import io

import aiohttp

from chatbridge.site import LocalSite

from ._site_helpers import AJAX, config, echo, fetch, legacy_nonce


async def test_binary_and_odd_bodies(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(stream=False))
    async with site as url:
        nonce = await legacy_nonce(http, url)
        raw = b"action=wpaicg_chat_shortcode_message&_wpnonce=" + nonce.encode() + \
            b"&message=%ff%fe\xff\x00bin"
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        reply = await fetch(http, "POST", url + AJAX, data=raw, headers=headers)
        assert reply.status == 200
        assert reply.json()["status"] == "success"  # 2.2 keeps the bytes, replaced in JSON
        garbage = await fetch(http, "POST", url + AJAX, data=b"\x00\xff" * 500, headers=headers)
        assert (garbage.status, garbage.text) == (400, "0")
        as_json = await fetch(http, "POST", url + AJAX, json={"action": "x"})
        assert (as_json.status, as_json.text) == (400, "0")  # PHP ignores JSON bodies
        broken = await fetch(http, "POST", url + AJAX, data=b"--x\r\nnonsense",
                             headers={"Content-Type": "multipart/form-data; boundary=x"})
        assert (broken.status, broken.text) == (400, "0")
        assert site.stats.unknown_actions == 3


async def test_invalid_utf8_message_is_empty_on_18(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(generation="1.8")) as url:
        nonce = await legacy_nonce(http, url)
        raw = b"action=wpaicg_chat_shortcode_message&_wpnonce=" + nonce.encode() + b"&message=%ff"
        reply = await fetch(http, "POST", url + AJAX, data=raw,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert reply.json() == {"status": "error", "msg": "It appears that nothing was inputted."}


async def test_multipart_request(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(stream=False)) as url:
        form = aiohttp.FormData()
        for key, value in {"_wpnonce": await legacy_nonce(http, url), "post_id": "7",
                           "action": "wpaicg_chat_shortcode_message", "message": "multi"}.items():
            form.add_field(key, value)
        form.add_field("audio", b"\x00\x01", filename="a.webm", content_type="audio/webm")
        reply = await fetch(http, "POST", url + AJAX, data=form)
        assert reply.json()["data"] == echo("multi")


async def test_huge_body_leaves_post_empty(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config()) as url:
        body = b"action=wpaicg_chat_shortcode_message&message=" + b"a" * (9 * 1024 * 1024)
        reply = await fetch(http, "POST", url + AJAX, data=io.BytesIO(body),
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert (reply.status, reply.text) == (400, "0")


async def test_missing_fields(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(stream=False)) as url:
        no_nonce = await fetch(http, "POST", url + AJAX,
                               data={"action": "wpaicg_chat_shortcode_message", "message": "x"})
        assert no_nonce.status == 403
        nonce = await legacy_nonce(http, url)
        minimal = await fetch(http, "POST", url + AJAX, data={
            "action": "wpaicg_chat_shortcode_message", "_wpnonce": nonce, "message": "gpt4free"})
        assert minimal.json()["data"] == echo("gpt4free")


async def test_options_preflight(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config()) as url:
        foreign = await fetch(http, "OPTIONS", url + AJAX, headers={"Origin": "https://x.example"})
        assert foreign.status == 403
        own = await fetch(http, "OPTIONS", url + AJAX, headers={"Origin": url})
        assert own.status == 200 and own.headers["Access-Control-Allow-Origin"] == url
