"""The router: walks a route's targets under the failure policy and keeps the streaming
contract.

For one call it tries the targets in order, skipping those whose breaker is open or that are
cooling down after a rate limit, and acts on each failure as :func:`classify` says: ask the
same target once more, fail over, or stop. One :class:`Watchdog` holds the call's deadline,
the time-to-first-token limit and the stall limit.

The streaming contract: until the first text has been handed to the caller, a failure fails
over invisibly. After that the answer can only be rescued by continuation: a target that
declares ``continues_prefill`` is sent the conversation plus the partial answer and streams
only the rest. Targets that did not declare it are never tried then, and if no continuation
works the call raises :class:`TruncatedStreamError` with ``.partial``: never a truncated
answer reported as complete, never a repeated prefix. With ``buffered=True`` (non-streamed
calls) nothing is handed over before an attempt completes, so any failure can fail over.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import (
    AllTargetsFailedError,
    ChatbridgeError,
    InvalidRequestError,
    RateLimitError,
    RequestTimeoutError,
    TruncatedStreamError,
)
from .._providers._sync import aclose
from .._types import FinishReason, Messages, Usage
from ._config import Route, Target
from ._health import Gate, HealthBook, Ticket
from ._models import Attempt, attempt
from ._policy import Action, FirstTokenTimeout, Policy, StallTimeout, classify
from ._watchdog import Watchdog

__all__ = ["CallReport", "Router"]

log = logging.getLogger("chatbridge.client")

#: Why a target is skipped, by what its gate says.
_SKIP_REASONS = {
    Gate.OPEN: "circuit breaker open",
    Gate.BUSY: "circuit breaker half-open, its one probe in flight",
    Gate.COOLING: "cooling down after a rate limit",
}
#: How often one call waits for a cooling target when nothing else is available.
_MAX_WAITS = 2
_INF = float("inf")


@dataclass(slots=True)
class CallReport:
    """What happened during one call; the client turns it into the ``chatbridge`` field."""

    route: str
    #: Each try (and each target skipped), in order.
    attempts: list[Attempt] = field(default_factory=list)
    target: Target | None = None
    #: The target of the attempt in progress (the one streaming now).
    current: Target | None = None
    finish: FinishReason | None = None
    usage: Usage | None = None
    continued: bool = False


class _CallState:
    """One call's bookkeeping across its attempts."""

    __slots__ = (
        "deadline",
        "delivered",
        "earliest",
        "errors",
        "failed",
        "skipped",
        "stop",
        "waits",
    )

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        #: The text handed to the caller so far (a stream's continuation prefill).
        self.delivered: list[str] = []
        #: Indexes of the route's targets this call failed over from (never asked again).
        self.failed: set[int] = set()
        self.skipped: set[tuple[int, str]] = set()
        self.errors: list[BaseException] = []
        self.waits = 0
        self.stop = False
        #: This round's earliest time a skipped or rate-limited target may be asked again.
        self.earliest = _INF


def _message(error: BaseException) -> str:
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    return text if len(text) <= 300 else text[:299] + "…"


async def _release_shielded(book: HealthBook, ticket: Ticket) -> None:
    """Free a probe while the call is being cancelled: the release must not be cancelled too
    (a shared probe lease would otherwise stay taken until it expires)."""
    task = asyncio.ensure_future(book.released(ticket))
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise


