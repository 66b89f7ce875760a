"""How late the event loop runs: the queueing delay every awaited reply also suffers.

A cache timeout measured in wall time also counts the time a Redis reply waited for a busy
event loop. Under load that is not Redis being slow, and treating it as such sends reads to the
database, which loads the loop further until throughput collapses (seen at 128 connections).
The guard therefore gives each call its timeout plus a few loop turns at the loop's recent lag,
which this monitor measures by how late a periodic sleep wakes up (the worst over the last
second). With an idle loop the lag is ~0 and a hung Redis is cut off after the plain timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable

from scoped_app_config.repositories.fragment.cache_source.background import running_in_background

SAMPLE_INTERVAL_SECONDS = 0.01
WINDOW_SECONDS = 1.0


class LoopLagMonitor:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._samples: deque[tuple[float, float]] = deque()

    @property
    def lag_seconds(self) -> float:
        """The worst lateness seen in the last `WINDOW_SECONDS`: rises at once, and falls once
        the busy period has left the window."""
        horizon = self._clock() - WINDOW_SECONDS
        while self._samples and self._samples[0][0] < horizon:
            self._samples.popleft()
        return max((lateness for _, lateness in self._samples), default=0.0)

    def record(self, lateness: float) -> None:
        self._samples.append((self._clock(), lateness))

    def running(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Sample the loop's lateness while the returned context is open."""

        async def sample() -> None:
            while True:
                started = time.perf_counter()
                await asyncio.sleep(SAMPLE_INTERVAL_SECONDS)
                self.record(max(0.0, time.perf_counter() - started - SAMPLE_INTERVAL_SECONDS))

        return running_in_background(sample)
