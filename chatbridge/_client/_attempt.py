"""One attempt: one target asked for one call, under the failure policy.

A :class:`TargetAttempt` asks its target, pulls the answer under a :class:`Watchdog` (the
call's deadline, and the time-to-first-token and stall limits while another target could take
over), hands the text on, and acts on a failure as :func:`classify` says: ask the same target
once more after a jittered pause, fail over, or stop. Each try is recorded as an attempt of
the call. It holds the target's admission ticket throughout: a half-open probe it was given
is given back unless one of its tries told the breaker how the target did.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from .._exceptions import (
    ChatbridgeError,
    FirstTokenTimeout,
    InvalidRequestError,
    ProxyError,
    RateLimitError,
    RequestTimeoutError,
    StallTimeout,
)
from .._providers._sync import aclose
from .._types import FinishReason, HistoryTrimmed, ToolCallDelta, Usage
from ._call_state import CallState
from ._config import Target
from ._emulation import emulated_reply, emulated_request
from ._health import Breakers, Gate, HealthBook, Ticket
from ._policy import Action, Policy, classify
from ._proxies import Proxies
from ._watchdog import Expired, Watchdog

__all__ = ["TargetAttempt"]


class TargetAttempt:
    """``async for text in attempt.texts`` yields the answer's text as it comes (with a
    buffered call, once, whole); then ``await attempt.settle()``, always. ``answered`` says
    afterwards whether the target answered."""

    __slots__ = (
        "answered",
        "call",
        "calls",
        "dog",
        "first_at",
        "first_limit",
        "had_text",
        "health",
        "index",
        "others",
        "policy",
        "prefill",
        "probe",
        "proxies",
        "proxy",
        "retried",
        "slot",
        "stall_limit",
        "started",
        "stream",
        "target",
        "text",
        "texts",
        "ticket",
        "verdict",
    )

    # Set for each try (``_begin``).
    started: float
    prefill: str
    #: A buffered call's text (a stream keeps none here: see ``CallState.kept``).
    text: list[str]
    #: The pieces of tool calls this try got (``_note``).
    calls: list[ToolCallDelta]
    #: Has this try produced any text?
    had_text: bool
    stream: AsyncIterator[Any] | None
    #: The time-to-first-token and stall limits (``None``: none applies); the watchdog's
    #: ``limit`` is the one that applies now (the first, until text came).
    first_limit: float | None
    stall_limit: float | None

    def __init__(
        self,
        call: CallState,
        index: int,
        target: Target,
        ticket: Ticket,
        health: HealthBook,
        policy: Policy,
    ) -> None:
        #: The breakers are asked through ``health.breakers``, the book's one interface.
        self.health = health
        self.policy = policy
        self.call = call
        #: The target's place in the route (the call fails over from it by this).
        self.index = index
        self.target = target
        self.ticket = ticket
        #: Holding the half-open probe, which must be reported or given back.
        self.probe = ticket.gate is Gate.PROBE
        #: A try told the target's health how it did (then the probe needs no giving back).
        self.verdict = self.answered = self.retried = False
        #: Could another target of the route take over (then limits may apply)?
        self.others = len(call.route.targets) > 1
        self.dog = Watchdog(call.deadline, call.loop)
        #: Its slot among the target's calls in flight (``_balance``; ``""``: none).
        self.slot = ""
        #: The proxies it picks from (``None``: it goes through none), and this try's.
        self.proxies: Proxies | None = None
        self.proxy: str | None = None
        #: When the last try's first text came (``None``: none came).
        self.first_at: float | None = None
        #: The answer's text, as it comes (``async for``); then :meth:`settle`.
        self.texts = self._texts()

    async def settle(self) -> None:
        """The attempt is over, however it ended: its stream is closed (the caller may have
        left mid-answer), and a probe it holds with no verdict is given back."""
        try:
            await self.texts.aclose()
            if self.probe and not self.verdict:  # cancelled, or out of time: free the probe
                await _release_shielded(self.health.breakers, self.ticket)
        finally:
            self.dog.close()

    async def _texts(self) -> AsyncGenerator[str, None]:
        while self._begin():
            if self.others:  # another target could take over: limits apply
                self.first_limit, self.stall_limit = await self._limits()
                self.dog.limit = self.first_limit
                # (a queue for a connection in this process is not the target's slowness)
                self.dog.watch_queue = self.first_limit is not None
            dog, text, call = self.dog, self.text, self.call
            # A buffered call keeps the whole text (it is the answer); a stream hands each
            # piece over, and keeps it only for a continuation (``CallState.kept``).
            hand_over = not call.buffered
            keep = call.kept.append if hand_over and call.kept is not None else None
            had_text = False
            try:
                if self.proxies is not None:
                    self.proxy = await self.proxies.pick(self.target, self.call.messages)
                stream = self._open()
                pull = stream.__anext__
                while True:
                    # Each item is pulled under the watchdog; the caller has it outside (the
                    # next one may be pulled from another task).
                    with dog:
                        try:
                            item = await pull()
                        except StopAsyncIteration:
                            break  # the stream ended: the target answered
                    if not isinstance(item, str):
                        if self._note(item):  # a piece of a tool call, to hand over now
                            yield item
                        continue
                    if not item:
                        continue
                    if not had_text:  # the first text: from now on the stall limit applies
                        had_text = self.had_text = True
                        dog.limit, dog.watch_queue = self.stall_limit, False
                        self.first_at = call.now()
                    if not hand_over:
                        text.append(item)
                        continue
                    call.handed += len(item)
                    if keep is not None:
                        keep(item)
                    yield item
            except BaseException as exc:
                if await self._failed(await self._stopped(exc)):
                    continue  # the same target once more
                return
            # The target answered: its stream is closed, its health told, the answer recorded.
            await aclose(stream)  # (a no-op for a generator that ran to its end)
            await self.health.breakers.success(self.ticket)
            if self.proxies is not None:
                await self.proxies.answered(self.proxy)
            if self._answered():
                yield "".join(text)  # a buffered call: the whole answer, once
            return

    def _begin(self) -> bool:
        """Set up a try, if the call has time left for one."""
        call = self.call
        now = call.now()
        if now >= call.deadline:
            return False
        self.started = now
        self.first_at = None
        self.prefill = call.prefill()
        self.text = []
        self.calls = []
        self.had_text = False
        self.stream = None
        report = call.report
        report.current = self.target
        report.finish = report.usage = report.tool_calls = None
        if not call.handed:  # a note of text already handed over stays
            report.history = None
        self.first_limit = self.stall_limit = self.dog.limit = None
        self.dog.watch_queue = False
        return True

    async def _limits(self) -> tuple[float | None, float | None]:
        """The time-to-first-token and stall limits of a try. Each applies only while
        another target could take over now (not failed, its breaker letting a call through):
        before any text any such target (once text was delivered, one that continues a
        prefill), after some text in a stream only one that continues a prefill. So the last
        hope gets the whole deadline."""
        call, breakers = self.call, self.health.breakers
        if call.called:  # nothing can take over a tool call handed over in part
            return None, None
        before = after = False
        for index, other in enumerate(call.route.targets):
            if index == self.index or index in call.failed:
                continue
            if not await breakers.available(other.key, other.cool_key_for(call.model)):
                continue
            if other.continues_prefill or not call.handed:
                before = True
            if call.buffered or other.continues_prefill:
                after = True
            if before and after:
                break
        return (
            self.target.first_limit(self.policy) if before else None,
            self.policy.stall_timeout if after else None,
        )

    def _open(self) -> AsyncIterator[Any]:
        """Ask the target: the conversation, plus the text handed over so far as a prefill to
        continue. With nothing to watch (no limit, and a buffered call) a provider that can
        answer in one piece is asked to (``stream=False``): cheaper than parsing a stream;
        providers that cannot choose ignore the option. Every provider is given
        ``on_history`` (those that never shorten a conversation ignore it)."""
        call, target = self.call, self.target
        messages = call.messages
        if self.prefill:
            messages = [*messages, {"role": "assistant", "content": self.prefill}]
        options = call.options
        kwargs: dict[str, Any] = {**options, **target.options} if options else {**target.options}
        kwargs["timeout"] = max(call.deadline - self.started, 0.001)
        if self.proxy is not None:
            kwargs["proxy"] = self.proxy
        if call.buffered and self.first_limit is None and self.stall_limit is None:
            kwargs["stream"] = False
        kwargs["on_history"] = self._history
        emulate = call.tools and target.tool_mode == "emulate"
        if emulate:  # the tools go into the text the target gets
            messages, kwargs = emulated_request(messages, kwargs)
        name = target.model or call.model or ""
        provider: Any = target.provider
        if target.streams:
            self.stream = provider.create_async_generator(name, messages, **kwargs)
        else:
            self.stream = _whole(provider.create_async(name, messages, **kwargs))
        if emulate:
            self.stream = emulated_reply(self.stream, options or {})
        return self.stream

    def _note(self, item: Any) -> bool:
        """An item of the answer that is not text: the finish reason, the usage, or a piece
        of a tool call; whether it is to be handed over now (a stream's tool-call piece: the
        answer has begun, and cannot be taken over any more)."""
        if isinstance(item, FinishReason):
            self.call.report.finish = item
        elif isinstance(item, Usage):
            self.call.report.usage = item
        elif type(item) is ToolCallDelta:
            if not self.had_text and not self.calls:  # the answer began: the stall limit applies
                self.dog.limit, self.dog.watch_queue = self.stall_limit, False
            self.calls.append(item)
            if not self.call.buffered:
                self.call.called = True
                return True
        return False

    def _history(self, trimmed: HistoryTrimmed) -> None:
        """The provider's ``on_history``: what this try's site was not sent of the
        conversation (told before the answer's text)."""
        self.call.report.history = trimmed

    async def _stopped(self, error: BaseException) -> Exception:
        """A try ended with ``error``: its stream is closed, which releases its connection.
        Returns the failure to judge (a wait the watchdog cut short is a timeout), or raises
        ``error`` again when it is no failure of the target's (a cancellation, the caller
        leaving early)."""
        if self.stream is not None:
            await aclose(self.stream)
        if isinstance(error, Expired):
            dog = self.dog
            return _too_slow(dog.due >= dog.deadline, dog.limit, self.had_text or bool(self.calls))
        if not isinstance(error, Exception):
            raise error
        return error

    async def _failed(self, error: Exception) -> bool:
        """Record a failed try and tell the target's health; whether to ask the same target
        once more (after the pause, which this waits out). Raises ``error`` when the policy
        says it is the answer and nothing was handed over yet."""
        call, ticket = self.call, self.ticket
        call.failed_attempt(self.target, error, call.now() - self.started)
        self.verdict = await self._judge(error)
        if isinstance(error, RateLimitError):
            call.earliest = min(call.earliest, ticket.available_at_after())
        pause = await self._retry_pause(error)
        if pause is None:
            return False
        self.retried, self.probe, self.verdict = True, False, False
        await asyncio.sleep(pause)
        return True

    async def _judge(self, error: Exception) -> bool:
        """Tell the target's health what ``error`` says of it; whether that was a verdict.
        Only what the target did counts: not a request it rightly refused, not our own bug,
        not the call running out of its own time."""
        if not isinstance(error, ChatbridgeError) or isinstance(error, InvalidRequestError):
            return False
        if isinstance(error, ProxyError):  # the proxy's failure, not the site's
            if self.proxies is not None:
                await self.proxies.failed(self.proxy)
            return False
        if self.call.late() and isinstance(error, TimeoutError):
            return False
        rate_limited = isinstance(error, RateLimitError)
        retry_after = error.retry_after if isinstance(error, RateLimitError) else None
        await self.health.breakers.failure(self.ticket, retry_after, rate_limited)
        return True

    async def _retry_pause(self, error: Exception) -> float | None:
        """What the policy says after a failed try: the pause before asking the same target
        once more, or ``None`` to fail over (the target is not asked again in this call,
        unless it only asked to wait: a rate limit). Raises ``error`` when the call must stop
        with it (nothing handed over yet)."""
        call = self.call
        action = classify(
            error, self.target.provider.retryable_statuses, call.route.fail_over_on
        )
        if action is Action.STOP:
            if not call.handed and not call.called:
                raise error
            call.stop = True  # no continuation after a refusal
        elif action is Action.RETRY and await self._may_retry():
            pause = self.health.rand() * self.policy.retry_backoff
            if call.now() + pause < call.deadline:
                return pause
        if not isinstance(error, RateLimitError):
            call.failed.add(self.index)
        return None

    async def _may_retry(self) -> bool:
        """Once per attempt, none after some text came, and only while the target's
        breaker lets a plain call through."""
        if self.retried or self.had_text or self.calls:
            return False
        return await self.health.breakers.passing(self.ticket)

    def _answered(self) -> bool:
        """Record the answer; whether the call is buffered (the text is still to hand over)."""
        call = self.call
        self.verdict = self.answered = True
        call.answered(self.target, call.now() - self.started, bool(self.prefill))
        if self.calls:
            call.report.tool_calls = self.calls
        return call.buffered


def _too_slow(at_deadline: bool, limit: float | None, had_text: bool) -> RequestTimeoutError:
    if at_deadline or limit is None:
        return RequestTimeoutError("The call's deadline passed")
    if had_text:
        return StallTimeout(f"No chunk for {limit:g} s")
    return FirstTokenTimeout(f"No text within {limit:g} s")


async def _release_shielded(breakers: Breakers, ticket: Ticket) -> None:
    """Free a probe while the call is being cancelled: the release must not be cancelled too
    (a shared probe lease would otherwise stay taken until it expires)."""
    task = asyncio.ensure_future(breakers.release(ticket))
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise


async def _whole(answer: Any) -> AsyncIterator[str]:
    yield await answer
