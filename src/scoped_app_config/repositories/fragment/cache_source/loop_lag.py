"""How late the event loop runs: the queueing delay every awaited reply also suffers.

A cache timeout measured in wall time also counts the time a Redis reply waited for a busy
event loop. Under load that is not Redis being slow, and treating it as such opens the breaker
and sends every read to the database, which loads the loop further. The guard therefore gives
each call its timeout *plus* the loop's current lag, which this monitor measures by how late a
periodic sleep wakes up.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

SAMPLE_INTERVAL_SECONDS = 0.01
_DECAY = 0.8


class LoopLagMonitor:
    def __init__(self) -> None:
        self._lag = 0.0

    @property
    def lag_seconds(self) -> float:
        """A decaying maximum of recent lateness: rises at once, falls over a few samples."""
        return self._lag

    def record(self, lateness: float) -> None:
        self._lag = max(lateness, self._lag * _DECAY)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async def sample() -> None:
            while True:
                started = time.perf_counter()
                await asyncio.sleep(SAMPLE_INTERVAL_SECONDS)
                self.record(max(0.0, time.perf_counter() - started - SAMPLE_INTERVAL_SECONDS))

        task = asyncio.create_task(sample())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
