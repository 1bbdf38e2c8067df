"""An error that ends a route's call lists its tries in the error object's ``chatbridge``
extension, before the first byte and in-band (the chat page shows one line per target from
them); an error no route was asked for carries none."""

from __future__ import annotations

import json

import aiohttp

from tests.server.conftest import USER, ServeApp, post, sse_events

ROUTES = {
    "dead": [
        {"provider": "AIPower", "site_url": "http://127.0.0.1:9", "name": "gone"},
        {"provider": "AIPower", "site_url": "http://127.0.0.1:7", "name": "also-gone"},
    ]
}


async def test_every_target_failed_lists_the_tries(serve_app: ServeApp) -> None:
    async with serve_app(ROUTES) as url, aiohttp.ClientSession() as session:
        status, _, reply = await post(session, url, {"model": "dead", "messages": USER})
        assert status == 502, reply
        tries = reply["error"]["chatbridge"]["attempts"]
        assert tries[0]["target"] == "gone"
        assert {t["target"] for t in tries} == {"gone", "also-gone"}
        assert {t["outcome"] for t in tries} <= {"failed", "skipped"}
        failed = [t for t in tries if t["outcome"] == "failed"]
        assert failed and all(t["error"] == "ConnectError" for t in failed)
        assert all(t["message"] and t["target"] in reply["error"]["message"] for t in failed)


async def test_the_in_band_error_lists_them_too(serve_app: ServeApp) -> None:
    async with serve_app(ROUTES) as url, aiohttp.ClientSession() as session:
        call = {"model": "dead", "messages": USER, "stream": True}
        status, _, reply = await post(session, url, call)
        if status == 200:  # the error came in-band
            reply = json.loads(sse_events(reply)[-1])
        targets = {t["target"] for t in reply["error"]["chatbridge"]["attempts"]}
        assert targets == {"gone", "also-gone"}


async def test_an_error_before_any_route_has_no_tries(serve_app: ServeApp) -> None:
    async with serve_app(ROUTES) as url, aiohttp.ClientSession() as session:
        status, _, reply = await post(session, url, {"model": "nowhere", "messages": USER})
        assert status == 404 and "chatbridge" not in reply["error"], reply
