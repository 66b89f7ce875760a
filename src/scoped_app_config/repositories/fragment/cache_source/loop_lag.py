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
        # Every cache call reads the lag: the worst lateness is kept with the time it leaves
        # the window, and recomputed only then (or when a worse sample arrives).
        self._worst = 0.0
        self._worst_expires_at = float("-inf")

    @property
    def lag_seconds(self) -> float:
        """The worst lateness seen in the last `WINDOW_SECONDS`: rises at once, and falls once
        the busy period has left the window."""
        now = self._clock()
        if now >= self._worst_expires_at:
            self._recompute(now)
        return self._worst

    def record(self, lateness: float) -> None:
        now = self._clock()
        self._samples.append((now, lateness))
        if lateness >= self._worst or now >= self._worst_expires_at:
            self._recompute(now)

    def _recompute(self, now: float) -> None:
        horizon = now - WINDOW_SECONDS
        while self._samples and self._samples[0][0] <= horizon:
            self._samples.popleft()
        self._worst, self._worst_expires_at = 0.0, float("inf")
        for recorded_at, lateness in self._samples:
            if lateness >= self._worst:
                # The latest sample holding the maximum decides when the maximum may change.
                self._worst, self._worst_expires_at = lateness, recorded_at + WINDOW_SECONDS

    def running(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Sample the loop's lateness while the returned context is open."""

        async def sample() -> None:
            while True:
                started = time.perf_counter()
                await asyncio.sleep(SAMPLE_INTERVAL_SECONDS)
                self.record(max(0.0, time.perf_counter() - started - SAMPLE_INTERVAL_SECONDS))

        return running_in_background(sample)
