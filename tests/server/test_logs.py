"""The log of a real ``chatbridge serve``: one line per malformed request with no byte of it
(a key inside one never reaches the log), access-log fields that no path, model name or
header can break into a second line, and a stream the client stopped logged as such."""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import Callable

import aiohttp

from chatbridge.upstream import LocalUpstream, UpstreamConfig
from tests.server.conftest import Served
from tests.server.rawhttp import address, exchange, read_all

Spawn = Callable[..., Served]
SECRET = "sk-SECRET-0123456789"
#: Every line the server writes starts with its time.
LINE_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")
_QUOTED = r'"(?:[^"\\]|\\.)*"'
ACCESS_LINE = re.compile(
    LINE_START.pattern + rf"\S+ \S+ \d{{3}} route={_QUOTED} target={_QUOTED} attempts=\d+ "
    r"ttft=\S+ duration=\S+ stream=(yes|no) key=(anonymous|key-[0-9a-f]{10})( error=\S+)?$"
)

MALFORMED = [
    # a header line with no colon, holding a key
    f"GET /health/live HTTP/1.1\r\nHost: x\r\nAuthorization Bearer {SECRET}\r\n\r\n".encode(),
    # a header name with a space, a key in its value
    f"GET /v1/models HTTP/1.1\r\nHost: x\r\nX Key: {SECRET}\r\n\r\n".encode(),
    # a control byte in a header value
    f"GET /v1/models HTTP/1.1\r\nAuthorization: Bearer {SECRET}\x01\r\n\r\n".encode(),
    # a header line far over the limit, ending in the key
    b"GET / HTTP/1.1\r\nX-Pad: " + b"a" * 20000 + SECRET.encode() + b"\r\n\r\n",
    # a request line that is not HTTP, then the key
    f"\x16\x03\x01 {SECRET}\r\n\r\n".encode(),
    # a bad content length
    f"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: -5\r\nX: {SECRET}\r\n\r\n".encode(),
]


def _lines(served: Served) -> list[str]:
    return served.stderr().splitlines()


async def test_a_malformed_request_is_one_line_with_no_byte_of_it(spawn_server: Spawn) -> None:
    served = spawn_server("--api-key", "k1", "--no-ui")
    for raw in MALFORMED:
        status, _, body = exchange(served.url, "", "", raw=raw)
        assert status == 400, (raw[:60], status, body)
        assert json.loads(body)["error"]["code"] == "bad_http_request"
        assert SECRET not in body  # not even back to the sender
    await served.log_line("error=bad_http_request")
    assert served.stop() == 0
    lines = _lines(served)
    bad = [line for line in lines if "error=bad_http_request" in line]
    assert len(bad) == len(MALFORMED), lines
    assert all(LINE_START.match(line) for line in lines), lines
    text = "\n".join(lines)
    assert SECRET not in text and "SECRET" not in text and "Traceback" not in text
    assert "aaaa" not in text


async def test_no_path_model_name_or_header_can_forge_a_log_line(spawn_server: Spawn) -> None:
    served = spawn_server("--no-ui")
    forged = '2026-01-01 00:00:00,000 POST /v1/chat/completions 200 route="default"'
    host, port = address(served.url)
    paths = [
        "/v1/models%0A" + forged.replace(" ", "%20").replace('"', "%22"),
        "/v1/x%0D%0Ay%1B[31m%E2%80%A8z%C2%85w",
        "/v1/" + "p" * 5000,
    ]
    for path in paths:
        with socket.create_connection((host, port)) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            assert read_all(sock).startswith(b"HTTP/1.1 404")
    headers = {b"X-Note": b"a\xffb\tc", b"User-Agent": "ua\u2028forged\x85".encode()}
    for model in (f"x\n{forged}", 'a" key=key-forged x="', "\u2028\x85\x1b[2J" * 3, "m" * 3000):
        body = json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}]})
        status, _, _ = exchange(served.url, "POST", "/v1/chat/completions", headers, body.encode())
        assert status == 404
    await served.log_line("mmmm")
    assert served.stop() == 0
    lines = _lines(served)
    access = [line for line in lines if "/v1/" in line]
    assert len(access) == len(paths) + 4, lines
    assert all(LINE_START.match(line) for line in lines), lines  # no line begins mid-field
    assert all(len(line) < 1500 for line in lines), max(map(len, lines))
    for line in access:  # every field where it belongs, whatever the caller sent
        assert ACCESS_LINE.match(line), line  # a forged key= sits inside a quoted field


async def test_a_stream_the_client_stops_is_logged_as_cancelled(spawn_server: Spawn) -> None:
    upstream = LocalUpstream(UpstreamConfig(token_delay=0.2, answer_tokens=60))
    async with upstream as base:
        config = (
            f'[routes.slow]\ntargets = [{{ provider = "OpenAICompatible", base_url = "{base}", '
            'model = "fake-model" }]\n'
        )
        served = await asyncio.to_thread(spawn_server, "--no-ui", config=config)
        async with aiohttp.ClientSession() as session:
            body = {"model": "slow", "messages": [{"role": "user", "content": "hi"}]}
            body["stream"] = True
            async with session.post(served.url + "/v1/chat/completions", json=body) as response:
                assert response.status == 200
                first = await response.content.readline()
                assert first.startswith(b"data: ")
            # the client stopped reading and closed its connection after the first event
        line = await served.log_line("POST /v1/chat/completions", "stream=yes")
        assert " 200 " in line and "error=cancelled_by_client" in line, line
        assert served.stop() == 0


def test_library_records_are_one_line_without_their_arguments() -> None:
    import io
    import logging

    from chatbridge.server._logs import own_library_loggers

    stream = io.StringIO()
    loggers = [logging.getLogger(name) for name in ("aiohttp", "asyncio")]
    saved = [(lg.handlers[:], lg.level, lg.propagate) for lg in loggers]
    own_library_loggers(stream)
    try:
        try:
            raise ValueError(f"bad header {SECRET}\r\nnext")
        except ValueError as error:
            logging.getLogger("aiohttp.server").error(
                "Error handling request from %s: %r", "127.0.0.1", SECRET.encode(), exc_info=error
            )
        logging.getLogger("asyncio").error("Task exception\nfuture: %s", SECRET)
    finally:
        for logger, (handlers, level, propagate) in zip(loggers, saved, strict=True):
            logger.handlers[:], logger.level, logger.propagate = handlers, level, propagate
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2, lines
    assert lines[0].endswith("aiohttp.server error: Error handling request from …: … (ValueError)")
    assert lines[1].endswith("asyncio error: Task exception\\x0afuture: …")
    assert SECRET not in stream.getvalue()
