"""Shared bits of the benchmarks: a server in its own process, medians, CPU clocks."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["median", "server_process"]


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
