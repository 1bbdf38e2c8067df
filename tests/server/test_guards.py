"""Auth, caps, bad requests, CORS and the site_url guard, on an in-process app."""

from __future__ import annotations

import json

import aiohttp
import pytest

from chatbridge.server._sites import is_inward
from tests.server.conftest import ECHO, USER, ServeApp, post


def _error(body: object) -> dict[str, object]:
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    return error


WIZARD = "messages[0].role"


async def test_bad_requests_are_400_in_openai_shape(serve_app: ServeApp, site_url: str) -> None:
    routes = {"default": [{"provider": "AIPower", "site_url": site_url}]}
    cases = [
        (b"{not json", None),
        (b"[1, 2]", None),
        (b"[" * 100_000, None),  # nested too deeply: a 400, never an internal error
        ({"model": "default"}, "messages"),
        ({"model": "default", "messages": []}, "messages"),
        ({"model": "default", "messages": "hi"}, "messages"),
        ({"model": "default", "messages": [{"content": "x"}]}, "messages[0].role"),
        ({"model": "default", "messages": ["hi"]}, "messages[0]"),
        ({"model": "default", "messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ({"model": 7, "messages": USER}, "model"),
        ({"messages": USER}, "model"),
        ({"model": "", "messages": USER}, "model"),
        ({"model": "default", "messages": [{"role": "wizard", "content": "x"}]}, WIZARD),
        ({"model": "default", "messages": USER, "stream": "yes"}, "stream"),
        ({"model": "default", "messages": USER, "stream_options": 3}, "stream_options"),
    ]
    async with serve_app(routes) as url, aiohttp.ClientSession() as session:
        for body, param in cases:
            status, headers, reply = await post(session, url, body)
            assert status == 400, (body, reply)
            assert headers["Content-Type"].startswith("application/json")
            error = _error(reply)
            assert error["type"] == "invalid_request_error"
            assert error["param"] == param, (body, error)
        # Unknown optional fields and OpenAI's usual ones are accepted, never an error.
        extra = {"temperature": 0.2, "max_tokens": 5, "seed": 1, "user": "u", "x_future": {"a": 1}}
        status, _, reply = await post(session, url, {"model": "default", "messages": USER, **extra})
        assert status == 200 and reply["choices"][0]["message"]["content"].startswith(ECHO)


async def test_caps_are_413_and_400(serve_app: ServeApp, site_url: str) -> None:
    routes = {"default": [{"provider": "AIPower", "site_url": site_url}]}
    async with (
        serve_app(routes, max_body_bytes=4000, max_messages=3, max_message_chars=100) as url,
        aiohttp.ClientSession() as session,
    ):
        big = {"model": "default", "messages": [{"role": "user", "content": "x" * 5000}]}
        status, _, reply = await post(session, url, big)
        assert status == 413 and _error(reply)["code"] == "request_too_large"
        # It names the limit and the setting that raises it.
        assert "at most 4,000 bytes" in _error(reply)["message"]
        assert "max_body_bytes" in _error(reply)["message"]

        # Without a Content-Length (chunked), the cap holds while reading.
        async def chunks():  # type: ignore[no-untyped-def]
            for _ in range(10):
                yield b" " * 1000

        async with session.post(url + "/v1/chat/completions", data=chunks()) as response:
            assert response.status == 413
            chunked = _error(await response.json())
            assert chunked["code"] == "request_too_large" and "4,000 bytes" in chunked["message"]
        many = {"model": "default", "messages": USER * 4}
        status, _, reply = await post(session, url, many)
        assert status == 400 and _error(reply)["code"] == "too_many_messages"
        long = {"model": "default", "messages": [{"role": "user", "content": "y" * 101}]}
        status, _, reply = await post(session, url, long)
        assert status == 400 and _error(reply)["code"] == "message_too_long"
        parts = [{"type": "text", "text": "z" * 60}, {"type": "text", "text": "z" * 60}]
        status, _, reply = await post(
            session, url, {"model": "default", "messages": [{"role": "user", "content": parts}]}
        )
        assert status == 400 and _error(reply)["param"] == "messages[0].content"
        status, _, reply = await post(session, url, {"model": "default", "messages": USER})
        assert status == 200  # the server is still fine after every cap


async def test_api_keys(serve_app: ServeApp, site_url: str) -> None:
    routes = {"default": [{"provider": "AIPower", "site_url": site_url}]}
    async with serve_app(routes, api_keys=("k-one", "k-two")) as url:
        async with aiohttp.ClientSession() as session:
            body = {"model": "default", "messages": USER}
            for headers in ({}, {"Authorization": "Bearer k-three"}, {"Authorization": "k-one"}):
                status, _, reply = await post(session, url, body, headers=headers)
                assert status == 401 and _error(reply)["code"] == "invalid_api_key"
            for key in ("k-one", "k-two"):
                auth = {"Authorization": f"Bearer {key}"}
                status, _, reply = await post(session, url, body, headers=auth)
                assert status == 200, reply
            async with session.get(url + "/v1/models") as response:
                assert response.status == 401
            async with session.get(url + "/health/live") as response:
                assert response.status == 200  # health and metrics need no key


async def test_requests_per_minute_limit_is_429_with_retry_after(
    serve_app: ServeApp, site_url: str
) -> None:
    routes = {"default": [{"provider": "AIPower", "site_url": site_url}]}
    async with serve_app(routes, api_keys=("a", "b"), requests_per_minute=2) as url:
        async with aiohttp.ClientSession() as session:
            body = {"model": "default", "messages": USER}
            a, b = {"Authorization": "Bearer a"}, {"Authorization": "Bearer b"}
            assert (await post(session, url, body, headers=a))[0] == 200
            assert (await post(session, url, body, headers=a))[0] == 200
            status, headers, reply = await post(session, url, body, headers=a)
            assert status == 429 and _error(reply)["code"] == "rate_limit_exceeded"
            assert 55 <= int(headers["Retry-After"]) <= 60
            assert (await post(session, url, body, headers=b))[0] == 200  # per key


async def test_cors_off_by_default_and_per_origin(serve_app: ServeApp, site_url: str) -> None:
    routes = {"default": [{"provider": "AIPower", "site_url": site_url}]}
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    async with serve_app(routes) as url, aiohttp.ClientSession() as session:
        status, headers, _ = await post(session, url, {"model": "default", "messages": USER},
                                        headers={"Origin": "https://app.example"})  # fmt: skip
        assert status == 200 and "Access-Control-Allow-Origin" not in headers
        async with session.options(url + "/v1/chat/completions", headers=preflight) as response:
            assert "Access-Control-Allow-Origin" not in response.headers
    async with serve_app(routes, cors_origins=("https://app.example",)) as url:
        async with aiohttp.ClientSession() as session:
            async with session.options(url + "/v1/chat/completions", headers=preflight) as reply:
                assert reply.status == 204
                assert reply.headers["Access-Control-Allow-Origin"] == "https://app.example"
                assert "Authorization" in reply.headers["Access-Control-Allow-Headers"]
            evil = {**preflight, "Origin": "https://evil.example"}
            async with session.options(url + "/v1/chat/completions", headers=evil) as reply:
                assert reply.status == 403
                assert "Access-Control-Allow-Origin" not in reply.headers
            status, headers, _ = await post(
                session, url, {"model": "nope", "messages": USER},
                headers={"Origin": "https://app.example"},
            )  # fmt: skip
            assert status == 404  # error responses carry the CORS header too
            assert headers["Access-Control-Allow-Origin"] == "https://app.example"
            assert "Retry-After" in headers["Access-Control-Expose-Headers"]
            status, headers, _ = await post(
                session, url, {"model": "nope", "messages": USER},
                headers={"Origin": "https://evil.example"},
            )  # fmt: skip
            assert "Access-Control-Allow-Origin" not in headers and headers["Vary"] == "Origin"
            sdk = {**preflight, "Access-Control-Request-Headers": "authorization, x-stainless-os"}
            async with session.options(url + "/v1/chat/completions", headers=sdk) as reply:
                allowed = reply.headers["Access-Control-Allow-Headers"].lower()
                assert "x-stainless-os" in allowed and "authorization" in allowed
            odd = {**preflight, "Access-Control-Request-Headers": "authorization, bad header"}
            async with session.options(url + "/v1/chat/completions", headers=odd) as reply:
                assert "bad" not in reply.headers["Access-Control-Allow-Headers"]
            body = {"model": "default", "messages": USER, "stream": True}
            async with session.post(
                url + "/v1/chat/completions", json=body, headers={"Origin": "https://app.example"}
            ) as reply:  # a stream's headers are sent inside the handler: CORS still applies
                assert reply.headers["Access-Control-Allow-Origin"] == "https://app.example"
                await reply.read()


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
     "fe80::1", "0.0.0.0", "::ffff:127.0.0.1", "fd00::1", "100.64.0.1"],
)  # fmt: skip
def test_inward_addresses(address: str) -> None:
    assert is_inward(address)


