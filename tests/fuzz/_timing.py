"""Linear-time checks by size-doubling ratios, never by absolute times.

Time is this thread's CPU time (``time.thread_time``), not the wall clock: on a machine shared
with other test runs the process waits for a core for a while now and then, and wall-clock
rounds of the larger input caught such waits often enough to read ×9-×11 for a renderer whose
CPU time grows ×3.6-×4.3 (measured at load 12 on 2 cores). CPU time leaves the waits out, so
the ratio is the work's."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

#: Sizes compared are n and 4n (two doublings): linear work grows ×4, quadratic ×16. The
#: bound sits far from both.
GROWTH = 4
MAX_RATIO = 10.0
_ROUNDS = 5
_FLOOR = 0.03
_clock = time.thread_time
#: Batches of rounds at most: a busy machine still disturbs CPU time a little (shared caches),
#: so a ratio over the bound is measured again; quadratic work stays ×16 however many.
_BATCHES = 4


def _seconds(run: Callable[[], object]) -> float:
    """CPU seconds per call in one round: the call repeated for at least ``_FLOOR`` CPU
    seconds."""
    calls, start = 0, _clock()
    while True:
        run()
        calls += 1
        elapsed = _clock() - start
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
