"""Timeouts for many concurrent cache calls under one timer.

`asyncio.timeout` arms and disarms a loop timer for every call; on uvloop that, with the
timeout's own bookkeeping, costs more than the rest of the guard around a cached read. Here a
call only registers its deadline; one timer, armed for the earliest deadline whenever calls are
pending, cancels each call that outlives its deadline. The caller then turns that cancellation
into `TimeoutError` exactly as `asyncio.timeout` does (uncancel, so the task is not left
cancelling), while a cancellation from elsewhere stays a cancellation.
"""

from __future__ import annotations

import asyncio


class Deadline:
    """One registered call: its task, when it must end, and whether the timer ended it."""

    __slots__ = ("cancelling", "expired", "task", "when")

    def __init__(self, task: asyncio.Task[object], when: float) -> None:
        self.task = task
        self.when = when
        self.cancelling = task.cancelling()
        self.expired = False


class Deadlines:
    def __init__(self) -> None:
        self._pending: set[Deadline] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def pending(self) -> int:
        return len(self._pending)

    def start(self, seconds: float) -> Deadline:
        """Register the current task's call, to be cancelled once `seconds` have passed."""
        loop, task = self._current()
        deadline = Deadline(task, loop.time() + seconds)
        self._pending.add(deadline)
        if self._timer is None or deadline.when < self._timer_at:
            self._arm(loop, deadline.when)
        return deadline

    def finish(self, deadline: Deadline, error: BaseException | None) -> None:
        """End the call; raise `TimeoutError` if `error` is the timer's cancellation."""
        self._pending.discard(deadline)
        # Uncancelled even when the call swallowed the cancellation, as asyncio.timeout does:
        # the task must not stay marked as being cancelled.
        if (
            deadline.expired
            and deadline.task.uncancel() <= deadline.cancelling
            and isinstance(error, asyncio.CancelledError)
        ):
            raise TimeoutError from error

    def _current(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Task[object]]:
        # asyncio.current_task() without a loop costs a getpid() system call on Python 3.11.
        loop = self._loop
        if loop is not None:
            task = asyncio.current_task(loop)
            if task is not None:
                return loop, task
        running = asyncio.get_running_loop()
        if running is not loop:  # a timer armed on another loop would never fire here
            self._loop, self._timer = running, None
        task = asyncio.current_task(running)
        if task is None:
            raise RuntimeError("a deadline needs to run inside a task")
        return running, task

    def _arm(self, loop: asyncio.AbstractEventLoop, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_at(when, self._expire, loop)
        self._timer_at = when

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        now = loop.time()
        for deadline in [d for d in self._pending if d.when <= now and not d.expired]:
            deadline.expired = True
            deadline.task.cancel()
        waiting = [d.when for d in self._pending if not d.expired]
        if waiting:
            self._arm(loop, min(waiting))
