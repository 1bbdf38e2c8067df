"""Legacy server rules (docs/protocol-ai-power.md, "Inside the legacy server", "Conversation
history (legacy)"): 1.7 cookies, where the nonce may come from, Origin
handling, banned-word matching, PHP ``strip_tags`` in the sanitisers."""

from __future__ import annotations

from http.cookies import SimpleCookie

import aiohttp
import pytest

from chatbridge.site import LocalSite
from chatbridge.site._history import encode_cookie_history, history_cookie_name
from chatbridge.site._php import sanitize_text_field, sanitize_textarea_field, strip_tags

from ._site_helpers import AJAX, SHORTCODE, chat, config, echo, fetch, legacy_nonce

BANNED = "Your message contains prohibited words. Please modify your message and try again."


async def _post_cookies(http: aiohttp.ClientSession, url: str, data: dict[str, str],
                        cookie: str = "") -> tuple[dict[str, object], SimpleCookie]:
    headers = {"Cookie": cookie} if cookie else {}
    async with http.post(url + AJAX, data=data, headers=headers) as resp:
        return await resp.json(), resp.cookies


def _fields(nonce: str, url: str, message: str, **extra: str) -> dict[str, str]:
    return {"_wpnonce": nonce, "action": SHORTCODE, "message": message, "bot_id": "0",
            "url": url, **extra}


# --- 1.7 cookies ---------------------------------------------------------------------------


async def test_17_history_cut_to_conversation_cut(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(generation="1.7", conversation_cut=2)) as url:
        nonce = await legacy_nonce(http, url)
        answers = [(await chat(http, url, nonce, f"t{i}")).json()["data"] for i in range(4)]
        # the model sees at most 2 stored entries; the cookie keeps those plus the new turn
        assert answers == [echo("t0"), echo("t1", 1, 1), echo("t2", 1, 1), echo("t3", 1, 1)]
        cookies = {c.key: c.value for c in http.cookie_jar}
        md5 = cookies["wpaicg_conversation_url_shortcode"]
        assert cookies[md5].startswith("a%3A4%3A%7B")
        assert "t3" in cookies[md5] and "t1" not in cookies[md5]


@pytest.mark.parametrize(("cfg_bot", "fields", "name"), [
    (0, {"action": "wpaicg_chatbox_message"}, "wpaicg_conversation_url"),
    (0, {}, "wpaicg_conversation_url_shortcode"),
    (7, {"bot_id": "7"}, "wpaicg_conversation_url_custom_bot_7"),
    (7, {"bot_id": "7", "action": "wpaicg_chatbox_message"},
     "wpaicg_conversation_url_custom_bot_7"),
    (7, {"bot_id": "8"}, "wpaicg_conversation_url_shortcode"),  # no bot 8
])
async def test_17_key_cookie_names_and_lifetimes(
    http: aiohttp.ClientSession, cfg_bot: int, fields: dict[str, str], name: str
) -> None:
    async with LocalSite(config(generation="1.7", bot_id=cfg_bot)) as url:
        nonce = await legacy_nonce(http, url)
        body, cookies = await _post_cookies(http, url, _fields(nonce, url, "hi", **fields))
        assert body["status"] == "success"
        client_id = cookies["wpaicg_chat_client_id"].value
        md5 = history_cookie_name(client_id, url)
        assert cookies[name].value == md5
        assert cookies["wpaicg_chat_client_id"]["max-age"] == str(7 * 86400)
        assert cookies[name]["max-age"] == cookies[md5]["max-age"] == "86400"
        others = {k for k in cookies if k.startswith("wpaicg_conversation_url")} - {name}
        assert not others


async def test_17_history_needs_the_key_cookie(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(generation="1.7")) as url, aiohttp.ClientSession() as bare:
        nonce = await legacy_nonce(bare, url)
        client_id = "t_" + "ab" * 15
        md5 = history_cookie_name(client_id, url)
        stored = encode_cookie_history(["Human: before\nAI: ", "answer"])
        base = f"wpaicg_chat_client_id={client_id}; {md5}={stored}"
        body, cookies = await _post_cookies(bare, url, _fields(nonce, url, "a"), base)
        assert body["data"] == echo("a")  # no key cookie: a new conversation, key cookie set
        assert cookies["wpaicg_conversation_url_shortcode"].value == md5
        with_key = base + f"; wpaicg_conversation_url_shortcode={md5}"
        body, cookies = await _post_cookies(bare, url, _fields(nonce, url, "b"), with_key)
        assert body["data"] == echo("b", 1, 1)
        assert "wpaicg_conversation_url_shortcode" not in cookies  # not refreshed
        assert "wpaicg_chat_client_id" not in cookies


