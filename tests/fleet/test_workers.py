"""``chatbridge serve --workers N``: N processes on one port, one supervising parent."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from pathlib import Path

import aiohttp

from tests.fleet.conftest import ask
from tests.redisd import RedisServer
from tests.server.conftest import Served


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_workers_share_one_port_and_drain_on_sigterm(
    spawn_server: Callable[..., Served],
) -> None:
    served = await asyncio.to_thread(spawn_server, "--workers", "2")
    assert "(2 worker processes)" in served.lines[0]
    workers = children(served.process.pid)
    assert len(workers) == 2
    async with aiohttp.ClientSession() as session:
        results = await asyncio.gather(
            *(ask(session, served, [{"role": "user", "content": f"hi {i}"}]) for i in range(10))
        )
    assert [status for status, _ in results] == [200] * 10
    assert await asyncio.to_thread(served.stop, signal.SIGTERM) == 0
    assert not any(alive(pid) for pid in workers)
    log = served.stderr()
    assert log.count("2 workers without Redis") == 1, log


async def test_workers_share_one_local_site_and_say_so(
    spawn_server: Callable[..., Served],
) -> None:
    """Issue 22, item 11: with no --config or --site the supervisor starts the built-in
    local site once, for all the workers, and the lines say so; the chat page line is
    there as with one process (and is not with --no-ui)."""
    served = await asyncio.to_thread(spawn_server, "--workers", "2")
    serving, keys = served.lines
    assert serving.startswith("Serving route default: the built-in local AI Power site at ")
    assert "one for all the workers" in serving and "(2 worker processes)" in serving
    assert keys.startswith("Requests need no API key")
    assert served.process.stdout is not None
    page = await asyncio.wait_for(asyncio.to_thread(served.process.stdout.readline), 30)
    assert page == f"Chat page: {served.url}/\n"
    site = serving.split(" site at ")[1].split(",")[0]
    async with aiohttp.ClientSession() as session:
        results = await asyncio.gather(
            *(ask(session, served, [{"role": "user", "content": f"hi {i}"}]) for i in range(10))
        )
        assert {body["chatbridge"]["site"] for _, body in results} == {site}
        async with session.get(f"{site}/__site__/stats") as response:
            stats = await response.json()
    assert stats["answers"] == 10  # one site answered every worker
    assert await asyncio.to_thread(served.stop, signal.SIGTERM) == 0

    quiet = await asyncio.to_thread(spawn_server, "--workers", "2", "--no-ui")
    assert quiet.process.stdout is not None
    assert await asyncio.to_thread(quiet.stop, signal.SIGTERM) == 0
    assert "Chat page" not in quiet.process.stdout.read()


async def test_a_dead_worker_is_started_again(spawn_server: Callable[..., Served]) -> None:
    served = await asyncio.to_thread(spawn_server, "--workers", "2")
    first = children(served.process.pid)
    os.kill(first[0], signal.SIGKILL)
    for _ in range(100):
        await asyncio.sleep(0.05)
        now = children(served.process.pid)
        if len(now) == 2 and first[0] not in now:
            break
    assert len(now) == 2 and first[0] not in now
    async with aiohttp.ClientSession() as session:
        status, _ = await ask(session, served, [{"role": "user", "content": "still"}])
    assert status == 200
    assert await asyncio.to_thread(served.stop, signal.SIGINT) == 130


async def test_workers_with_redis_do_not_warn(
    spawn_server: Callable[..., Served], redis_server: RedisServer
) -> None:
    served = await asyncio.to_thread(spawn_server, "--workers", "2", "--redis", redis_server.url)
    assert await asyncio.to_thread(served.stop) == 0
    assert "without Redis" not in served.stderr()


def test_a_taken_port_is_one_line_and_exit_2(tmp_path: Path) -> None:
    import socket
    import subprocess

    from tests.server.conftest import CLI, ENV

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*CLI, "serve", "--port", str(port), "--workers", "2"],
            capture_output=True, text=True, env=ENV, timeout=30,
        )  # fmt: skip
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("warning:")]
    assert len(lines) == 1 and "cannot listen" in lines[0], result.stderr


async def test_workers_end_when_the_parent_is_killed(spawn_server: Callable[..., Served]) -> None:
    served = await asyncio.to_thread(spawn_server, "--workers", "2")
    workers = children(served.process.pid)
    assert len(workers) == 2
    served.process.kill()  # SIGKILL: no chance to forward anything
    served.process.wait(10)
    for _ in range(100):
        if not any(alive(pid) for pid in workers):
            break
        await asyncio.sleep(0.05)
    assert not any(alive(pid) for pid in workers)  # no orphan keeps serving
