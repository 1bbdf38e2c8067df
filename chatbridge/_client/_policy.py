"""The failure policy, as data: what the router does with each kind of error, and when.

:data:`RULES` maps error classes to one of three actions, first match wins; the router
consults :func:`classify` and nothing else, and ``docs/routing.md`` prints the same table (a
test keeps the two equal). :class:`Policy` holds the timings.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import Enum

from .._checks import is_finite_at_least_zero, is_number
from .._exceptions import (
    BlockedError,
    ChallengeError,
    ChatbridgeError,
    ConnectError,
    ContentFilterError,
    ContextLengthError,
    EmptyResponseError,
    FirstTokenTimeout,
    InvalidRequestError,
    MissingAuthError,
    MissingSiteError,
    MissingTokenError,
    ModelNotSupportedError,
    NonceError,
    PluginError,
    ProxyError,
    RateLimitError,
    ResponseError,
    ResponseStatusError,
    StallTimeout,
    TransportError,
    TruncatedStreamError,
)

__all__ = [
    "OVERRIDES",
    "RULES",
    "Action",
    "FirstTokenTimeout",  # (defined with every other error in ``_exceptions``)
    "Policy",
    "PolicyFieldError",
    "Rule",
    "StallTimeout",
    "classify",
]


class Action(Enum):
    #: Ask the same target once more (after a jittered pause): the failure provably
    #: produced no answer upstream.
    RETRY = "retry the same target once, then fail over"
    #: Go to the next target; this call never asks the failed one again.
    FAIL_OVER = "fail over to the next target"
    #: The error is the answer: propagate it, with no retry and no fail-over.
    STOP = "stop: propagate the error"


@dataclass(frozen=True)
class Rule:
    error: type[BaseException]
    action: Action
    why: str
    #: Only for an upstream status this target's provider declares safe to repeat.
    retryable_status: bool = False
    #: The name a route lists in ``fail_over_on`` to fail over instead of stopping.
    override: str | None = None


#: First match wins, so subclasses come before their bases.
RULES: tuple[Rule, ...] = (
    Rule(
        ContentFilterError,
        Action.STOP,
        "the upstream's content policy refused it",
        override="content_filter",
    ),
    Rule(ContextLengthError, Action.FAIL_OVER, "the next target may hold a longer context"),
    Rule(InvalidRequestError, Action.STOP, "the request itself is wrong; no target will take it"),
    Rule(
        ProxyError,
        Action.RETRY,
        "the proxy failed, not the site: it cools down, another of the target's proxies is "
        "tried",
    ),
    Rule(ConnectError, Action.RETRY, "no connection was made: nothing was sent"),
    Rule(
        RateLimitError,
        Action.FAIL_OVER,
        "rate limited: the model cools down for Retry-After or a backoff",
    ),
    Rule(
        ResponseStatusError,
        Action.RETRY,
        "a 500/502/503 that the provider's API declares safe to repeat (OpenAI-compatible)",
        retryable_status=True,
    ),
    Rule(MissingAuthError, Action.FAIL_OVER, "the target wants credentials we lack"),
    Rule(ChallengeError, Action.FAIL_OVER, "a bot challenge only a browser can pass"),
    Rule(BlockedError, Action.FAIL_OVER, "blocked by a firewall or a login wall"),
    Rule(ResponseStatusError, Action.FAIL_OVER, "a failure status (persistent 5xx, 404…)"),
    Rule(NonceError, Action.FAIL_OVER, "the site refused a freshly fetched nonce too"),
    Rule(MissingTokenError, Action.FAIL_OVER, "not (or no longer) a site of the plugin"),
    Rule(TimeoutError, Action.FAIL_OVER, "too slow: time to first token, stall or deadline"),
    Rule(TruncatedStreamError, Action.FAIL_OVER, "the reply was cut off"),
    Rule(EmptyResponseError, Action.FAIL_OVER, "the reply held no text"),
    Rule(ResponseError, Action.FAIL_OVER, "a reply we cannot read"),
    Rule(TransportError, Action.FAIL_OVER, "the connection failed after the request was sent"),
    Rule(PluginError, Action.FAIL_OVER, "the site's plugin or its AI backend failed"),
    Rule(ModelNotSupportedError, Action.FAIL_OVER, "this target does not offer that model"),
    Rule(MissingSiteError, Action.FAIL_OVER, "this target has no site configured"),
    Rule(ChatbridgeError, Action.FAIL_OVER, "any other chatbridge error"),
)


#: What a route's ``fail_over_on`` may name: the rows it turns from "stop" to "fail over".
OVERRIDES = frozenset(rule.override for rule in RULES if rule.override)


def classify(
    error: BaseException,
    retryable_statuses: frozenset[int] = frozenset(),
    fail_over_on: frozenset[str] = frozenset(),
) -> Action:
    """The action for ``error``, raised by a target whose provider declares
    ``retryable_statuses``, on a route that fails over on the rows named in
    ``fail_over_on``. Errors that are not chatbridge's (a bug, a ``KeyboardInterrupt``) are
    never swallowed: they stop the call."""
    for rule in RULES:
        if not isinstance(error, rule.error):
            continue
        if rule.retryable_status and getattr(error, "status", None) not in retryable_statuses:
            continue
        if rule.override is not None and rule.override in fail_over_on:
            return Action.FAIL_OVER
        return rule.action
    return Action.STOP


class PolicyFieldError(ValueError):
    """A :class:`Policy` field is not the number it must be (``wants`` says what it must be)."""

    def __init__(self, field: str, wants: str, value: object = None) -> None:
        shown = f", not {value!r}" if value is not None else ""
        super().__init__(f"{field} must be {wants}{shown}")
        self.field = field
        self.wants = wants


@dataclass(frozen=True)
class Policy:
    """The failure policy's timings and thresholds (seconds). Every field can be set in a
    routes file's ``[policy]`` table or passed as ``Client(policy=Policy(...))``."""

    #: Deadline of a whole call, every attempt and wait included, unless a call says otherwise.
    timeout: float = 240.0
    #: Longest wait for a streaming target's first text while another target could take
    #: over now (a target's own ``first_token_timeout`` overrides it).
    first_token_timeout: float = 10.0
    #: The same for a target that answers whole (sends nothing until its answer is done:
    #: an AI Power site that does not stream, a provider that does not stream): the time a
    #: whole answer takes.
    whole_answer_timeout: float = 120.0
    #: Longest silence between two chunks while a continuation target could take over.
    stall_timeout: float = 10.0
    #: Pause before the one same-target retry: full jitter over [0, retry_backoff).
    retry_backoff: float = 0.25
    #: Longest Retry-After the router waits for when no other target is available.
    max_retry_after: float = 30.0
    #: Consecutive failures that open a target's circuit breaker.
    failure_threshold: int = 3
    #: First time a breaker stays open; doubles with each trip in a row, up to the max.
    cooldown: float = 5.0
    cooldown_max: float = 20.0
    #: Rate limited without Retry-After: cool-down base (full jitter, doubling), and cap.
    rate_limit_cooldown: float = 1.0
    rate_limit_cooldown_max: float = 60.0

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if not is_number(value):
                raise PolicyFieldError(item.name, "a number")
            if not is_finite_at_least_zero(value):
                raise PolicyFieldError(item.name, "a finite number ≥ 0", value)
        if self.timeout <= 0:
            raise ValueError("timeout must be > 0")
        if self.failure_threshold < 1:
            raise ValueError("failure_threshold must be ≥ 1")
