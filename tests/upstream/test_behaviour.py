"""Behaviours and plans: validation, order, the time window, the JSON form."""

from __future__ import annotations

import pytest

from chatbridge.upstream import BEHAVIOUR_KINDS, Behaviour, Plan


def test_plan_steps_in_order_and_the_last_repeats() -> None:
    plan = Plan([Behaviour("reset"), Behaviour("status", status=503), Behaviour()])

    kinds = [plan.next().kind for _ in range(5)]

    assert kinds == ["reset", "status", "ok", "ok", "ok"]
    assert Plan().next() == Behaviour()


def test_time_window_then_the_other_plan() -> None:
    now = [0.0]
    plan = Plan(
        [Behaviour("status", status=503)],
        for_seconds=60,
        then=[Behaviour("reset"), Behaviour()],
        clock=lambda: now[0],
    )

    early = [plan.next().kind for _ in range(3)]
    now[0] = 60.0
    late = [plan.next().kind for _ in range(3)]

    assert early == ["status"] * 3
    assert late == ["reset", "ok", "ok"]


def test_json_form_round_trips() -> None:
    data = {"plan": [{"kind": "cut_after", "tokens": 3}], "for_seconds": 1.5, "then": []}

    plan = Plan.from_json(data)

    assert plan.steps == (Behaviour("cut_after", tokens=3),)
    assert Plan.from_json(plan.as_dict()).as_dict() == plan.as_dict()
    assert Plan.from_json([{"kind": "no_done"}]).steps == (Behaviour("no_done"),)


@pytest.mark.parametrize(
    "data",
    [
        "nope",
        {"plan": "x"},
        {"plan": [], "extra": 1},
        {"for_seconds": "soon"},
        {"for_seconds": -1},
        [{"kind": "explode"}],
        [{"kind": "status", "status": 42}],
        [{"kind": "status", "status": 101}],
        [{"kind": "status", "status": True}],
        [{"kind": "silent", "seconds": -1}],
        [{"kind": "cut_after", "tokens": "3"}],
        [{"kind": "ok", "colour": "red"}],
        [{"kind": None}],
        [["ok"]],
    ],
)
def test_bad_plans_are_value_errors(data: object) -> None:
    with pytest.raises(ValueError):
        Plan.from_json(data)


def test_every_kind_is_constructible() -> None:
    assert {Behaviour(kind).kind for kind in BEHAVIOUR_KINDS} == set(BEHAVIOUR_KINDS)  # type: ignore[arg-type]
