"""Timeouts of concurrent cache calls under one timer (`cache_source.deadlines`).

Timing bounds are behavioural (a call ends after its deadline, within generous slack), not
speed checks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import TypeVar

import pytest

from scoped_app_config.repositories.fragment.cache_source.deadlines import Deadlines

SLACK = 0.5
T = TypeVar("T")


async def bounded(deadlines: Deadlines, seconds: float, work: Awaitable[T]) -> T:
    """How the guard uses a deadline around one call."""
    deadline = deadlines.start(seconds)
    try:
        result = await work
    except BaseException as error:
        deadlines.finish(deadline, error)
        raise
    deadlines.finish(deadline, None)
    return result


async def ended_after(deadlines: Deadlines, seconds: float, sleep: float) -> float:
    began = time.monotonic()
    with pytest.raises(TimeoutError):
        await bounded(deadlines, seconds, asyncio.sleep(sleep))
    return time.monotonic() - began


async def test_a_call_past_its_deadline_raises_timeout_error_and_the_task_goes_on() -> None:
    deadlines = Deadlines()

    elapsed = await ended_after(deadlines, 0.05, 10)

    assert 0.05 <= elapsed < 0.05 + SLACK
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0  # not left half-cancelled
    await asyncio.sleep(0.01)  # and the task still runs
    assert deadlines.pending == 0


async def test_a_call_that_ends_in_time_is_never_cancelled_afterwards() -> None:
    deadlines = Deadlines()

    assert await bounded(deadlines, 0.05, asyncio.sleep(0.001, result="done")) == "done"
    await asyncio.sleep(0.15)  # well past the deadline the call had

    assert deadlines.pending == 0


async def test_concurrent_calls_each_end_at_their_own_deadline() -> None:
    """Registered late with an earlier deadline, or early with a later one: one timer serves
    every call in deadline order."""
    deadlines = Deadlines()

    long, short, middle = await asyncio.gather(
        ended_after(deadlines, 0.3, 10),
        ended_after(deadlines, 0.05, 10),
        ended_after(deadlines, 0.15, 10),
    )

    assert 0.05 <= short < middle < long < 0.3 + SLACK
    assert middle >= 0.15 and long >= 0.3


async def test_calls_within_their_deadline_are_untouched_while_others_expire() -> None:
    deadlines = Deadlines()

    results = await asyncio.gather(
        bounded(deadlines, 0.05, asyncio.sleep(10)),
        bounded(deadlines, 1.0, asyncio.sleep(0.1, result="in time")),
        return_exceptions=True,
    )

    assert isinstance(results[0], TimeoutError)
    assert results[1] == "in time"


async def test_a_cancellation_from_elsewhere_stays_a_cancellation() -> None:
    deadlines = Deadlines()
    call = asyncio.create_task(bounded(deadlines, 10, asyncio.sleep(10)))
    await asyncio.sleep(0.01)

    call.cancel()

    with pytest.raises(asyncio.CancelledError):
        await call
    assert deadlines.pending == 0


def test_one_instance_serves_successive_event_loops() -> None:
    """An app's guard can outlive a loop (tests run one per test). A timer armed on a loop that
    closed before it fired must not leave the next loop's calls without a timeout."""
    deadlines = Deadlines()
    # Ends in time: the timer stays armed for this deadline when the loop closes.
    asyncio.run(bounded(deadlines, 0.2, asyncio.sleep(0)))

    elapsed = asyncio.run(ended_after(deadlines, 0.3, 5))  # a later deadline than that timer

    assert 0.3 <= elapsed < 0.3 + SLACK


async def test_a_call_that_swallows_the_timeout_leaves_its_task_uncancelled() -> None:
    """Some code catches CancelledError and returns; the task must not stay marked as being
    cancelled (asyncio.timeout, TaskGroup and the next deadline rely on `cancelling()`)."""
    deadlines = Deadlines()

    async def swallowing() -> str:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            return "swallowed"
        return "slept"

    assert await bounded(deadlines, 0.05, swallowing()) == "swallowed"

    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0
