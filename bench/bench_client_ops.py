"""Python bytecodes executed per message: ``AsyncClient`` against ``AIPower`` called directly.

Run: .venv/bin/python bench/bench_client_ops.py [--messages 10] [--top 15]

A count, not a timing: it does not move with the machine's load, so it shows a change to
the client's hot path that ``bench_client.py`` (CPU time, a few per cent of noise) cannot
resolve. Each way runs against the local site (2.2, JSON replies, then streamed) in its own
process; after a warm-up, every bytecode of the messages is counted by frame (``sys.settrace``
with opcode events; the tracing makes it slow, not inexact). Printed per message: the total
for each way, the client's extra as a share of the direct total (bytecodes are not equal in
cost, so this tracks ``bench_client.py``'s ratio, it does not replace it), and the client
functions that run the most bytecodes. Three ways: direct, a one-target route, and a
two-target route whose primary's breaker is open.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench._common import server_process  # noqa: E402
from bench.bench_client import ASK, client_asker, direct_asker, site  # noqa: E402
from chatbridge import close_pool  # noqa: E402

ROOT = str(HERE.parent) + "/"


def _short(path: str) -> str:
    return path.replace(ROOT, "") if path.startswith(ROOT) else Path(path).name


class Counting:
    """Bytecodes run while active, by (file, function)."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()

    def _frame(self, frame: FrameType, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        return self._opcode

    def _opcode(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "opcode":
            code = frame.f_code
            self.counts[(code.co_filename, code.co_name)] += 1
        return self._opcode

    def __enter__(self) -> Counting:
        sys.settrace(self._frame)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.settrace(None)


async def count(url: str, way: str, stream: bool, messages: int) -> Counter[tuple[str, str]]:
    if way == "direct":
        one = direct_asker(url, stream)
    else:
        one = client_asker(url, stream, open_primary=way == "open")
    for index in range(3):  # warm: the page and its tokens are fetched, caches filled
        await one(-1 - index)
    with Counting() as counting:
        for index in range(messages):
            assert ASK.format(index) in await one(index)
    await close_pool()
    return counting.counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    n = args.messages
    for stream, options in ((False, ("--generation", "2.2", "--no-stream")),
                            (True, ("--generation", "2.2"))):  # fmt: skip
        print(f"{'streamed' if stream else 'whole'} answers: bytecodes per message")
        with server_process(site(*options)) as url:
            runs = {
                way: asyncio.run(count(url, way, stream, n)) for way in ("direct", "one", "open")
            }
        base = sum(runs["direct"].values()) / n
        print(f"   AIPower directly:                  {base:9.0f}")
        for way, label in (("one", "one-target route"), ("open", "primary breaker open")):
            total = sum(runs[way].values()) / n
            print(f"   AsyncClient, {label + ':':22s}{total:9.0f}  +{total / base - 1:6.1%}")
        mine = Counter(
            {
                (_short(path), name): value / n
                for (path, name), value in runs["one"].items()
                if "/chatbridge/_client/" in path
            }
        )
        print(f"   client functions, one-target route ({sum(mine.values()):.0f} in all):")
        for (path, name), value in mine.most_common(args.top):
            print(f"      {value:7.0f}  {path}:{name}")


if __name__ == "__main__":
    main()
