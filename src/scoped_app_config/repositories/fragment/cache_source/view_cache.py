"""The merged-view cache as the repositories use it: never raises, never serves what it cannot
vouch for.

- Lookups and stores go through the guard (timeout, breaker); a failure is a miss.
- A view is stored only shortly after its lookup (`STORE_DEADLINE_SECONDS`), so it can never be
  validated by a generation token that expired in between.
- An invalidation that could not reach Redis is kept pending: until it is delivered this process
  skips the cache entirely (it would otherwise serve views the write made stale), and a
  background task keeps re-sending it. Other processes cannot know of it: if Redis is reachable
  for them but not for the writer, they may serve the old view until delivery or TTL. That is
  the one window this design leaves, and the README states it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence

from scoped_app_config.repositories.fragment.cache_source.background import running_in_background
from scoped_app_config.repositories.fragment.cache_source.cache_source import (
    AppConfigFragmentCacheSource,
    CacheLookup,
    Viewer,
)
from scoped_app_config.repositories.fragment.cache_source.guard import CacheGuard
from scoped_app_config.repositories.fragment.cache_source.keys import name_generation_key
from scoped_app_config.repositories.fragment.cache_source.loop_lag import LoopLagMonitor

log = logging.getLogger(__name__)

STORE_DEADLINE_SECONDS = 30.0
PENDING_RETRY_SECONDS = 0.25


class GuardedViewCache:
    def __init__(self, source: AppConfigFragmentCacheSource, guard: CacheGuard) -> None:
        self._source = source
        self._guard = guard
        self._pending: set[str] = set()

    @property
    def loop_lag(self) -> LoopLagMonitor:
        return self._guard.loop_lag

    @property
    def pending_invalidations(self) -> frozenset[str]:
        return frozenset(self._pending)

    async def lookup(self, viewer: Viewer, names: Sequence[str]) -> CacheLookup | None:
        """Cached views and the tags to store misses under; None: compute and do not store."""
        if self._pending and not await self.flush_pending():
            return None
        lookup = await self._guard.call_or(
            "get_merged_configs",
            lambda limit: self._source.get_merged_configs(viewer, names, timeout=limit),
            None,
        )
        if lookup is not None:
            self._guard.outcomes.hits(len(lookup.hits))
            self._guard.outcomes.misses(len(lookup.tags) - len(lookup.hits))
        return lookup

    async def store(self, lookup: CacheLookup, views: Mapping[str, bytes]) -> None:
        if not views or time.monotonic() - lookup.observed_at > STORE_DEADLINE_SECONDS:
            return
        await self._guard.call_or(
            "set_merged_configs",
            lambda limit: self._source.set_merged_configs(lookup, views, timeout=limit),
            None,
        )

    async def invalidate(self, generation_keys: Sequence[str]) -> None:
        """Replace the given generation tokens; on failure keep them pending (never raises)."""
        if not generation_keys:
            return
        keys = [*dict.fromkeys([*self._pending, *generation_keys])]
        # Sent even while this process's breaker is open: a skipped invalidation lets every
        # other process serve the views this write made stale, though Redis may be healthy
        # (the breaker also opens on a few slow calls). The timeout still bounds the call.
        delivered = await self._guard.call_or(
            "invalidate", lambda limit: self._deliver(keys, limit), False, always=True
        )
        if delivered:
            self._pending.difference_update(keys)
        else:
            self._pending.update(keys)
            log.warning("cache invalidation pending for %d generation key(s)", len(self._pending))

    async def invalidate_policy(self, config_name: str) -> None:
        """Every view of one name: after an allow-list or definition change of that name."""
        await self.invalidate([name_generation_key(config_name)])

    async def _deliver(self, keys: Sequence[str], time_limit: float) -> bool:
        await self._source.invalidate_keys(keys, timeout=time_limit)
        return True

    async def flush_pending(self) -> bool:
        if self._pending:
            await self.invalidate(list(self._pending))
        return not self._pending

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The cache's background work for as long as the application runs, then its close."""
        try:
            async with self.loop_lag.running(), self.pending_flusher():
                yield
        finally:
            await self._source.aclose()

    def pending_flusher(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Re-send pending invalidations in the background until they are delivered."""

        async def loop() -> None:
            while True:
                await asyncio.sleep(PENDING_RETRY_SECONDS)
                if self._pending:
                    await self.flush_pending()

        return running_in_background(loop)