def test_public_addresses_are_not_inward() -> None:
    assert not is_inward("93.184.216.34") and not is_inward("2606:4700::1111")


async def test_site_url_guard(serve_app: ServeApp, site_url: str) -> None:
    routes = {"default": [{"provider": "AIPower", "site_url": site_url}]}
    port = site_url.rsplit(":", 1)[1]
    inward = [
        site_url,
        f"http://localhost:{port}",
        f"http://[::1]:{port}",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.1/",
        "http://192.168.0.10/",
        "http://0x7f000001/",
        "file:///etc/passwd",
        f"http://user:pw@127.0.0.1:{port}",
    ]
    async with serve_app(routes) as url, aiohttp.ClientSession() as session:
        status, _, reply = await post(
            session, url, {"model": "default", "messages": USER, "site_url": site_url}
        )
        assert status == 400 and "allow_site_url" in _error(reply)["message"]
    async with serve_app(routes, allow_site_url=True) as url, aiohttp.ClientSession() as session:
        for target in inward:
            body = {"model": "x", "messages": USER, "site_url": target}
            status, _, reply = await post(session, url, body)
            assert status == 400, (target, reply)
            error = _error(reply)
            assert error["code"] == "site_not_allowed" and error["param"] == "site_url"
    async with serve_app(routes, allow_site_url=True, allow_private_sites=True) as url:
        async with aiohttp.ClientSession() as session:
            body = {"model": "x", "messages": USER, "site_url": site_url}
            status, _, reply = await post(session, url, body)
            assert status == 200 and reply["choices"][0]["message"]["content"].startswith(ECHO)
            assert reply["chatbridge"]["site"] == site_url
            bad_page = {**body, "chat_page": "//evil.example/"}
            status, _, reply = await post(session, url, bad_page)
            assert status == 400 and _error(reply)["param"] == "chat_page"


async def test_unknown_paths_and_methods_are_openai_errors(serve_app: ServeApp) -> None:
    routes = {"default": [{"provider": "AIPower", "site_url": "http://127.0.0.1:9"}]}
    async with serve_app(routes) as url:
        async with aiohttp.ClientSession() as session:
            async with session.get(url + "/v1/nothing") as response:
                assert response.status == 404
                assert _error(json.loads(await response.text()))["code"] == "unknown_url"
            async with session.get(url + "/v1/chat/completions") as response:
                assert response.status == 405
                _error(await response.json())
