"""The fail-over wall at the issue's real timings (or scaled with --scale), printing the
scorecard: 16 scenarios, one streamed request each through a two-target route of local
OpenAI-compatible upstreams. Goal: no fail; pass on all but 13 (a content filter, whose
error is the right answer) and 14 (no fallback that can continue), which are safe.

    .venv/bin/python bench/failover_wall.py             # real timings: several minutes
    .venv/bin/python bench/failover_wall.py --scale 0.1
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.client.wall import SCENARIOS, run_scenario


async def main(scale: float, only: set[int]) -> int:
    print(f"fail-over wall, timings × {scale:g}")
    print(f"{'#':>2}  {'verdict':7}  {'goal':5}  {'seconds':>8}  scenario")
    counts = {"pass": 0, "safe": 0, "fail": 0}
    for scenario in SCENARIOS:
        if only and scenario.number not in only:
            continue
        score = await run_scenario(scenario, scale)
        counts[score.verdict] += 1
        print(
            f"{score.number:>2}  {score.verdict:7}  {scenario.goal:5}  {score.seconds:8.2f}  "
            f"{score.name}"
        )
        for note in score.notes:
            print(f"{'':>26}- {note}")
    print(f"score: {counts['pass']} pass / {counts['safe']} safe / {counts['fail']} fail")
    return 1 if counts["fail"] else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="timing factor (default 1)")
    parser.add_argument("--only", type=int, nargs="*", default=[], help="scenario numbers")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.scale, set(args.only))))
