"""Linear-time checks by size-doubling ratios, never by absolute times."""

from __future__ import annotations

import time
from collections.abc import Callable

#: Sizes compared are n and 4n (two doublings): linear work grows ×4, quadratic ×16. The
#: bound sits far from both, so a loaded 2-core machine does not make the check flaky.
GROWTH = 4
MAX_RATIO = 8.0


def _seconds(run: Callable[[], object], floor: float = 0.02) -> float:
    """Seconds per call: best of three rounds, each repeating the call for ``floor`` s."""
    best = float("inf")
    for _ in range(3):
        calls, start = 0, time.perf_counter()
        while True:
            run()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= floor:
                break
        best = min(best, elapsed / calls)
    return best


def growth_ratio(make: Callable[[int], Callable[[], object]], n: int) -> float:
    """How much slower ``make(GROWTH * n)()`` is than ``make(n)()``."""
    small, large = make(n), make(GROWTH * n)
    small()  # warm up caches and compiled patterns
    return _seconds(large) / _seconds(small)


def assert_linear(make: Callable[[int], Callable[[], object]], n: int) -> None:
    ratio = growth_ratio(make, n)
    assert ratio < MAX_RATIO, f"×{GROWTH} input took ×{ratio:.1f} time: not linear"
