"""The loop-lag monitor: a busy event loop raises the cache's patience, a hung Redis does not."""

from __future__ import annotations

import asyncio
import time

from scoped_app_config.repositories.fragment.cache_source.loop_lag import LoopLagMonitor


async def test_a_blocked_event_loop_shows_up_as_lag_and_then_decays() -> None:
    monitor = LoopLagMonitor()
    async with monitor.running():
        await asyncio.sleep(0.03)
        assert monitor.lag_seconds < 0.02
        time.sleep(0.1)  # noqa: ASYNC251 - the point: the loop is busy for 100 ms
        await asyncio.sleep(0.02)
        assert monitor.lag_seconds >= 0.08
        await asyncio.sleep(0.5)
        assert monitor.lag_seconds < 0.02


def test_lag_rises_at_once_and_falls_gradually() -> None:
    monitor = LoopLagMonitor()
    monitor.record(0.2)
    assert monitor.lag_seconds == 0.2
    monitor.record(0.0)
    assert 0.1 < monitor.lag_seconds < 0.2
