"""``chatbridge serve --workers N``: N server processes on one port (Linux ``SO_REUSEPORT``:
the kernel spreads new connections over the processes), under one supervising parent.

The parent reserves the port (a bound, never listening, ``SO_REUSEPORT`` socket: it takes no
connections), starts the workers with ``--reuse-port`` on it, prints the worker's "Serving"
lines once, forwards SIGTERM/SIGINT to every worker and exits when they have
drained. A worker that dies on its own is started again (at most ``_RESTARTS`` times a
minute). A process manager (systemd, supervisord, a container orchestrator) can do the same
job instead: run N ``chatbridge serve`` processes on N ports behind the load balancer, or on
one port with ``--reuse-port``; see ``docs/deployment.md``.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence

__all__ = ["follow_parent", "reserve_port", "supervise"]

_log = logging.getLogger("chatbridge.server")
#: Restarts of crashed workers allowed per minute (then the parent gives up and stops).
_RESTARTS = 10


def follow_parent(parent: int) -> None:
    """In a worker: end (SIGTERM, so it drains) when the supervising parent dies, even by
    SIGKILL, instead of serving on as an orphan (Linux ``PR_SET_PDEATHSIG``)."""
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it died before the line above: end now
        os.kill(os.getpid(), signal.SIGTERM)


def reserve_port(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (0: any free port) with ``SO_REUSEPORT``, not
    listening: it keeps the port for the workers and takes no connections itself."""
    if not hasattr(socket, "SO_REUSEPORT"):
        raise OSError("--workers needs SO_REUSEPORT (Linux); use a process manager instead")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _spawn(command: Sequence[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(list(command), stdout=subprocess.PIPE, text=True)


def _started(process: subprocess.Popen[str], count: int) -> list[str]:
    """The worker's ``count`` announce lines ("" when it died first)."""
    assert process.stdout is not None
    lines = [process.stdout.readline() for _ in range(count)]
    # Nothing else comes on a worker's stdout; drain it so a chatty one never blocks.
    threading.Thread(target=process.stdout.read, daemon=True).start()
    return lines


def _announce_once(
    said: list[str], count: str, serving: str | None, announce: Callable[[str], None]
) -> None:
    """A worker's lines, once: what it serves with the number of workers (or ``serving``)."""
    lines = [line.rstrip("\n") for line in said]
    announce(lines[0])
    announce(f"{serving or lines[1]} {count}")
    for line in lines[2:]:
        announce(line)


def supervise(
    command: Callable[[int], Sequence[str]],
    workers: int,
    host: str,
    port: int,
    announce: Callable[[str], None] = print,
    *,
    lines: int = 3,
    serving: str | None = None,
) -> str:
    """Run ``workers`` copies of ``command(port)`` until SIGTERM/SIGINT; returns the signal's
    name (``"SIGTERM"``, ``"SIGINT"``) or ``"failed"`` when the workers keep dying.

    Each worker announces ``lines`` lines (the URL, what it serves, its keys, and its chat
    page when that is on); the first worker's are announced once, what it serves with the
    number of workers, or as ``serving`` says (what the parent itself started for them)."""
    reserved = reserve_port(host, port)
    port = reserved.getsockname()[1]
    stop: list[str] = []

    def on_signal(signum: int, _frame: object) -> None:
        stop.append(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    processes: list[subprocess.Popen[str]] = []
    try:
        processes.extend(_spawn(command(port)) for _ in range(workers))
        announced = [_started(process, lines) for process in processes]
        for index, said in enumerate(announced):
            if not said[0].startswith("Serving on "):
                _log.error("worker %d did not start (exit code %s)", index, processes[index].wait())
                return "failed"
        _announce_once(announced[0], f"({workers} worker processes)", serving, announce)
        restarts: list[float] = []
        while not stop:
            time.sleep(0.05)
            for index, process in enumerate(processes):
                if stop or process.poll() is None:
                    continue
                now = time.monotonic()
                restarts = [t for t in restarts if now - t < 60] + [now]
                if len(restarts) > _RESTARTS:
                    _log.error("workers keep exiting: stopping")
                    stop.append("failed")
                    break
                _log.warning(
                    "worker %d exited with %s: starting it again", index, process.returncode
                )
                processes[index] = _spawn(command(port))
                _started(processes[index], lines)
        why = stop[0]
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT if why == "SIGINT" else signal.SIGTERM)
        for process in processes:
            process.wait()
        return why
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        reserved.close()
