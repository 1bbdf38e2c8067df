"""Linear-time checks by size-doubling ratios, never by absolute times."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

#: Sizes compared are n and 4n (two doublings): linear work grows ×4, quadratic ×16. The
#: bound sits far from both, so a loaded 2-core machine does not make the check flaky.
GROWTH = 4
MAX_RATIO = 10.0
_ROUNDS = 5
_FLOOR = 0.03
#: Batches of rounds at most: on a loaded machine (two test runs at once) five rounds of 30 ms
#: were all disturbed once (×11.5 for a ×3.7 renderer); quadratic work stays ×16 however many.
_BATCHES = 4


def _seconds(run: Callable[[], object]) -> float:
    """Seconds per call in one round: the call repeated for at least ``_FLOOR`` seconds."""
    calls, start = 0, time.perf_counter()
    while True:
        run()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= _FLOOR:
            return elapsed / calls


def growth_ratio(make: Callable[[int], Callable[[], object]], n: int, batches: int = 1) -> float:
    """How much slower ``make(GROWTH * n)()`` is than ``make(n)()``: the best of several
    interleaved rounds of each (noise only ever adds time), with the collector paused. With
    ``batches`` > 1, more rounds are measured while the ratio is still at or over
    ``MAX_RATIO``: a busy machine gets more samples, never a looser bound."""
    small, large = make(n), make(GROWTH * n)
    small()  # warm up caches and compiled patterns
    enabled = gc.isenabled()
    gc.disable()
    try:
        best_small = best_large = float("inf")
        for _ in range(batches):
            for _ in range(_ROUNDS):
                best_small = min(best_small, _seconds(small))
                best_large = min(best_large, _seconds(large))
            if best_large / best_small < MAX_RATIO:
                break
    finally:
        if enabled:
            gc.enable()
    return best_large / best_small


def assert_linear(make: Callable[[int], Callable[[], object]], n: int) -> None:
    ratio = growth_ratio(make, n, batches=_BATCHES)
    assert ratio < MAX_RATIO, f"×{GROWTH} input took ×{ratio:.1f} time: not linear"
