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
    InvalidRequestError,
    RateLimitError,
    RequestTimeoutError,
    TruncatedStreamError,
)
from .._providers._base import AsyncGeneratorProvider
from .._providers._sync import aclose
from .._types import FinishReason, Messages, Usage
from ._config import Route, Target
from ._health import Gate, HealthBook, Ticket
from ._models import Attempt
from ._policy import Action, FirstTokenTimeout, Policy, StallTimeout, classify
from ._watchdog import Watchdog

__all__ = ["CallReport", "Router"]

log = logging.getLogger("chatbridge.client")

_SKIP_REASONS = {
    Gate.OPEN: "circuit breaker open",
    Gate.BUSY: "circuit breaker half-open, its one probe in flight",
    Gate.COOLING: "cooling down after a rate limit",
}
#: How often one call waits for a cooling target when nothing else is available.
_MAX_WAITS = 2


@dataclass
class CallReport:
    """What happened during one call; the client turns it into the ``chatbridge`` field."""

    route: str
    attempts: list[Attempt] = field(default_factory=list)
    target: Target | None = None
    #: The target of the attempt in progress (the one streaming now).
    current: Target | None = None
    finish: FinishReason | None = None
    usage: Usage | None = None
    continued: bool = False


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
        """The answer's text, in chunks. Finish reason, usage and attempts land in ``report``."""
        dog = Watchdog()
        deadline = dog.now() + (timeout if timeout is not None else self.policy.timeout)
        delivered: list[str] = []
        failed: set[str] = set()
        skipped_once: set[tuple[str, str]] = set()
        errors: list[BaseException] = []
        waits = 0
        try:
            while True:
                earliest = float("inf")
                for target in route.targets:
                    if target.key in failed:
                        continue
                    if delivered and not target.continues_prefill:
                        self._skip(report, target, "cannot continue a partial answer", skipped_once)
                        continue
                    ticket = await self.health.admit(target.key)
                    gate = ticket.gate
                    if gate in _SKIP_REASONS:
                        self._skip(report, target, _SKIP_REASONS[gate], skipped_once)
                        if gate is not Gate.BUSY:
                            earliest = min(earliest, ticket.available_at)
                        continue
                    probe = gate is Gate.PROBE
                    retried = stop = False
                    while True:
                        started = dog.now()
                        if started >= deadline:
                            break
                        prefill = "".join(delivered)
                        sent = (
                            [*messages, {"role": "assistant", "content": prefill}]
                            if prefill
                            else messages
                        )
                        attempt_text: list[str] = []
                        report.current = target
                        report.finish = report.usage = None
                        first_limit, stall_limit = self._limits(route, target, failed, buffered)
                        try:
                            stream = self._open(target, sent, model, options, deadline - started)
                            try:
                                while True:
                                    limit = stall_limit if attempt_text else first_limit
                                    due = deadline
                                    if limit is not None:
                                        due = min(deadline, dog.now() + limit)
                                    dog.enter(due)
                                    try:
                                        item = await stream.__anext__()
                                    except StopAsyncIteration:
                                        break
                                    except asyncio.CancelledError:
                                        if dog.expired():
                                            raise _too_slow(
                                                due, deadline, limit, attempt_text
                                            ) from None
                                        raise
                                    finally:
                                        dog.leave()
                                    if type(item) is str:
                                        if item:
                                            attempt_text.append(item)
                                            if not buffered:
                                                delivered.append(item)
                                                yield item
                                    elif isinstance(item, FinishReason):
                                        report.finish = item
                                    elif isinstance(item, Usage):
                                        report.usage = item
                            finally:
                                await aclose(stream)
                        except Exception as error:
                            action = classify(error, target)
                            errors.append(error)
                            self._failed(report, target, error, dog.now() - started)
                            limited = isinstance(error, RateLimitError)
                            if isinstance(error, InvalidRequestError):
                                if probe:  # the request was refused: no verdict on health
                                    await self.health.released(ticket)
                            else:
                                await self.health.failed(
                                    ticket,
                                    retry_after=error.retry_after if limited else None,  # type: ignore[attr-defined]
                                    rate_limited=limited,
                                )
                            if action is Action.STOP:
                                if not delivered:
                                    raise
                                stop = True  # no continuation after a refusal
                            elif (
                                action is Action.RETRY
                                and not retried
                                and not attempt_text
                                and await self.health.passing(ticket)
                            ):
                                pause = self.health.rand() * self.policy.retry_backoff
                                if dog.now() + pause < deadline:
                                    retried = True
                                    await asyncio.sleep(pause)
                                    continue
                            if not limited:
                                failed.add(target.key)
                            break
                        except BaseException:
                            if probe:
                                await _release_shielded(self.health, ticket)
                            raise
                        await self.health.succeeded(ticket)
                        if buffered:
                            for text in attempt_text:
                                yield text
                        self._answered(report, target, dog.now() - started, bool(prefill))
                        return
                    if stop or dog.now() >= deadline:
                        break
                else:
                    now = dog.now()
                    if (
                        not delivered
                        and earliest < deadline
                        and earliest - now <= self.policy.max_retry_after
                        and waits < _MAX_WAITS
                    ):
                        waits += 1
                        await asyncio.sleep(max(0.0, earliest - now))
                        continue
                now = dog.now()
                if delivered:
                    raise TruncatedStreamError(
                        "The answer was cut off and no target could continue it",
                        partial="".join(delivered),
                    ) from (errors[-1] if errors else None)
                raise self._all_failed(route, report, errors, earliest - now, now >= deadline)
        finally:
            dog.close()

    def _limits(
        self, route: Route, target: Target, failed: set[str], buffered: bool
    ) -> tuple[float | None, float | None]:
        """The time-to-first-token and stall limits of an attempt. Each applies only while
        another target could take over: before any text any other target, after some (in a
        stream) only one that continues a prefill, so the last hope gets the whole deadline."""
        before = after = False
        for other in route.targets:
            if other.key == target.key or other.key in failed:
                continue
            before = True
            if buffered or other.continues_prefill:
                after = True
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
    ) -> AsyncIterator[Any]:
        provider = target.provider
        kwargs: dict[str, Any] = {**(options or {}), **target.options}
        kwargs["timeout"] = max(remaining, 0.001)
        name = target.model or model or ""
        if issubclass(provider, AsyncGeneratorProvider):
            stream: AsyncIterator[Any] = provider.create_async_generator(name, messages, **kwargs)
            return stream
        return _whole(provider.create_async(name, messages, **kwargs))  # type: ignore[attr-defined]

    @staticmethod
    def _skip(report: CallReport, target: Target, why: str, seen: set[tuple[str, str]]) -> None:
        if (target.key, why) in seen:
            return
        seen.add((target.key, why))
        report.attempts.append(
            Attempt(
                target=target.label,
                provider=target.provider.get_name(),
                message=why,
                outcome="skipped",
            )
        )

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
            Attempt(
                target=target.label,
                provider=target.provider.get_name(),
                error=type(error).__name__,
                message=_message(error),
                seconds=round(seconds, 4),
                outcome="failed",
            )
        )

    @staticmethod
    def _answered(report: CallReport, target: Target, seconds: float, continued: bool) -> None:
        report.target = target
        report.continued = continued
        if continued:
            report.usage = None  # the first part's usage is unknown: report none
        report.attempts.append(
            Attempt(
                target=target.label,
                provider=target.provider.get_name(),
                seconds=round(seconds, 4),
                outcome="continued" if continued else "answered",
            )
        )

    @staticmethod
    def _all_failed(
        route: Route,
        report: CallReport,
        errors: list[BaseException],
        wait: float,
        late: bool,
    ) -> AllTargetsFailedError:
        reasons = "; ".join(
            f"{a.target}: {a.error + ': ' if a.error else ''}{a.message}" for a in report.attempts
        )
        if late:
            reasons = f"the call's deadline passed; {reasons}" if reasons else "the deadline passed"
        retry_after = round(wait, 3) if wait != float("inf") and wait > 0 else None
        error = AllTargetsFailedError(
            f"Every target of route {route.name!r} failed: {reasons or 'none could be asked'}",
            attempts=list(report.attempts),
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
