"""The failure policy is one table; every row is reachable and the docs print it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chatbridge import (
    AIPower,
    BlockedError,
    ChallengeError,
    ConnectError,
    ContentFilterError,
    ContextLengthError,
    EmptyResponseError,
    InvalidRequestError,
    MissingAuthError,
    NonceError,
    NotAIPowerSiteError,
    RateLimitError,
    RequestTimeoutError,
    ResponseStatusError,
    TransportError,
    TruncatedStreamError,
    UpstreamError,
)
from chatbridge._client._policy import RULES, Action, FirstTokenTimeout, Rule, classify

DOCS = Path(__file__).parents[2] / "docs" / "routing.md"


class _Retryable(AIPower):
    retryable_statuses = frozenset({500, 502, 503})


@pytest.mark.parametrize(
    "error, action",
    [
        (ContentFilterError("no"), Action.STOP),
        (InvalidRequestError("bad"), Action.STOP),
        (ContextLengthError("long"), Action.FAIL_OVER),
        (ConnectError("refused"), Action.RETRY),
        (RateLimitError("429", retry_after=2), Action.FAIL_OVER),
        (MissingAuthError("401", status=401), Action.FAIL_OVER),
        (ChallengeError("cf", status=403), Action.FAIL_OVER),
        (BlockedError("waf", status=403), Action.FAIL_OVER),
        (ResponseStatusError("500", status=500), Action.FAIL_OVER),  # not declared retryable
        (NonceError("nonce"), Action.FAIL_OVER),
        (NotAIPowerSiteError("none"), Action.FAIL_OVER),
        (RequestTimeoutError("slow"), Action.FAIL_OVER),
        (FirstTokenTimeout("slow"), Action.FAIL_OVER),
        (TruncatedStreamError("cut", partial="x"), Action.FAIL_OVER),
        (EmptyResponseError("empty"), Action.FAIL_OVER),
        (TransportError("reset"), Action.FAIL_OVER),
        (UpstreamError("quota"), Action.FAIL_OVER),
        (KeyError("a bug"), Action.STOP),
    ],
)
def test_each_error_class_gets_its_action(error: BaseException, action: Action) -> None:
    assert classify(error, AIPower.retryable_statuses) is action


def test_a_status_is_retried_only_where_the_provider_declares_it_safe() -> None:
    for status, action in ((500, Action.RETRY), (503, Action.RETRY), (504, Action.FAIL_OVER)):
        error = ResponseStatusError("x", status=status)
        assert classify(error, _Retryable.retryable_statuses) is action
    assert classify(ResponseStatusError("x", status=503)) is Action.FAIL_OVER


def test_subclasses_come_before_their_bases() -> None:
    for index, rule in enumerate(RULES):
        for earlier in RULES[:index]:
            if earlier.retryable_status:  # conditional: non-matching statuses fall through
                continue
            assert not (
                issubclass(rule.error, earlier.error) and rule.error is not earlier.error
            ), f"{rule.error.__name__} is shadowed by {earlier.error.__name__}"


def test_docs_print_the_same_table() -> None:
    text = DOCS.read_text()
    rows = re.findall(r"^\| `(\w+)`( \(retryable status\))? \| (.+?) \| (.+?) \|$", text, re.M)
    documented = [
        (name, bool(flag), action.strip(), why.strip()) for name, flag, action, why in rows
    ]
    expected = [
        (rule.error.__name__, rule.retryable_status, _action_cell(rule), rule.why)
        for rule in RULES
    ]
    assert documented == expected


def _action_cell(rule: Rule) -> str:
    """The action as the docs print it, with the override a route may make of it."""
    if rule.override is None:
        return rule.action.value
    return f'{rule.action.value}; a route with `fail_over_on = ["{rule.override}"]`: fail over'


def test_a_route_may_fail_over_on_a_content_filter() -> None:
    refused = ContentFilterError("banned words")
    assert classify(refused) is Action.STOP
    assert classify(refused, fail_over_on=frozenset({"content_filter"})) is Action.FAIL_OVER
    assert classify(InvalidRequestError("bad"), fail_over_on=frozenset({"content_filter"})) is (
        Action.STOP
    )