async def test_17_client_id_cookie_set_on_nonce_failure(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(generation="1.7")) as url:
        body, cookies = await _post_cookies(http, url, _fields("0123456789", url, "hi"))
        assert body["status"] == "error" and str(body["msg"]).startswith("Invalid nonce.")
        assert cookies["wpaicg_chat_client_id"].value.startswith("t_")
        assert cookies["wpaicg_chat_client_id"]["max-age"] == str(7 * 86400)


# --- 2.2: nonce from $_REQUEST, Origin ignored ---------------------------------------------


async def test_22_nonce_in_query_fields_in_post(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(stream=False)) as url:
        nonce = await legacy_nonce(http, url)
        reply = await fetch(http, "POST", url + AJAX + f"?_wpnonce={nonce}",
                            data={"action": SHORTCODE, "message": "query nonce"})
        assert reply.json()["data"] == echo("query nonce")


@pytest.mark.parametrize("generation", ["1.7", "1.8", "2.2"])
async def test_legacy_post_with_foreign_origin_is_answered(
    http: aiohttp.ClientSession, generation: str
) -> None:
    async with LocalSite(config(generation=generation, stream=False)) as url:
        nonce = await legacy_nonce(http, url)
        reply = await fetch(http, "POST", url + AJAX, data=_fields(nonce, url, "from afar"),
                            headers={"Origin": "https://evil.example"})
        assert reply.status == 200 and reply.json()["data"] == echo("from afar")
        assert "Access-Control-Allow-Origin" not in reply.headers


# --- banned words --------------------------------------------------------------------------


@pytest.mark.parametrize(("message", "refused"), [
    ("this is BAD", True), ("bad", True), ("so  bad", True),  # "" and "bad" after explode(" ")
    ("bad!", False), ("bad,", False), ("(bad)", False), ("so\nbad", False), ("so\tbad", False),
    ("badly", False),
])
async def test_banned_words_exact_after_single_space_split(
    http: aiohttp.ClientSession, message: str, refused: bool
) -> None:
    async with LocalSite(config(stream=False, banned_words=("Bad",))) as url:
        reply = await chat(http, url, await legacy_nonce(http, url), message)
        body = reply.json()
        assert (body["status"] == "error" and body["msg"] == BANNED) is refused


# --- PHP strip_tags ------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("if a < b and c > d then", "if a < b and c > d then"),
    ('a <b title=">">x</b>', "a x"),
    ("a <b title='>'>x</b>", "a x"),
    ("x<!-- <b>c</b> -->y", "xy"),
    ("a<b", "a"),
    ("<p>hi</p>", "hi"),
    ("a <?php echo '?>'; ?>b", "a b"),
    ("<!DOCTYPE html>z", "z"),
    ("a<a<b>c>d", "ad"),
    ("1 <\n2", "1 <\n2"),
    ("nul\0byte", "nulbyte"),
])
def test_strip_tags_like_php(text: str, expected: str) -> None:
    assert strip_tags(text) == expected


def test_sanitizers_use_strip_tags() -> None:
    assert sanitize_text_field("if a < b and c > d then") == "if a < b and c > d then"
    assert sanitize_text_field('a <b title=">">x</b>') == "a x"
    assert sanitize_textarea_field("a <\nb") == "a &lt;\nb"
    assert sanitize_text_field("a<a<b>c>d") == "a&lt;ac>d"  # wp_pre_kses_less_than first


async def test_18_message_comparison_survives(http: aiohttp.ClientSession) -> None:
    async with LocalSite(config(generation="1.8", stream=False)) as url:
        nonce = await legacy_nonce(http, url)
        reply = await chat(http, url, nonce, "if a < b and c > d then")
        assert reply.json()["data"] == echo("if a < b and c > d then")
        reply = await chat(http, url, nonce, 'a <b title=">">x</b>')
        assert reply.json()["data"] == echo("a x")
