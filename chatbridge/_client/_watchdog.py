"""One deadline over many awaits, cheap enough to re-aim on every chunk and to make per call.

``asyncio.timeout`` makes a timer per use and is tied to the task that entered it; a stream
is iterated a chunk at a time, sometimes from a new task per chunk (the synchronous client).
A :class:`Watchdog` moves its due time with a plain assignment, and only while an ``await``
is pending does it cancel the task doing it, then turns that cancellation into a timeout with
the same bookkeeping as ``asyncio.timeout`` (an outside cancellation that arrives meanwhile
wins).

It is the context manager of each await it guards::

    dog = Watchdog(deadline)
    dog.limit = 30               # each wait: at most 30 s, never past the deadline
    with dog:
        item = await stream.__anext__()       # still pending then: Expired (a TimeoutError)
    ...
    dog.close()

Queueing for a connection is not the limit's: with ``watch_queue`` set, a guarded await that
waits for a connection slot of its own process (:data:`~chatbridge._queueing.QUEUEING`) has
its ``limit`` stopped for that long (the deadline still holds).

The watchdogs of one event loop share one timer (:class:`_Alarm`): a watchdog files its due
time in the alarm's heap, and the loop's single timer handle is moved only when a due time
earlier than every other arrives. A call costs one heap push instead of a timer handle made
and cancelled. Entries of watchdogs that ended or moved on stay in the heap until their time
comes (or until a clean-up when the heap has doubled) and are then dropped unread.
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
import sys
import weakref
from collections.abc import Awaitable
from types import TracebackType
from typing import Any, TypeVar

from .._queueing import QUEUEING

__all__ = ["Expired", "Watchdog"]

T = TypeVar("T")
if sys.version_info >= (3, 12):
    _current_task = asyncio.current_task  # (in C)
else:  # 3.11's ``current_task(loop)`` is this look-up, behind a Python call per await
    _current_task = asyncio.tasks._current_tasks.get  # type: ignore[attr-defined]
_INF = float("inf")


class _Alarm:
    """The shared timer of one event loop's watchdogs. It holds its loop, its timer handle
    and the watchdogs weakly: a finished call's watchdog is freed at once (its entries are
    dropped when reached, or swept when the heap has doubled), and an alarm kept in the
    registry holds nothing of a loop that has closed."""

    __slots__ = (
        "__weakref__",
        "_armed_at",
        "_context",
        "_handle",
        "_heap",
        "_limit",
        "_loop",
        "_order",
        "open",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = weakref.ref(loop)
        self._heap: list[tuple[float, int, weakref.ref[Watchdog]]] = []
        # The pending timer, held weakly: the loop's own schedule keeps it while it is due.
        self._handle: weakref.ref[asyncio.TimerHandle] | None = None
        #: When the pending timer rings (infinity: none pending).
        self._armed_at = _INF
        self._order = itertools.count()
        self._limit = 1024  # past this many entries, drop the dead ones (then double it)
        # The timer runs in a context of its own, not a copy of the call that armed it.
        self._context = contextvars.Context()
        #: Watchdogs made and not yet closed. With none, a ring drops every entry and does
        #: not re-arm: an idle loop is woken at most once.
        self.open = 0

    def file(self, dog: Watchdog, due: float, loop: asyncio.AbstractEventLoop) -> None:
        heap = self._heap
        heapq.heappush(heap, (due, next(self._order), weakref.ref(dog)))
        if len(heap) > self._limit:
            self._sweep()
        if due < self._armed_at:
            self._arm(loop, due)

    def _arm(self, loop: asyncio.AbstractEventLoop, due: float) -> None:
        """Make the timer ring at ``due``, earlier than it would (one timer: moved only to
        an earlier time; a later entry is reached by ringing at each entry in turn)."""
        ref = self._handle
        handle = ref() if ref is not None else None
        if handle is not None:
            handle.cancel()
        self._armed_at = due
        self._handle = weakref.ref(loop.call_at(due, self._ring, context=self._context))

    def _sweep(self) -> None:
        live = []
        for entry in self._heap:
            dog = entry[2]()
            if dog is not None and not dog.closed:
                live.append(entry)
        heapq.heapify(live)
        self._heap = live
        self._limit = max(1024, 2 * len(live))

    def _ring(self) -> None:
        self._handle = None
        self._armed_at = _INF
        loop = self._loop()
        if loop is None:
            return
        if not self.open:
            self._heap.clear()
            return
        now = loop.time()
        while self._heap and self._heap[0][0] <= now:
            due, _, ref = heapq.heappop(self._heap)
            dog = ref()
            if dog is not None and not dog.closed:
                dog._ring(due, now)  # may file a new entry (and arm the timer for it)
        if self._heap and self._heap[0][0] < self._armed_at:
            self._arm(loop, self._heap[0][0])


_alarms: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Alarm] = weakref.WeakKeyDictionary()
#: The last loop asked for and its alarm (most programs run one loop): no dictionary look-up.
_last: tuple[weakref.ref[asyncio.AbstractEventLoop], _Alarm] | None = None


def _alarm(loop: asyncio.AbstractEventLoop) -> _Alarm:
    global _last
    last = _last
    if last is not None and last[0]() is loop:
        return last[1]
    alarm = _alarms.get(loop)
    if alarm is None:
        alarm = _alarms[loop] = _Alarm(loop)
    _last = (weakref.ref(loop), alarm)
    return alarm


class Expired(TimeoutError):
    """A wait under a watchdog was still pending at its due time (the watchdog's own
    cancellation, taken back from the task; a timeout the awaited code raised is not this)."""


class Watchdog:
    """One deadline over many awaits. ``with dog:`` guards one await in the current task:
    still pending at its due time (``limit`` seconds after it started, never past the
    deadline; no ``limit``: the deadline), the await is cancelled and :class:`Expired` raised
    instead; a cancellation from outside passes on unchanged. :meth:`close` when done."""

    __slots__ = (
        "__weakref__",
        "_alarm",
        "_fired",
        "_held",
        "_loop",
        "_paused_at",
        "_task",
        "_told",
        "closed",
        "deadline",
        "due",
        "filed",
        "limit",
        "now",
        "watch_queue",
    )

    def __init__(
        self, deadline: float = _INF, loop: asyncio.AbstractEventLoop | None = None
    ) -> None:
        # ``loop``: the running loop, when the caller has it (each look-up of the running
        # loop costs a ``getpid`` system call).
        loop = self._loop = loop or asyncio.get_running_loop()
        alarm = self._alarm = _alarm(loop)
        alarm.open += 1
        self._task: asyncio.Task[Any] | None = None
        self._fired = False
        #: Loop time past which no wait lasts (the call's deadline).
        self.deadline = deadline
        #: How long one wait may last (``None``: until the deadline).
        self.limit: float | None = None
        #: Loop time at which the pending wait gives up.
        self.due = _INF
        #: The earliest due time this watchdog has in the alarm's heap.
        self.filed = _INF
        self.closed = False
        #: The loop's clock.
        self.now = loop.time
        #: Stop the ``limit`` while a guarded await queues for a connection slot.
        self.watch_queue = False
        self._told: contextvars.Token[Any] | None = None
        self._held = self._paused_at = 0.0

    def __enter__(self) -> None:
        """An await is about to start in the current task."""
        limit = self.limit
        due = self.deadline if limit is None else min(self.deadline, self.now() + limit)
        self.due = due
        if due < self.filed:
            self.filed = due
            self._alarm.file(self, due, self._loop)
        self._task = _current_task(self._loop)  # with the loop: no look-up of the running loop
        self._fired = False
        if self.watch_queue:
            self._told = QUEUEING.set(self._queued)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        """The await ended, whichever way: a cancellation that was this watchdog's alone is
        taken back from the task and becomes :class:`Expired`."""
        if self._told is not None:
            QUEUEING.reset(self._told)
            self._told = None
        if kind is not None and issubclass(kind, asyncio.CancelledError) and self._expired():
            self._task = None
            raise Expired from None
        self._task = None

    def _expired(self) -> bool:
        task = self._task
        return self._fired and task is not None and task.uncancel() == 0

    def _queued(self, waiting: bool) -> None:
        """The guarded await started (``True``) or ended (``False``) a wait for a connection
        slot: the limit stands still meanwhile (the wait runs on to the deadline)."""
        now = self.now()
        if waiting:
            self._paused_at, self._held = now, self.due
            self.due = self.deadline  # a ring before it finds the wait given longer
            return
        due = min(self.deadline, self._held + (now - self._paused_at))
        self.due = due
        if due < self.filed:
            self.filed = due
            self._alarm.file(self, due, self._loop)

    # One wait until a given time, for callers without a deadline of their own.

    def enter(self, due: float) -> None:
        """``with`` entered by hand, the wait lasting until ``due``: the deadline from now."""
        self.deadline, self.limit = due, None
        self.__enter__()

    def leave(self) -> None:
        self._task = None

    async def wait(self, awaitable: Awaitable[T], due: float) -> T:
        """``await awaitable``, raising :class:`Expired` if it is still pending at ``due``."""
        self.deadline, self.limit = due, None
        with self:
            return await awaitable

    def _ring(self, filed: float, now: float) -> None:
        """The alarm reached an entry of this watchdog, filed for ``filed``."""
        if filed != self.filed:
            return  # an older entry: a nearer one is filed
        self.filed = _INF
        task = self._task
        if task is None:  # nothing pending: the next wait files its due time again
            return
        if now < self.due:  # the wait was given longer since: file that instead
            self.filed = self.due
            self._alarm.file(self, self.due, self._loop)
            return
        self._fired = True
        task.cancel()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._task = None
            self._alarm.open -= 1
