"""The circuit breaker and the rate-limit cool-down, stepped with an injected clock."""

from __future__ import annotations

import pytest

from chatbridge import Policy
from chatbridge._client._health import BreakerState, Gate, HealthBook, TargetHealth


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def health(clock: Clock, rand: float = 0.5, **policy: float) -> TargetHealth:
    return HealthBook(Policy(**policy), clock=clock, rand=lambda: rand).get("t")


def test_opens_after_k_consecutive_failures_and_a_success_resets_the_count() -> None:
    clock = Clock()
    h = health(clock, failure_threshold=3, cooldown=5)
    h.failure()
    h.failure()
    h.success()
    h.failure()
    h.failure()
    assert h.gate() is Gate.PASS
    h.failure()
    assert h.state is BreakerState.OPEN
    assert h.gate() is Gate.OPEN
    assert h.available_at() == pytest.approx(1005.0)


def test_half_open_lets_exactly_one_probe_through() -> None:
    clock = Clock()
    h = health(clock, failure_threshold=1, cooldown=5)
    h.failure()
    clock.now += 5
    assert h.gate() is Gate.PROBE
    assert h.gate() is Gate.BUSY  # a second caller goes elsewhere
    assert h.gate() is Gate.BUSY
    h.success()
    assert h.state is BreakerState.CLOSED
    assert h.gate() is Gate.PASS


def test_a_failed_probe_reopens_with_a_longer_cooldown_capped() -> None:
    clock = Clock()
    h = health(clock, failure_threshold=1, cooldown=5, cooldown_max=12)
    h.failure()  # trip 1: 5 s
    opens = []
    for _ in range(4):
        clock.now = h.open_until
        assert h.gate() is Gate.PROBE
        h.failure(probe=True)
        opens.append(h.open_until - clock.now)
    assert opens == [10, 12, 12, 12]


def test_a_cancelled_probe_lets_the_next_caller_probe() -> None:
    clock = Clock()
    h = health(clock, failure_threshold=1, cooldown=1)
    h.failure()
    clock.now += 1
    assert h.gate() is Gate.PROBE
    h.release()
    assert h.gate() is Gate.PROBE


def test_rate_limit_honours_retry_after_then_backs_off_with_jitter() -> None:
    clock = Clock()
    h = health(
        clock, rand=0.5, failure_threshold=100, rate_limit_cooldown=2, rate_limit_cooldown_max=5
    )
    h.failure(retry_after=7, rate_limited=True)
    assert h.gate() is Gate.COOLING
    clock.now += 7
    assert h.gate() is Gate.PASS
    waits = []
    for _ in range(4):
        h.failure(rate_limited=True)
        waits.append(h.not_before - clock.now)
        clock.now = h.not_before
    # full jitter (rand = 0.5) over a ceiling that doubles from 2 s and stops at 5 s
    assert waits == [2.0, 2.5, 2.5, 2.5]


def test_snapshot_reports_state_without_secrets() -> None:
    clock = Clock()
    book = HealthBook(Policy(failure_threshold=1, cooldown=3), clock=clock)
    book.get("AIPower|http://a").failure()
    snap = book.snapshot()["AIPower|http://a"]
    assert snap["state"] == "open" and snap["open_for"] == 3.0 and snap["failures"] == 1
    clock.now += 3
    assert book.snapshot()["AIPower|http://a"]["state"] == "half-open"


@pytest.mark.parametrize(
    "field, value",
    [("timeout", 0), ("cooldown", -1), ("stall_timeout", float("nan")), ("timeout", float("inf"))],
)
def test_policy_refuses_nonsense(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        Policy(**{field: value})


def test_failures_of_calls_in_flight_when_it_opened_do_not_trip_it_again() -> None:
    clock = Clock()
    h = health(clock, failure_threshold=3, cooldown=5)
    for _ in range(9):  # a burst of concurrent failures
        h.failure()
    assert h.trips == 1 and h.open_until == pytest.approx(1005.0)
    clock.now = h.open_until
    assert h.gate() is Gate.PROBE
    h.failure()  # an old call failing meanwhile is not the probe's verdict
    assert h.state is BreakerState.HALF_OPEN and h.gate() is Gate.BUSY
    h.failure(probe=True)
    assert h.trips == 2 and h.state is BreakerState.OPEN


def test_rate_limits_cool_down_without_opening_the_breaker() -> None:
    clock = Clock()
    h = health(clock, failure_threshold=2)
    for _ in range(5):
        h.failure(retry_after=0.1, rate_limited=True)
    assert h.state is BreakerState.CLOSED and h.failures == 0
    assert h.not_before == pytest.approx(1000.1)
    h.failure(retry_after=float("inf"), rate_limited=True)
    assert h.not_before == pytest.approx(1000.0 + 3600.0)  # an absurd Retry-After is capped


def test_available_is_a_look_that_takes_no_probe() -> None:
    clock = Clock()
    h = health(clock, failure_threshold=1, cooldown=1)
    assert h.available()
    h.failure()
    assert not h.available()
    clock.now += 1
    assert h.available() and h.available()
    assert h.gate() is Gate.PROBE
    assert not h.available()

