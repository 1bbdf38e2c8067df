"""The fake upstream's answers are pure functions of the conversation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatbridge.upstream import expected_answer
from chatbridge.upstream._answer import continuation, message_text

USER = [{"role": "user", "content": "What is a fjord?"}]


def test_answer_is_deterministic_and_depends_on_the_last_user_message() -> None:
    answer = expected_answer(USER)

    assert answer == expected_answer([{"role": "system", "content": "x"}, *USER])
    assert answer != expected_answer([{"role": "user", "content": "What is a dune?"}])
    assert len(answer) == 60 and len(expected_answer(USER, tokens=5)) == 5
    assert all(delta.endswith(" ") for delta in answer[:-1]) and answer[-1].endswith(".")
    assert expected_answer([*USER, {"role": "assistant", "content": "fj"}]) == answer
    with pytest.raises(ValueError):
        expected_answer(USER, tokens=0)


def test_list_contents_count_as_their_text() -> None:
    parts = [{"type": "text", "text": "a"}, {"type": "image_url"}, {"type": "text", "text": "b"}]

    assert message_text(parts) == "a b"
    assert message_text(None) == ""


@given(st.integers(min_value=0, max_value=400))
def test_continuation_of_any_prefix_completes_the_answer(cut: int) -> None:
    answer = expected_answer(USER)
    full = "".join(answer)
    prefill = full[:cut]

    rest = continuation(answer, prefill)

    assert rest is not None and prefill + "".join(rest) == full
    assert all(rest)  # no empty deltas


def test_a_prefill_that_is_not_a_prefix_has_no_continuation() -> None:
    assert continuation(expected_answer(USER), "not the answer") is None
