"""One deadline over many awaits, cheap enough to re-aim on every chunk.

``asyncio.timeout`` re-creates its timer on every ``reschedule`` and is tied to the task that
entered it; a stream is iterated a chunk at a time, sometimes from a new task per chunk (the
synchronous client). :class:`Watchdog` keeps one timer handle per attempt, moves the due time
with a plain assignment, and only while an ``await`` is pending does its timer cancel the
task doing it, then turns that cancellation into :class:`TimeoutError` with the same
bookkeeping as ``asyncio.timeout`` (an outside cancellation that arrives meanwhile wins).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

__all__ = ["Watchdog"]

T = TypeVar("T")


class Watchdog:
    __slots__ = ("_fired", "_handle", "_loop", "_task", "due")

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._handle: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[object] | None = None
        self._fired = False
        #: Loop time at which a pending wait gives up.
        self.due = float("inf")

    def now(self) -> float:
        return self._loop.time()

    def enter(self, due: float) -> None:
        """An await is about to start in the current task; it may last until ``due``."""
        self.due = due
        if due != float("inf"):
            handle = self._handle
            if handle is None or handle.when() > due:
                if handle is not None:
                    handle.cancel()
                self._handle = self._loop.call_at(due, self._check)
        self._task = asyncio.current_task()
        self._fired = False

    def leave(self) -> None:
        """The await ended (whichever way)."""
        self._task = None

    def expired(self) -> bool:
        """Call on ``CancelledError`` before :meth:`leave`: whether the cancellation was this
        watchdog's alone (then it is a timeout and has been taken back from the task)."""
        task = self._task
        return self._fired and task is not None and task.uncancel() == 0

    async def wait(self, awaitable: Awaitable[T], due: float) -> T:
        """``await awaitable``, raising :class:`TimeoutError` if it is still pending at ``due``."""
        self.enter(due)
        try:
            return await awaitable
        except asyncio.CancelledError:
            if self.expired():
                raise TimeoutError from None
            raise
        finally:
            self.leave()

    def _check(self) -> None:
        self._handle = None
        task = self._task
        if task is None:  # nothing pending: the next wait arms a new timer
            return
        if self._loop.time() < self.due:
            self._handle = self._loop.call_at(self.due, self._check)
            return
        self._fired = True
        task.cancel()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
