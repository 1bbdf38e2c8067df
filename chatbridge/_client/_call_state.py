"""One routed call's bookkeeping: what was asked, its deadline, what it handed over, which
targets it left behind, and the report the client turns into the ``chatbridge`` field.

What a stream keeps of its answer: only what a continuation needs. A target that continues a
prefill is sent the text handed over so far, so a route that has one keeps that text (in one
growing buffer, not a piece per chunk); a route that has none keeps nothing of it (the caller
has it), so an open stream costs the same memory at its first chunk as at its ten-thousandth.

The router (``_router``) and its attempts (``_attempt``) both write here; every attempt
record of the call is made here, and so is the error that ends a call no target answered.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import AllTargetsFailedError, RouteUnavailableError, TruncatedStreamError
from .._text import TextBuffer
from .._types import FinishReason, HistoryTrimmed, Messages, ToolCallDelta, Usage
from ._config import Route, Target
from ._models import Attempt, attempt
from ._tools import carries_tools

__all__ = ["CallReport", "CallState"]

log = logging.getLogger("chatbridge.client")

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
    #: The pieces of the answer's tool calls (a buffered call's; a stream hands them over).
    tool_calls: list[ToolCallDelta] | None = None
    #: What the answer's site was not sent of the conversation (``None``: it was all sent).
    history: HistoryTrimmed | None = None


class CallState:
    """One call across its attempts. ``buffered``: nothing is handed over before an attempt
    completes (a non-streamed call), so any failure can fail over."""

    __slots__ = (
        "buffered",
        "called",
        "deadline",
        "earliest",
        "errors",
        "failed",
        "handed",
        "kept",
        "loop",
        "messages",
        "model",
        "now",
        "options",
        "report",
        "route",
        "skipped",
        "stop",
        "tools",
        "waits",
    )

    def __init__(
        self,
        route: Route,
        messages: Messages,
        report: CallReport,
        timeout: float,
        *,
        model: str | None,
        options: dict[str, Any] | None,
        buffered: bool,
    ) -> None:
        self.route = route
        self.messages = messages
        self.report = report
        self.model = model
        self.options = options
        self.buffered = buffered
        #: The running event loop, and its clock, which the deadline and every limit are
        #: read on.
        self.loop = asyncio.get_running_loop()
        self.now = self.loop.time
        self.deadline = self.now() + timeout
        #: Characters handed to the caller so far (once any, only a continuation can help).
        self.handed = 0
        #: The text handed to the caller so far, kept only when a continuation could need it
        #: (a stream of a route with a target that continues a prefill; else ``None``).
        self.kept = TextBuffer() if not buffered and route.can_continue else None
        #: Indexes of the route's targets this call failed over from (never asked again).
        self.failed: set[int] = set()
        #: The skips recorded so far, by target and reason (each is recorded once).
        self.skipped: set[tuple[int, str]] = set()
        self.errors: list[Exception] = []
        #: How often this call has waited for a target to cool down.
        self.waits = 0
        #: A target refused the request after text was handed over: no continuation.
        self.stop = False
        #: This round's earliest time a skipped or rate-limited target may be asked again.
        self.earliest = _INF
        #: The request carries tools: only targets that can call them may take it.
        self.tools = carries_tools(messages, options)
        #: A piece of a tool call was handed to the caller: the answer cannot be continued.
        self.called = False

    def prefill(self) -> str:
        """The text handed over so far, as kept for a continuation ("" if none is kept)."""
        kept = self.kept
        return kept.text() if kept is not None and self.handed else ""

    def late(self) -> bool:
        """Has the call's deadline passed?"""
        return self.now() >= self.deadline

    # The attempt records. Each is frozen: shared by every chunk and error that reports it.

    def skip(self, target: Target, why: str) -> None:
        """Record ``target`` skipped for ``why``, once per call and reason."""
        if (id(target), why) in self.skipped:
            return
        self.skipped.add((id(target), why))
        self.report.attempts.append(
            attempt(target.label, target.provider_name, "skipped", message=why)
        )

    def failed_attempt(self, target: Target, error: Exception, seconds: float) -> None:
        self.errors.append(error)
        log.info(
            "target %s failed after %.3f s: %s: %s",
            target.label,
            seconds,
            type(error).__name__,
            _message(error),
        )
        self.report.attempts.append(
            attempt(
                target.label,
                target.provider_name,
                "failed",
                round(seconds, 4),
                type(error).__name__,
                _message(error),
            )
        )

    def answered(self, target: Target, seconds: float, continued: bool) -> None:
        report = self.report
        report.target = target
        report.continued = continued
        if continued:
            report.usage = None  # the first part's usage is unknown: report none
        outcome = "continued" if continued else "answered"
        report.attempts.append(
            attempt(target.label, target.provider_name, outcome, round(seconds, 4))
        )

    def _cut_message(self, delivered: int) -> str:
        """Why a streamed answer ends cut off: which target broke off, why nothing took
        over, and what to do. (Once text was handed over only targets that continue a
        partial answer are tried, so without any the target in progress cut it.)"""
        route, report = self.route, self.report
        continuing = [target.label for target in route.targets if target.continues_prefill]
        where = report.current.label if report.current is not None else "its target"
        if self.called:
            why = (
                f"{where} broke off in the middle of a tool call (after {delivered:,} streamed "
                "characters of text), and no target can continue a tool call's arguments"
            )
        elif continuing:
            why = (
                f"{delivered:,} characters had been streamed, and the targets that continue a "
                f"partial answer failed too (last: {where})"
            )
        else:
            why = (
                f"{where} broke off after {delivered:,} streamed characters, and no target of "
                f"route {route.name!r} declares continues_prefill (only such a target can take "
                "over a partial answer)"
            )
        return (
            "The answer was cut off and no target could continue it: "
            f"{why}. Ask without streaming (stream=False) and any target can answer the whole "
            "question, or add a target that continues a partial answer"
        )

    def failure(self) -> Exception:
        """The error that ends a call no target answered: a stream cut after some text, no
        target could be asked at all, or every target failed (with the soonest time one may
        be asked again)."""
        attempts = list(self.report.attempts)
        if not self.errors and attempts and not self.late():
            return self._unavailable(attempts)
        if self.handed or self.called:
            # (``partial`` is "" when no target could continue: none was kept)
            cut = TruncatedStreamError(self._cut_message(self.handed), partial=self.prefill())
            cut.attempts = attempts
            cut.__cause__ = self.errors[-1] if self.errors else None  # as ``raise … from``
            cut.__suppress_context__ = True
            return cut
        now = self.now()
        reasons = "; ".join(
            f"{a.target}: {a.error + ': ' if a.error else ''}{a.message}" for a in attempts
        )
        if now >= self.deadline:
            reasons = f"the call's deadline passed; {reasons}" if reasons else "the deadline passed"
        wait = self.earliest - now
        return AllTargetsFailedError(
            f"Every target of route {self.route.name!r} failed: {reasons or 'none could be asked'}",
            attempts=attempts,
            errors=list(self.errors),
            retry_after=round(wait, 3) if wait != _INF and wait > 0 else None,
        )

    def _unavailable(self, attempts: list[Attempt]) -> RouteUnavailableError:
        """Every target was skipped at its gate (breaker open or probing, or cooling down):
        the call ends now, saying when the first may be asked again."""
        wait = self.earliest - self.now()
        retry_after = round(max(wait, 0.0), 3) if wait != _INF else None
        reasons = "; ".join(f"{a.target}: {a.message}" for a in attempts)
        when = f"try again in {retry_after:g} s" if retry_after is not None else "try again soon"
        return RouteUnavailableError(
            f"No target of route {self.route.name!r} can answer now, every one is resting "
            f"({reasons}): {when}",
            attempts=attempts,
            retry_after=retry_after,
        )


def _message(error: BaseException) -> str:
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    return text if len(text) <= 300 else text[:299] + "…"
