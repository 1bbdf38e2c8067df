"""The fail-over wall at the default policy and the real timings (or scaled with --scale),
printing the scorecard: 16 scenarios, one streamed request each through a two-target route
of local OpenAI-compatible upstreams, asked of the client and of the server in front of it.
The route's two targets are two models on one endpoint and key (``--layout shared``, the
default: as real deployments are) or on two endpoints (``apart``). Goal: no fail; pass on
all but 14 (no fallback that can continue), which is safe; 13 (a content filter) passes by
propagating its error, the right answer.

    .venv/bin/python bench/failover_wall.py             # real timings: several minutes a mode
    .venv/bin/python bench/failover_wall.py --scale 0.1 --mode server
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.client.wall import LAYOUTS, MODES, SCENARIOS, run_scenario


async def card(scale: float, layout: str, mode: str, only: set[int]) -> dict[str, int]:
    print(f"fail-over wall, default policy, timings × {scale:g}, {mode}, models {layout}")
    print(f"{'#':>2}  {'verdict':7}  {'goal':5}  {'seconds':>8}  scenario")
    counts = {"pass": 0, "safe": 0, "fail": 0}
    for scenario in SCENARIOS:
        if only and scenario.number not in only:
            continue
        score = await run_scenario(scenario, scale, layout=layout, mode=mode)
        counts[score.verdict] += 1
        print(
            f"{score.number:>2}  {score.verdict:7}  {scenario.goal:5}  {score.seconds:8.2f}  "
            f"{score.name}"
        )
        for note in score.notes:
            print(f"{'':>26}- {note}")
    print(f"score: {counts['pass']} pass / {counts['safe']} safe / {counts['fail']} fail\n")
    return counts


async def main(scale: float, layouts: list[str], modes: list[str], only: set[int]) -> int:
    failed = 0
    for layout in layouts:
        for mode in modes:
            failed += (await card(scale, layout, mode, only))["fail"]
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="timing factor (default 1)")
    parser.add_argument("--layout", choices=LAYOUTS, nargs="*", default=["shared"])
    parser.add_argument("--mode", choices=MODES, nargs="*", default=list(MODES))
    parser.add_argument("--only", type=int, nargs="*", default=[], help="scenario numbers")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.scale, args.layout, args.mode, set(args.only))))
