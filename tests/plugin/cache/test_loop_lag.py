"""The loop-lag monitor: a busy event loop raises the cache's patience, a hung Redis does not."""

from __future__ import annotations

import asyncio
import time

from cache_support import RecordingLayerMetrics, RecordingOutcomes

from scoped_app_config.repositories.fragment.cache_source.guard import (
    LOOP_TURNS_PER_CALL,
    CacheGuard,
)
from scoped_app_config.repositories.fragment.cache_source.loop_lag import LoopLagMonitor


async def test_a_blocked_event_loop_shows_up_as_lag_and_then_decays() -> None:
    monitor = LoopLagMonitor()
    async with monitor.running():
        await asyncio.sleep(0.03)
        assert monitor.lag_seconds < 0.02
        time.sleep(0.1)  # noqa: ASYNC251 - the point: the loop is busy for 100 ms
        await asyncio.sleep(0.02)
        assert monitor.lag_seconds >= 0.08
        await asyncio.sleep(1.2)
        assert monitor.lag_seconds < 0.02


def test_lag_is_the_worst_lateness_of_the_last_second() -> None:
    now = [100.0]
    monitor = LoopLagMonitor(clock=lambda: now[0])
    monitor.record(0.2)
    now[0] += 0.5
    monitor.record(0.01)
    assert monitor.lag_seconds == 0.2
    now[0] += 0.6
    assert monitor.lag_seconds == 0.01
    now[0] += 1.0
    assert monitor.lag_seconds == 0.0


def test_a_busy_loop_lengthens_the_cache_timeout_and_an_idle_one_does_not() -> None:
    monitor = LoopLagMonitor()
    guard = CacheGuard(
        timeout_seconds=0.05,
        layer_metrics=RecordingLayerMetrics(),
        outcomes=RecordingOutcomes(),
        loop_lag=monitor,
    )
    assert guard.timeout_seconds == 0.05
    monitor.record(0.04)
    assert guard.timeout_seconds == 0.05 + LOOP_TURNS_PER_CALL * 0.04
