"""The router: walks a route's targets under the failure policy and keeps the streaming
contract.

One call is a loop over rounds and targets. Each round asks the targets in order (which ones,
in which order, and whether each may take the call now is decided in one place,
:meth:`Router.candidates` and :meth:`Router.admit`); an admitted target gets one
:class:`~chatbridge._client._attempt.TargetAttempt`, which asks it (once more, if the policy
says a failure may be retried) and fails over or stops as :func:`classify` says. The caller
takes each attempt's text straight from it (no layer of the router's in between, per chunk),
and the loop goes on when it is done. When a round ends with every target tried or skipped,
the call may wait for a rate limit it met itself to cool down (a bounded number of times),
else it fails with every attempt in the error; when no target could be asked at all (every
breaker open, every target cooling down), it fails at once with
:class:`RouteUnavailableError`, saying when to come back.

The streaming contract: until the first text has been handed to the caller, a failure fails
over invisibly. After that the answer can only be rescued by continuation: a target that
declares ``continues_prefill`` is sent the conversation plus the partial answer and streams
only the rest. Targets that did not declare it are never tried then, and if no continuation
works the call raises :class:`TruncatedStreamError` (with ``.partial``, the text handed over,
when the route kept it for a continuation): never a truncated answer reported as complete,
never a repeated prefix. With ``buffered=True`` (non-streamed
calls) nothing is handed over before an attempt completes, so any failure can fail over.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from .._exceptions import RateLimitError, ToolsNotSupportedError
from .._types import Messages
from ._attempt import TargetAttempt
from ._balance import Balancer
from ._call_state import CallReport, CallState
from ._config import Route, Target
from ._health import Gate, HealthBook
from ._policy import Policy
from ._proxies import Proxies

__all__ = ["CallReport", "Router"]

#: Why a target is skipped, by what its gate says.
_SKIP_REASONS = {
    Gate.OPEN: "circuit breaker open",
    Gate.BUSY: "circuit breaker half-open, its one probe in flight",
    Gate.COOLING: "cooling down after a rate limit",
}
#: How often one call waits for a cooling target when nothing else is available.
_MAX_WAITS = 2


class Router:
    def __init__(self, health: HealthBook, policy: Policy) -> None:
        self.health = health
        #: The book's breakers, asked through one interface whichever kind they are.
        self.breakers = health.breakers
        self.policy = policy
        #: The order of a route's ready targets by its strategy, and their calls in flight.
        self.balancer = Balancer(health)
        #: Each try's outbound proxy, and the proxies' cool-downs (a client sets the default).
        self.proxies = Proxies(health)

    async def run(
        self,
        route: Route,
        messages: Messages,
        report: CallReport,
        *,
        model: str | None = None,
        options: dict[str, Any] | None = None,
        timeout: float | None = None,
        buffered: bool = False,
    ) -> AsyncIterator[TargetAttempt]:
        """The call's attempts, one at a time: take each one's text (``async for text in
        attempt.texts``: in chunks as they come, a stream's tool-call pieces among them, or
        with ``buffered=True``, a non-streamed call, once, whole, when it has completed)
        before asking for the next; none comes after the one that answered. A buffered
        call's tool-call pieces land in ``report`` with the finish reason, usage and
        attempts."""
        limit = timeout if timeout is not None else self.policy.timeout
        call = CallState(
            route, messages, report, limit, model=model, options=options, buffered=buffered
        )
        while True:
            call.earliest = float("inf")
            async for index, target in self.candidates(call):
                if call.late():
                    break  # before a gate can hand out a probe no attempt would use
                attempt = await self.admit(call, index, target)
                if attempt is None:
                    continue
                try:
                    yield attempt  # the caller takes its text
                finally:
                    await attempt.settle()
                    await self.balancer.leave(attempt)
                if attempt.answered:
                    return
                if call.stop or call.late():
                    break
            else:
                if not call.handed and not call.called and await self._waited(call):
                    continue  # a new round
            raise call.failure()

    # Which target next. The order of a round, and whether a target may take this call, are
    # decided here and nowhere else.

    async def candidates(self, call: CallState) -> AsyncIterator[tuple[int, Target]]:
        """This round's targets (with their place in the route), in the order to ask them:
        the route's order, or its strategy's for the targets the breakers let through
        (``_balance``), less those this call failed over from, those that cannot call the
        tools the request carries and, once text was handed over, those that cannot
        continue it (or, once a piece of a tool call was, all: recorded as skipped). A
        request with tools that no target of the route can call is refused
        (:class:`ToolsNotSupportedError`)."""
        if call.tools:
            _check_tools(call)
        targets = call.route.targets
        if call.route.strategy == "ordered":
            order: list[int] | range = range(len(targets))
        else:
            order = await self.balancer.order(call)
        for index in order:
            target = targets[index]
            if index in call.failed:
                continue
            if call.tools and not target.takes_tools:
                call.skip(target, "cannot call tools")
                continue
            if call.called:
                call.skip(target, "cannot continue a partial tool call")
                continue
            if call.handed and not target.continues_prefill:
                call.skip(target, "cannot continue a partial answer")
                continue
            yield index, target

    async def admit(self, call: CallState, index: int, target: Target) -> TargetAttempt | None:
        """The attempt that asks ``target``, if its breaker and cool-down let this call
        through now; else ``None``, and the skip is recorded (once per call and reason)."""
        ticket = await self.breakers.admit(
            target.key, call.deadline - call.now(), target.cool_key_for(call.model)
        )
        gate = ticket.gate
        if gate is Gate.PASS or gate is Gate.PROBE:
            slot = await self.balancer.enter(call, index, target)
            if slot is not None:
                attempt = TargetAttempt(call, index, target, ticket, self.health, self.policy)
                attempt.slot = slot
                if self.proxies.pool(target):
                    attempt.proxies = self.proxies
                return attempt
            if gate is Gate.PROBE:
                await self.breakers.release(ticket)  # not asked: the probe is another's
            call.skip(target, f"at its max_concurrent ({target.max_concurrent} calls)")
            return None
        call.skip(target, _SKIP_REASONS[gate])
        await self.balancer.unused(call, index)
        if gate is not Gate.BUSY:
            call.earliest = min(call.earliest, ticket.available_at)
        return None

    async def _waited(self, call: CallState) -> bool:
        """Every target was tried or skipped this round: take another round if one may be
        asked now (its cool-down ended meanwhile), or wait for the first to cool down when a
        target this call asked said when to come back (a rate limit) and that fits the
        deadline and the policy (a bounded number of times). Nothing else is waited for: an
        open breaker, or a cool-down the call found at the gate, is answered at once."""
        now = call.now()
        earliest = call.earliest
        if earliest >= call.deadline or call.waits >= _MAX_WAITS:
            return False
        if earliest > now and (
            earliest - now > self.policy.max_retry_after
            or not any(isinstance(error, RateLimitError) for error in call.errors)
        ):
            return False
        call.waits += 1
        await asyncio.sleep(max(0.0, earliest - now))
        return True


def _check_tools(call: CallState) -> None:
    targets = call.route.targets
    if any(target.takes_tools for target in targets):
        return
    for target in targets:
        call.skip(target, "cannot call tools")
    error = ToolsNotSupportedError(
        f"Route {call.route.name!r} has no target that can call tools "
        f"({', '.join(t.label for t in targets)}); the request carries tools, and an answer "
        'made without them would be wrong (a target with tools = "emulate" could take it)',
        param="tools",
        code="tools_not_supported",
    )
    error.attempts = list(call.report.attempts)
    raise error
