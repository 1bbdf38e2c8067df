"""The ``serve`` process: start-up lines, ``--help``, SIGTERM draining, the access log."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
from collections.abc import Callable

import aiohttp
import pytest

from chatbridge.site import SiteConfig
from tests.server.conftest import CLI, ENV, USER, Served, post, stalling_server, watched_site

Spawn = Callable[..., Served]


def test_help_shows_curl_and_sdk_examples() -> None:
    result = subprocess.run(
        [*CLI, "serve", "--help"], capture_output=True, text=True, env=ENV, timeout=30
    )
    assert result.returncode == 0
    assert "curl http://127.0.0.1:8000/v1/chat/completions" in result.stdout
    assert 'OpenAI(base_url="http://127.0.0.1:8000/v1"' in result.stdout
    assert "--port" in result.stdout and "--api-key" in result.stdout


def test_a_bad_config_is_one_line_and_exit_code(tmp_path: object) -> None:
    result = subprocess.run(
        [*CLI, "serve", "--port", "0", "--config", "/nonexistent/chatbridge.toml"],
        capture_output=True, text=True, env=ENV, timeout=30,
    )  # fmt: skip
    assert result.returncode == 2  # a config mistake is a usage error
    assert result.stderr.count("\n") == 1 and "cannot read it" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--port", "99999"], "not a port (0 to 65535"),
        (["--site", "not-a-url"], "--site 'not-a-url' is not a site URL"),
    ],
)
def test_bad_options_are_one_usage_line(args: list[str], says: str) -> None:
    result = subprocess.run(
        [*CLI, "serve", *args], capture_output=True, text=True, env=ENV, timeout=30
    )
    assert result.returncode == 2 and says in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_env_keys_and_config_errors(spawn_server: Spawn, tmp_path: object) -> None:
    served = spawn_server(env={"CHATBRIDGE_API_KEYS": "k1, k2"})
    assert "an API key (2 configured)" in served.lines[1]
    assert served.stop() == 0
    bad = subprocess.run(
        [*CLI, "serve", "--port", "0", "--site", "ftp://x"],
        capture_output=True, text=True, env=ENV, timeout=30,
    )  # fmt: skip
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    for options in (["--redis", "http://127.0.0.1:6379"], ["--workers", "0"]):
        refused = subprocess.run(
            [*CLI, "serve", "--port", "0", *options],
            capture_output=True, text=True, env=ENV, timeout=30,
        )  # fmt: skip
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr


async def test_sigterm_lets_in_flight_requests_finish(spawn_server: Spawn) -> None:
    config = SiteConfig(faults=("slow",), fault_target="chat", fault_every=1, slow_seconds=0.8)
    async with watched_site(config) as site:
        toml = f"""
[routes.default]
targets = [{{ provider = "AIPower", site_url = "{site.url}" }}]
[server]
grace_seconds = 5
"""
        served = await asyncio.to_thread(spawn_server, config=toml)
        async with aiohttp.ClientSession() as session:
            call = asyncio.create_task(
                post(session, served.url, {"model": "default", "messages": USER})
            )
            await site.began.wait()
            served.process.terminate()
            status, _, reply = await call
            assert status == 200, reply
            assert reply["choices"][0]["message"]["content"].startswith("[local AI Power site]")
            code = await asyncio.to_thread(served.process.wait, 10)
            assert code == 0
            with pytest.raises(aiohttp.ClientConnectionError):
                await post(session, served.url, {"model": "default", "messages": USER})
    log = served.stderr()
    assert 'POST /v1/chat/completions 200 route="default"' in log
    assert "Hello" not in log


async def test_after_the_grace_period_requests_are_cancelled_cleanly(spawn_server: Spawn) -> None:
    config = SiteConfig(faults=("slow",), fault_target="chat", fault_every=1, slow_seconds=20)
    async with watched_site(config) as site:
        toml = f"""
[routes.default]
targets = [{{ provider = "AIPower", site_url = "{site.url}" }}]
[server]
grace_seconds = 0.3
"""
        served = await asyncio.to_thread(spawn_server, config=toml)
        async with aiohttp.ClientSession() as session:
            calls = [
                asyncio.create_task(
                    post(session, served.url, {"model": "default", "messages": USER, "stream": s})
                )
                for s in (False, True)
            ]
            while site.started < 2:
                await asyncio.wait_for(site.began.wait(), 5)
                site.began.clear()
            served.process.terminate()
            for status, headers, reply in await asyncio.gather(*calls):
                assert status == 503, reply
                assert reply["error"]["code"] == "server_shutdown"
                assert headers["Retry-After"] == "1"
            # Gone long before the site's 20 s answer (a busy machine took 3.4 s to exit
            # after a 0.3 s grace period; the bound is what tells "cancelled" from "waited").
            code = await asyncio.to_thread(served.process.wait, 12)
            assert code == 0
            async with asyncio.timeout(2):
                while site.ended < 2:
                    site.finished.clear()
                    await site.finished.wait()
    assert site.disconnected == 2  # the upstream calls were cancelled, not left running


async def test_a_stream_cut_by_shutdown_ends_with_one_in_band_error(spawn_server: Spawn) -> None:
    async with stalling_server(spawn_server, "default") as (served, upstream):
        body = {"model": "default", "messages": USER, "stream": True}
        events: list[str] = []
        async with aiohttp.ClientSession() as session:
            async with session.post(served.url + "/v1/chat/completions", json=body) as response:
                assert response.status == 200
                async for line in response.content:
                    if line.startswith(b"data: "):
                        events.append(line[6:].decode().strip())
                        if len(events) == 3:  # the upstream is stalled now: shut down
                            served.process.terminate()
        assert await asyncio.to_thread(served.process.wait, 10) == 0
        assert upstream.stats.disconnected == 1 and upstream.stats.active == 0
    assert "[DONE]" not in events
    last = json.loads(events[-1])
    assert last == {
        "error": {
            "message": "the server is shutting down",
            "type": "server_error",
            "param": None,
            "code": "server_shutdown",
        }
    }
    assert all("choices" in json.loads(event) for event in events[:-1])


def test_a_taken_port_is_a_usage_error_and_ctrl_c_exits_130(spawn_server: Spawn) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*CLI, "serve", "--port", str(port)], capture_output=True, text=True, env=ENV,
            timeout=30,
        )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith(f"chatbridge: error: cannot listen on 127.0.0.1:{port}")
    assert result.stderr.count("\n") == 1 and result.stdout == ""
    served = spawn_server()
    assert served.stop(signal.SIGINT) == 130


def test_workers_get_every_option_that_shapes_what_they_serve() -> None:
    import argparse

    from chatbridge._cli._serve_cmd import _worker_command

    args = argparse.Namespace(
        host="127.0.0.1", config="c.toml", site=None, redis="redis://127.0.0.1:1/0",
        api_key=["k"], no_ui=True, debug=False,
    )  # fmt: skip
    line = _worker_command(args)(8001)
    assert "--no-ui" in line and line[line.index("--config") + 1] == "c.toml"
    assert line[line.index("--api-key") + 1] == "k" and "--reuse-port" in line
