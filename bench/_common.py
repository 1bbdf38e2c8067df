"""Shared bits of the benchmarks: a server in its own process, medians, CPU clocks."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["chatbridge_process", "median", "server_process"]

_ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def median(values: list[float]) -> float:
    return statistics.median(values)


@contextmanager
def server_process(code: str) -> Iterator[str]:
    """Run ``code`` (which must print its base URL as its first line) in a child process."""
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        url = line.split()[-1]
        if not url.startswith("http"):
            raise RuntimeError(f"server did not start: {line!r}")
        time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def chatbridge_process(
    *args: str, module: str = "chatbridge"
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``python -m MODULE ARGS`` (``chatbridge serve``, ``site``, ``chatbridge.upstream``…),
    which prints "... http://HOST:PORT" first: its URL and the process, stopped with SIGTERM
    (killed if it does not stop within 30 s) at the end."""
    child = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=_ENV,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        if "http" not in line:
            raise RuntimeError(f"{module} {args[:1]} did not start: {line!r}")
        yield line[line.index("http") :].split()[0].rstrip("."), child
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(10)
