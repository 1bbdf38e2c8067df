"""StreamSession against real aiohttp servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from aiohttp import web

from chatbridge import (
    BlockedError,
    ChallengeError,
    ProxyError,
    RateLimitError,
    RequestTimeoutError,
    ResponseError,
    ResponseStatusError,
    ResponseTooLargeError,
    StreamSession,
    TransportError,
)
from chatbridge._http._cookies import JarToBe
from tests.conftest import MALFORMED, free_port, local_proxy, raw_reply_server, serve_app
from tests.proxies import socks5_proxy

CHALLENGE_PAGE = (
    "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
    '<div id="cf-please-wait"></div><script src="/cdn-cgi/challenge-platform/h/b/orchestrate">'
    "</script></body></html>"
)


def _app(**routes: web.RouteDef) -> web.Application:
    app = web.Application()
    app.add_routes(list(routes.values()))
    return app


async def test_timeout_is_honoured_mid_stream() -> None:
    async def slow_stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b"data: first\n\n")
        await asyncio.sleep(5)  # stalls after the first event
        await response.write(b"data: second\n\n")
        return response

    async with serve_app(_app(s=web.get("/s", slow_stream))) as url:
        async with StreamSession(timeout=30, read_gap=0.3) as session:
            async with session.get(f"{url}/s") as response:
                events = []
                loop = asyncio.get_running_loop()
                started = loop.time()
                with pytest.raises(RequestTimeoutError) as caught:
                    async for event in response.sse():
                        events.append(event.data)
                elapsed = loop.time() - started
    assert events == ["first"]
    assert isinstance(caught.value, TimeoutError)
    assert elapsed < 3


async def test_total_timeout_covers_a_trickling_body() -> None:
    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(50):
            await response.write(b"x\n")
            await asyncio.sleep(0.1)  # each gap is short, the whole is long
        return response

    async with serve_app(_app(t=web.get("/t", trickle))) as url:
        async with StreamSession(timeout=0.5, read_gap=5) as session:
            with pytest.raises(RequestTimeoutError):
                async with session.get(f"{url}/t") as response:
                    await response.read()


async def test_size_cap_stops_a_huge_body() -> None:
    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        chunk = b"a" * 65536
        for _ in range(64):  # 4 MiB, chunked, no Content-Length
            await response.write(chunk)
        return response

    async def declared(request: web.Request) -> web.Response:
        return web.Response(body=b"b" * 300_000)

    app = _app(h=web.get("/huge", huge), d=web.get("/declared", declared))
    async with serve_app(app) as url, StreamSession(max_response_bytes=200_000) as session:
        with pytest.raises(ResponseTooLargeError):
            async with session.get(f"{url}/huge") as response:
                await response.read()
        with pytest.raises(ResponseTooLargeError) as caught:
            async with session.get(f"{url}/declared") as response:
                pass
        assert "300000" in str(caught.value)


async def test_cookies_are_kept_across_requests() -> None:
    async def set_cookie(request: web.Request) -> web.Response:
        response = web.Response(text="set")
        response.set_cookie("visitor", "v42")
        return response

    async def echo_cookie(request: web.Request) -> web.Response:
        return web.json_response({"visitor": request.cookies.get("visitor")})

    app = _app(a=web.get("/set", set_cookie), b=web.get("/echo", echo_cookie))
    async with serve_app(app) as url, StreamSession(cookies={"given": "1"}) as session:
        async with session.get(f"{url}/set"):
            pass
        async with session.get(f"{url}/echo") as response:
            assert await response.json() == {"visitor": "v42"}
        assert session.cookies["visitor"] == "v42"
        assert session.cookies["given"] == "1"


@pytest.mark.parametrize("status", [403, 503])
async def test_cloudflare_challenge_recognised(status: int) -> None:
    async def challenge(request: web.Request) -> web.Response:
        return web.Response(
            status=status,
            text=CHALLENGE_PAGE,
            content_type="text/html",
            headers={"cf-mitigated": "challenge"} if status == 503 else {},
        )

    async with serve_app(_app(c=web.get("/", challenge))) as url, StreamSession() as session:
        async with session.get(f"{url}/") as response:
            with pytest.raises(ChallengeError) as caught:
                await response.raise_for_status()
    assert caught.value.status == status
    assert caught.value.url == f"{url}/"


async def test_status_mapping_of_rate_limits_blocks_and_json_errors() -> None:
    async def limited(request: web.Request) -> web.Response:
        return web.Response(status=429, text="slow down", headers={"Retry-After": "7"})

    async def blocked(request: web.Request) -> web.Response:
        return web.Response(
            status=403,
            text="<html><title>Attention</title>Sorry, you have been blocked</html>",
            content_type="text/html",
        )

    async def json_error(request: web.Request) -> web.Response:
        return web.json_response({"error": {"message": "bad thing"}}, status=500)

    app = _app(
        a=web.get("/limited", limited), b=web.get("/blocked", blocked), c=web.get("/j", json_error)
    )
    async with serve_app(app) as url, StreamSession() as session:
        async with session.get(f"{url}/limited") as response:
            with pytest.raises(RateLimitError) as rate:
                await response.raise_for_status()
        assert rate.value.retry_after == 7.0
        async with session.get(f"{url}/blocked") as response:
            with pytest.raises(BlockedError):
                await response.raise_for_status()
        async with session.get(f"{url}/j") as response:
            with pytest.raises(ResponseStatusError, match="HTTP 500: bad thing"):
                await response.raise_for_status()


async def test_one_connection_serves_many_sequential_requests() -> None:
    peers: list[object] = []

    async def hello(request: web.Request) -> web.Response:
        assert request.transport is not None
        peers.append(request.transport.get_extra_info("peername"))
        return web.Response(text="hi")

    async with serve_app(_app(h=web.get("/", hello))) as url:
        for _ in range(5):  # a new session per call, as providers do: the pool is shared
            async with StreamSession() as session:
                for _ in range(4):
                    async with session.get(f"{url}/") as response:
                        assert await response.text() == "hi"
    assert len(peers) == 20
    assert len(set(peers)) == 1


async def test_non_json_body_and_json_list_body() -> None:
    async def html(request: web.Request) -> web.Response:
        return web.Response(text="<html>not json</html>", content_type="text/html")

    async def listing(request: web.Request) -> web.Response:
        return web.json_response([1, 2, 3])

    app = _app(a=web.get("/html", html), b=web.get("/list", listing))
    async with serve_app(app) as url, StreamSession() as session:
        async with session.get(f"{url}/html") as response:
            with pytest.raises(ResponseError) as caught:
                await response.json()
        assert isinstance(caught.value, RuntimeError)
        async with session.get(f"{url}/list") as response:
            assert await response.json() == [1, 2, 3]


async def test_lines_split_anywhere_are_reassembled() -> None:
    async def pieces(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for piece in (b"al", b"pha\r", b"\nbe", "ta ü".encode()[:-1], "ü".encode()[1:], b"\ngam"):
            await response.write(piece)
            await asyncio.sleep(0.01)
        return response

    async with serve_app(_app(p=web.get("/", pieces))) as url, StreamSession() as session:
        async with session.get(f"{url}/") as response:
            lines = [line async for line in response.iter_lines()]
    assert lines == ["alpha", "beta ü", "gam"]


async def test_unreachable_host_is_a_transport_error() -> None:
    port = free_port()  # nothing listens there
    async with StreamSession(connect_timeout=2) as session:
        with pytest.raises(TransportError) as caught:
            async with session.get(f"http://127.0.0.1:{port}/"):
                pass
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert caught.value.__cause__ is not None


async def test_connection_reset_mid_body_is_a_transport_error() -> None:
    async def reset(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "1000"})
        await response.prepare(request)
        await response.write(b"partial")
        assert request.transport is not None
        request.transport.abort()
        return response

    async with serve_app(_app(r=web.get("/", reset))) as url, StreamSession() as session:
        with pytest.raises(TransportError):
            async with session.get(f"{url}/") as response:
                await response.read()


async def test_http_proxy_is_used() -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.json_response({"path": request.path})

    async with local_proxy() as (proxy, seen), serve_app(_app(h=web.get("/via", hello))) as url:
        async with StreamSession(proxies={"all": proxy}) as session:
            async with session.get(f"{url}/via") as response:
                assert await response.json() == {"path": "/via"}
        async with StreamSession(proxy=None) as session:  # no proxy: direct
            async with session.get(f"{url}/via") as response:
                assert json.loads(await response.text()) == {"path": "/via"}
    assert seen == [f"{url}/via"]


async def test_socks5_proxy_through_the_optional_extra() -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="via socks")

    async with socks5_proxy() as proxy, serve_app(_app(h=web.get("/", hello))) as url:
        async with StreamSession(proxy=proxy.url) as session:
            async with session.get(f"{url}/") as response:
                assert await response.text() == "via socks"
    assert proxy.carried == [url.removeprefix("http://")]


async def test_connect_timeout_holds_when_the_handshake_stalls() -> None:
    async with socks5_proxy(stall=True) as proxy:
        async with StreamSession(proxy=proxy.url, connect_timeout=0.3, timeout=30) as session:
            loop = asyncio.get_running_loop()
            started = loop.time()
            # the proxy's failure, not the site's (ProxyError), within the connect timeout
            with pytest.raises(ProxyError, match="Timed out reaching the proxy"):
                async with session.get("http://127.0.0.1:9/"):
                    pass
            assert loop.time() - started < 5


async def test_read_gap_holds_while_waiting_for_headers() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accepts, reads, never answers
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with StreamSession(read_gap=0.3, timeout=30) as session:
            with pytest.raises(RequestTimeoutError):
                async with session.get(f"http://127.0.0.1:{port}/"):
                    pass
    finally:
        server.close()
        await server.wait_closed()


async def test_unreachable_socks_proxy_is_a_transport_error() -> None:
    port = free_port()  # no proxy listens there
    async with StreamSession(proxy=f"socks5://127.0.0.1:{port}") as session:
        with pytest.raises(TransportError, match="proxy") as caught:
            async with session.get("http://127.0.0.1:9/"):
                pass
    assert not isinstance(caught.value, RequestTimeoutError)


@pytest.mark.parametrize("charset", ["utf-16", "utf-32"])
@pytest.mark.parametrize("bom", [False, True])
async def test_utf16_and_utf32_decode_with_or_without_a_bom(charset: str, bom: bool) -> None:
    """Without a byte-order mark Python's decoders raise UnicodeError; the text is read
    big-endian then (RFC 2781), and with a mark in the order it gives."""
    text = "alpha ü\r\nbeta €\ngamma"
    encoded = text.encode(f"{charset}-be")
    if bom:
        encoded = text.encode(f"{charset}-le")
        encoded = (b"\xff\xfe" if charset == "utf-16" else b"\xff\xfe\x00\x00") + encoded

    async def body(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": f"text/plain; charset={charset}"})
        await response.prepare(request)
        for start in range(0, len(encoded), 3):  # split inside code units
            await response.write(encoded[start : start + 3])
        return response

    async with serve_app(_app(p=web.get("/", body))) as url, StreamSession() as session:
        async with session.get(f"{url}/") as response:
            lines = [line async for line in response.iter_lines()]
        async with session.get(f"{url}/") as response:
            whole = await response.text()
    assert lines == ["alpha ü", "beta €", "gamma"]
    assert whole == text


async def test_a_redirect_to_another_host_does_not_carry_the_first_hosts_cookies() -> None:
    """Each hop gets only its own URL's cookies from the request's jar, and a cookie a hop
    sets keeps its host (issue 8 item 4)."""
    seen: list[dict[str, str]] = []

    async def other_host(request: web.Request) -> web.Response:
        seen.append(dict(request.cookies))
        return web.Response(text="elsewhere")

    async with serve_app(_app(p=web.get("/", other_host))) as other:
        elsewhere = other.replace("127.0.0.1", "localhost")

        async def login(request: web.Request) -> web.Response:
            response = web.Response(text="in")
            response.set_cookie("session", "secret", httponly=True)
            return response

        async def hop(request: web.Request) -> web.Response:
            response = web.HTTPFound(f"{elsewhere}/")
            response.set_cookie("hop", "set-by-the-redirect")
            raise response

        app = _app(a=web.get("/login", login), b=web.get("/away", hop))
        jar = aiohttp.CookieJar(unsafe=True)
        async with serve_app(app) as url, StreamSession() as session:
            async with session.get(f"{url}/login", cookie_jar=jar):
                pass
            async with session.get(f"{url}/away", cookie_jar=jar) as response:
                assert await response.text() == "elsewhere"
    assert seen == [{}]
    kept = {cookie.key: cookie["domain"] for cookie in jar}
    assert kept == {"session": "127.0.0.1", "hop": "127.0.0.1"}


async def test_a_header_line_may_be_as_long_as_a_body_may_be() -> None:
    """Plugin 1.7's history cookie grows with the answer: a Set-Cookie line of ~150 KB is
    read (the cookie itself is dropped later, as a browser drops it), a line past the body
    cap is a reply we cannot read (ResponseError: the host did answer), never 'unreachable'."""

    async def cookie(request: web.Request) -> web.Response:
        size = int(request.query["size"])
        return web.Response(text="ok", headers={"Set-Cookie": "h=" + "a" * size})

    async with serve_app(_app(c=web.get("/c", cookie))) as url:
        async with StreamSession(max_response_bytes=200_000) as session:
            async with session.get(f"{url}/c?size=150000") as response:
                assert await response.text() == "ok"
                assert len(response.headers["Set-Cookie"]) == 150_002
            with pytest.raises(ResponseError, match="cannot be read") as caught:
                async with session.get(f"{url}/c?size=250000"):
                    pass
    assert not isinstance(caught.value, TransportError)
    assert len(str(caught.value)) < 600  # one line, not the header quoted whole


async def test_a_malformed_status_line_is_a_reply_error() -> None:
    async with raw_reply_server(MALFORMED) as url, StreamSession() as session:
        with pytest.raises(ResponseError, match="cannot be read"):
            async with session.get(f"{url}/"):
                pass


async def test_a_jar_to_be_is_made_only_when_a_reply_sets_a_cookie() -> None:
    """A conversation's jar is made when a reply first sets a cookie (mid-redirect too), and
    then keeps and sends it like any jar; a reply that sets none makes no jar."""
    made: list[aiohttp.CookieJar] = []

    def make() -> aiohttp.CookieJar:
        made.append(aiohttp.CookieJar(unsafe=True))
        return made[-1]

    async def plain(request: web.Request) -> web.Response:
        return web.Response(text="no cookie")

    async def start(request: web.Request) -> web.Response:
        raise web.HTTPFound("/set")

    async def set_cookie(request: web.Request) -> web.Response:
        response = web.HTTPFound("/echo")
        response.set_cookie("guest", "g7")
        raise response

    async def echo(request: web.Request) -> web.Response:
        return web.json_response(dict(request.cookies))

    app = _app(
        a=web.get("/plain", plain), b=web.get("/start", start),
        c=web.get("/set", set_cookie), d=web.get("/echo", echo),
    )  # fmt: skip
    async with serve_app(app) as url, StreamSession() as session:
        async with session.get(f"{url}/plain", cookie_jar=JarToBe(make)) as response:
            assert await response.text() == "no cookie"
        assert made == []
        async with session.get(f"{url}/start", cookie_jar=JarToBe(make)) as response:
            assert await response.json() == {"guest": "g7"}
    assert len(made) == 1
    assert {cookie.key: cookie["domain"] for cookie in made[0]} == {"guest": "127.0.0.1"}
