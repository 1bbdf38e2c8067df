"""The router against an earlier version of itself: the same scenarios through both, every
observable difference reported.

Run: .venv/bin/python bench/router_diff.py [--base main] [--count 5000] [--seed 1]

The earlier version is the whole ``chatbridge`` package at ``--base`` (a git revision),
unpacked into a temporary folder for the run (``git archive``) and gone afterwards. Each side
runs in its own process with its own package first on ``sys.path``, over the same scenarios
(``_router_scenarios.py``): the hand-written ones (the fail-over wall's situations, the
review's races) and ``--count`` random ones. A scenario is a route of one to four scripted
targets (streaming or whole, retryable statuses, continuations, twins sharing one endpoint),
a failure policy, a local or a shared health book, and some calls (streamed or whole, one
after another or at once, with deadlines, cancellations and callers that stop early). What is
compared is all a caller or an operator sees: the answers, every chunk, the errors with their
attempts and causes, what each target was asked and when, when each provider stream ended
and how, the log lines, and the breakers afterwards (the book's, and the shared store's
records). The scenarios run on a virtual clock, so they are exact and take no wall time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def unpack(revision: str, into: Path) -> None:
    """``chatbridge/`` as it is at ``revision``, under ``into``."""
    archive = subprocess.run(
        ["git", "archive", revision, "chatbridge"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


def observe(
    package_root: Path, seed: int, count: int, same_limits: bool = False
) -> list[dict[str, Any]]:
    """Every scenario's observations, with the ``chatbridge`` under ``package_root``."""
    code = (
        f"import sys; sys.path[:0] = [{str(package_root)!r}, {str(ROOT)!r}]\n"
        "import chatbridge\n"
        f"assert chatbridge.__file__.startswith({str(package_root)!r}), chatbridge.__file__\n"
        "from bench._router_scenarios import main\n"
        "main()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(seed), str(count)]
        + (["--same-limits"] if same_limits else []),
        check=True,
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
    ).stdout
    return [json.loads(line) for line in out.splitlines()]


def differences(old: Any, new: Any, where: str = "") -> list[str]:
    """Where two observations part, as paths (the first few per scenario)."""
    if type(old) is not type(new):
        return [f"{where}: {old!r} -> {new!r}"]
    if isinstance(old, dict):
        found = []
        for key in sorted(set(old) | set(new)):
            found += differences(old.get(key), new.get(key), f"{where}.{key}")
        return found
    if isinstance(old, list):
        found = []
        if len(old) != len(new):
            found.append(f"{where}: {len(old)} items -> {len(new)}")
        for index, (a, b) in enumerate(zip(old, new, strict=False)):
            found += differences(a, b, f"{where}[{index}]")
        return found
    return [] if old == new else [f"{where}: {old!r} -> {new!r}"]


def tally(observed: list[dict[str, Any]]) -> dict[str, int]:
    """What the scenarios exercised, so a run shows it covered what it claims."""
    counts: dict[str, int] = {}

    def count(key: str, by: int = 1) -> None:
        counts[key] = counts.get(key, 0) + by

    for seen in observed:
        count("scenarios")
        count("scenarios with a shared (fleet) book", seen.get("shared", False))
        count("crashes", "crash" in seen)
        for call in seen.get("calls", []):
            count("calls")
            error = call.get("error")
            if error is None:
                count("answered")
            else:
                count(f"error {error['type']}")
            count("chunks", len(call.get("chunks", [])))
            count("stopped early", bool(call.get("stopped")))
        for event in seen.get("events", []):
            count("provider requests", event[0] == "ask")
        for attempt_log in seen.get("log", []):
            if "failed after" in attempt_log[2]:
                count("attempts failed (log lines)")
                kind = attempt_log[2].split(": ")[1]
                if kind in ("FirstTokenTimeout", "StallTimeout", "RequestTimeoutError"):
                    count(f"attempts failed: {kind}")
        for call in seen.get("calls", []):
            for record in (call.get("error") or {}).get("attempts", []):
                count("attempts skipped (in errors)", record["outcome"] == "skipped")
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="main", help="git revision to compare against")
    parser.add_argument("--count", type=int, default=5000, help="random scenarios")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--show", type=int, default=5, help="differing scenarios to print")
    parser.add_argument(
        "--same-limits",
        action="store_true",
        help="give a target that answers whole the first-token limit (where the tree has a "
        "whole-answer limit), to see the differences that remain",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="router-diff-") as folder:
        unpack(args.base, Path(folder))
        started = time.perf_counter()
        old = observe(Path(folder), args.seed, args.count, args.same_limits)
        new = observe(ROOT, args.seed, args.count, args.same_limits)
        seconds = time.perf_counter() - started
    assert len(old) == len(new), (len(old), len(new))
    differing = 0
    for before, after in zip(old, new, strict=True):
        found = differences(before, after)
        if found:
            differing += 1
            if differing <= args.show:
                print(f"DIFFERS: {before['name']}")
                for line in found[:8]:
                    print(f"    {line}")
    print(
        f"router {args.base} vs working tree, seed {args.seed}: {len(old)} scenarios "
        f"({len(old) - args.count} hand-written, {args.count} random), {seconds:.0f} s"
    )
    for key, value in sorted(tally(new).items()):
        print(f"   {key:40s}{value:8d}")
    print(f"scenarios that differ: {differing}")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