class Router:
    def __init__(self, health: HealthBook, policy: Policy) -> None:
        self.health = health
        self.policy = policy

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
    ) -> AsyncIterator[str]:
        """The answer's text: in chunks as they come, or with ``buffered=True`` (a
        non-streamed call) once, whole, when an attempt has completed. Finish reason, usage
        and attempts land in ``report``."""
        dog = Watchdog()
        deadline = dog.now() + (timeout if timeout is not None else self.policy.timeout)
        call = _CallState(deadline)
        book = self.health
        several = len(route.targets) > 1
        try:
            while True:
                call.earliest = _INF
                for index, target in enumerate(route.targets):
                    if index in call.failed:
                        continue
                    if call.delivered and not target.continues_prefill:
                        self._skip(report, target, "cannot continue a partial answer", call)
                        continue
                    now = dog.now()
                    if now >= deadline:
                        break  # before a gate can hand out a probe no attempt would use
                    ticket = await book.admit(target.key, deadline - now)
                    now = dog.now()
                    gate = ticket.gate
                    if gate is not Gate.PASS and gate is not Gate.PROBE:
                        self._skip_gate(report, target, ticket, call)
                        continue
                    probe, verdict = gate is Gate.PROBE, False
                    try:
                        retried = False
                        while now < deadline:
                            started = now
                            prefill = "".join(call.delivered) if call.delivered else ""
                            sent = (
                                [*messages, {"role": "assistant", "content": prefill}]
                                if prefill
                                else messages
                            )
                            text: list[str] = []
                            report.current = target
                            report.finish = report.usage = None
                            first_limit = stall_limit = None
                            if several:  # else no one could take over
                                first_limit, stall_limit = await self._limits(
                                    route, index, call, buffered
                                )
                            watched = first_limit is not None or stall_limit is not None
                            limit = first_limit
                            due = deadline if limit is None else min(deadline, dog.now() + limit)
                            try:
                                stream = self._open(
                                    target,
                                    sent,
                                    model,
                                    options,
                                    deadline - started,
                                    buffered and not watched,
                                )
                                # ``async for`` pulls each item under the watchdog. A stream
                                # leaves it while the caller has the item (the next may be
                                # pulled from another task); a buffered call stays in it
                                # and only re-aims it when a limit applies.
                                dog.enter(due)
                                try:
                                    async for item in stream:
                                        if not buffered:
                                            dog.leave()
                                        if isinstance(item, str):
                                            if item:
                                                text.append(item)
                                                if not buffered:
                                                    call.delivered.append(item)
                                                    yield item
                                        elif isinstance(item, FinishReason):
                                            report.finish = item
                                        elif isinstance(item, Usage):
                                            report.usage = item
                                        if watched:
                                            limit = stall_limit if text else first_limit
                                            due = deadline
                                            if limit is not None:
                                                due = min(deadline, dog.now() + limit)
                                        if not buffered:
                                            dog.enter(due)
                                        elif watched:
                                            dog.aim(due)
                                except BaseException as exc:
                                    # A cancellation that is this watchdog's alone is a
                                    # timeout; anything else (the caller leaving early
                                    # included) passes on. Either way the stream is closed,
                                    # which releases its connection.
                                    expired = isinstance(exc, asyncio.CancelledError) and (
                                        dog.expired()
                                    )
                                    dog.leave()
                                    await aclose(stream)
                                    if expired:
                                        raise _too_slow(due, deadline, limit, text) from None
                                    raise
                                dog.leave()
                                await aclose(stream)  # (a no-op for an exhausted generator)
                            except Exception as error:
                                verdict = await self._record_failure(
                                    call, report, target, ticket, error, started, dog
                                )
                                pause = await self._retry_pause(
                                    call, index, target, ticket, error, dog, retried or bool(text)
                                )
                                if pause is not None:
                                    retried, probe, verdict = True, False, False
                                    await asyncio.sleep(pause)
                                    now = dog.now()
                                    continue
                                break
                            await book.succeeded(ticket)
                            verdict = True
                            self._answered(report, target, dog.now() - started, bool(prefill))
                            if buffered:
                                yield text[0] if len(text) == 1 else "".join(text)
                            return
                    finally:
                        if probe and not verdict:  # no verdict (cancelled, out of time): free it
                            await _release_shielded(self.health, ticket)
                    if call.stop or dog.now() >= deadline:
                        break
                else:
                    if not call.delivered and await self._waited(call, dog):
                        continue
                if call.delivered:
                    cut = TruncatedStreamError(
                        "The answer was cut off and no target could continue it",
                        partial="".join(call.delivered),
                    )
                    cut.attempts = list(report.attempts)
                    raise cut from (call.errors[-1] if call.errors else None)
                raise self._give_up(route, report, call, dog)
        finally:
            dog.close()

    async def _record_failure(
        self,
        call: _CallState,
        report: CallReport,
        target: Target,
        ticket: Ticket,
        error: Exception,
        started: float,
        dog: Watchdog,
    ) -> bool:
        """Note a failed attempt (the call's errors, the report, the target's health);
        whether the target's health was told (a verdict)."""
        call.errors.append(error)
        self._failed(report, target, error, dog.now() - started)
        verdict = await self._judge(ticket, error, dog.now() >= call.deadline)
        if isinstance(error, RateLimitError):
            call.earliest = min(call.earliest, ticket.health.available_at())
        return verdict

    async def _retry_pause(
        self,
        call: _CallState,
        index: int,
        target: Target,
        ticket: Ticket,
        error: Exception,
        dog: Watchdog,
        no_retry: bool,
    ) -> float | None:
        """What the policy says after a failed attempt: the pause before asking the same
        target once more, or ``None`` to fail over (the target is not asked again in this
        call, unless it only asked to wait: a rate limit). Raises ``error`` when the call
        must stop with it (nothing handed over yet)."""
        action = classify(error, target.provider.retryable_statuses)
        if action is Action.STOP:
            if not call.delivered:
                raise error
            call.stop = True  # no continuation after a refusal
        elif action is Action.RETRY and not no_retry and await self.health.passing(ticket):
            pause = self.health.rand() * self.policy.retry_backoff
            if dog.now() + pause < call.deadline:
                return pause
        if not isinstance(error, RateLimitError):
            call.failed.add(index)
        return None

    def _skip_gate(
        self, report: CallReport, target: Target, ticket: Ticket, call: _CallState
    ) -> None:
        """A target whose gate is shut for now: recorded once, and when it opens noted."""
        gate = ticket.gate
        self._skip(report, target, _SKIP_REASONS[gate], call)
        if gate is not Gate.BUSY:
            call.earliest = min(call.earliest, ticket.available_at)

    async def _waited(self, call: _CallState, dog: Watchdog) -> bool:
        """Every target was tried or skipped this round: wait for the first to cool down,
        when that fits the deadline and the policy (a bounded number of times)."""
        now = dog.now()
        earliest = call.earliest
        if (
            earliest < call.deadline
            and earliest - now <= self.policy.max_retry_after
            and call.waits < _MAX_WAITS
        ):
            call.waits += 1
            await asyncio.sleep(max(0.0, earliest - now))
            return True
        return False

    def _give_up(
        self, route: Route, report: CallReport, call: _CallState, dog: Watchdog
    ) -> AllTargetsFailedError:
        now = dog.now()
        return self._all_failed(
            route, report, call.errors, call.earliest - now, now >= call.deadline
        )

    async def _judge(self, ticket: Ticket, error: BaseException, late: bool) -> bool:
        """Tell the target's health what ``error`` says of it; whether that was a verdict.
        Only what the target did counts: not a request it rightly refused, not our own bug,
        not the call running out of its own time."""
        if not isinstance(error, ChatbridgeError) or isinstance(error, InvalidRequestError):
            return False
        if late and isinstance(error, TimeoutError):
            return False
        await self.health.failed(
            ticket,
            retry_after=error.retry_after if isinstance(error, RateLimitError) else None,
            rate_limited=isinstance(error, RateLimitError),
        )
        return True

    async def _limits(
        self, route: Route, index: int, call: _CallState, buffered: bool
    ) -> tuple[float | None, float | None]:
        """The time-to-first-token and stall limits of an attempt. Each applies only while
        another target could take over now (not failed, its breaker letting a call through):
        before any text any such target (once text was delivered, one that continues a
        prefill), after some text in a stream only one that continues a prefill. So the last
        hope gets the whole deadline."""
        before = after = False
        for other_index, other in enumerate(route.targets):
            if other_index == index or other_index in call.failed:
                continue
            if not await self.health.available(other.key):
                continue
            if other.continues_prefill or not call.delivered:
                before = True
            if buffered or other.continues_prefill:
                after = True
            if before and after:
                break
        return (
            self.policy.first_token_timeout if before else None,
            self.policy.stall_timeout if after else None,
        )

    @staticmethod
    def _open(
        target: Target,
        messages: Messages,
        model: str | None,
        options: dict[str, Any] | None,
        remaining: float,
        whole: bool,
    ) -> AsyncIterator[Any]:
        """``whole``: nothing watches this attempt's first token or stalls (no other target
        could take over, and nothing is handed over before the end), so a provider that can
        answer in one piece is asked to (``stream=False``): cheaper than parsing a stream.
        Providers that cannot choose ignore the option."""
        kwargs: dict[str, Any] = {**options, **target.options} if options else {**target.options}
        kwargs["timeout"] = max(remaining, 0.001)
        if whole:
            kwargs["stream"] = False
        name = target.model or model or ""
        if target.streams:
            stream: AsyncIterator[Any] = target.provider.create_async_generator(  # type: ignore[attr-defined]
                name, messages, **kwargs
            )
            return stream
        return _whole(target.provider.create_async(name, messages, **kwargs))  # type: ignore[attr-defined]

    @staticmethod
    def _skip(report: CallReport, target: Target, why: str, call: _CallState) -> None:
        """Record a target skipped for ``why``, once per call."""
        if (id(target), why) in call.skipped:
            return
        call.skipped.add((id(target), why))
        report.attempts.append(attempt(target.label, target.provider_name, "skipped", message=why))

    @staticmethod
    def _failed(report: CallReport, target: Target, error: BaseException, seconds: float) -> None:
        log.info(
            "target %s failed after %.3f s: %s: %s",
            target.label,
            seconds,
            type(error).__name__,
            _message(error),
        )
        report.attempts.append(
            attempt(
                target.label,
                target.provider_name,
                "failed",
                round(seconds, 4),
                type(error).__name__,
                _message(error),
            )
        )

    @staticmethod
    def _answered(report: CallReport, target: Target, seconds: float, continued: bool) -> None:
        report.target = target
        report.continued = continued
        if continued:
            report.usage = None  # the first part's usage is unknown: report none
        outcome = "continued" if continued else "answered"
        report.attempts.append(
            attempt(target.label, target.provider_name, outcome, round(seconds, 4))
        )

    @staticmethod
    def _all_failed(
        route: Route,
        report: CallReport,
        errors: list[BaseException],
        wait: float,
        late: bool,
    ) -> AllTargetsFailedError:
        attempts = list(report.attempts)
        reasons = "; ".join(
            f"{a.target}: {a.error + ': ' if a.error else ''}{a.message}" for a in attempts
        )
        if late:
            reasons = f"the call's deadline passed; {reasons}" if reasons else "the deadline passed"
        retry_after = round(wait, 3) if wait != float("inf") and wait > 0 else None
        error = AllTargetsFailedError(
            f"Every target of route {route.name!r} failed: {reasons or 'none could be asked'}",
            attempts=attempts,
            errors=errors,
            retry_after=retry_after,
        )
        return error


def _too_slow(
    due: float, deadline: float, limit: float | None, text: list[str]
) -> RequestTimeoutError:
    if due >= deadline or limit is None:
        return RequestTimeoutError("The call's deadline passed")
    if text:
        return StallTimeout(f"No chunk for {limit:g} s")
    return FirstTokenTimeout(f"No text within {limit:g} s")


async def _whole(answer: Any) -> AsyncIterator[str]:
    yield await answer
