"""``wpaicg_submit_lead`` (guest action since 1.8.87; the 1.8.91+ handler on generation 2.2)."""

from __future__ import annotations

import aiohttp
import pytest

from chatbridge.site import LocalSite
from chatbridge.site._lead import sanitize_email

from ._site_helpers import AJAX, config, fetch, legacy_nonce

LEAD = "wpaicg_submit_lead"


async def test_lead_recorded(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config())
    async with site as url:
        nonce = await legacy_nonce(http, url)
        reply = await fetch(http, "POST", url + AJAX, data={
            "action": LEAD, "_wpnonce": nonce, "lead_name": "Ann <b>Lee</b>",
            "lead_email": " ann@example.org ", "lead_phone": "+1 555", "chatId":
            "wpaicg-chat-message-42"})
        assert reply.status == 200
        assert reply.content_type == "application/json; charset=UTF-8"
        assert reply.json() == {"success": True, "data": "Lead data submitted successfully."}
        assert site.state.leads == [{"chat_id": "42", "name": "Ann Lee",
                                     "email": "ann@example.org", "phone": "+1 555"}]
        assert site.stats.unknown_actions == 0


async def test_lead_nonce_failure_is_check_admin_referer(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config())
    async with site as url:
        reply = await fetch(http, "POST", url + AJAX, data={
            "action": LEAD, "_wpnonce": "0123456789", "lead_name": "x", "chatId": "1"})
        assert (reply.status, reply.text) == (403, "The link you followed has expired.")
        assert site.state.leads == [] and site.stats.nonce_failures == 1


async def test_lead_nonce_from_query(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config())
    async with site as url:
        nonce = await legacy_nonce(http, url)
        reply = await fetch(http, "POST", url + AJAX + f"?_wpnonce={nonce}",
                            data={"action": LEAD, "lead_phone": "1", "chatId": "7"})
        assert reply.json()["success"] is True


@pytest.mark.parametrize(("fields", "error"), [
    ({"chatId": "1"}, "No lead data provided."),
    ({"lead_email": "not-an-email", "chatId": "1"}, "No lead data provided."),
    ({"lead_name": "x"}, "Chat ID is missing."),
    ({"lead_name": "x", "chatId": "wpaicg-chat-message-"}, "Chat ID is missing."),
])
async def test_lead_errors(http: aiohttp.ClientSession, fields: dict[str, str],
                           error: str) -> None:
    site = LocalSite(config())
    async with site as url:
        nonce = await legacy_nonce(http, url)
        reply = await fetch(http, "POST", url + AJAX,
                            data={"action": LEAD, "_wpnonce": nonce, **fields})
        assert reply.status == 200
        assert reply.json() == {"success": False, "data": error}
        assert site.state.leads == []


@pytest.mark.parametrize("generation", ["1.7", "1.8", "aipkit"])
async def test_lead_not_registered_elsewhere(http: aiohttp.ClientSession,
                                             generation: str) -> None:
    async with LocalSite(config(generation=generation)) as url:
        reply = await fetch(http, "POST", url + AJAX, data={"action": LEAD})
        assert (reply.status, reply.text) == (400, "0")


def test_sanitize_email() -> None:
    assert sanitize_email(" a.b+c@Example.ORG ") == "a.b+c@example.org"
    assert sanitize_email("a b@ex.com") == "ab@ex.com"
    assert [sanitize_email(t) for t in ("a@b", "nope", "a@b@c.de", "@ex.com")] == [""] * 4
