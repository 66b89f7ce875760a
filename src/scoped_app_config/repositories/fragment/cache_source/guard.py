"""A sick Redis must cost latency, never correctness: bounded calls, failures logged and counted.

Every cache call gets a short time limit, plus the event loop's current lag (see `loop_lag`:
time a reply spends waiting for a busy loop is not Redis being slow). The guard decides the
limit and hands it to the call, which must end by it (`cache_source` enforces it with the
cheapest timer its connection allows; a `TimeoutError` is a failure like any other). After
`failure_threshold` consecutive failures the breaker opens and cache calls are skipped (the
caller falls back to the database) until `open_seconds` have passed; then calls probe Redis
again (each still bounded by the timeout), a success closes the breaker and a failure reopens
it, so the service returns to cached speed by itself. Skipped calls are not counted as errors:
the error counter moves when Redis is asked.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

import attrs
from redis.exceptions import RedisClusterException, RedisError

from reference_host.contract import LayerMetrics
from scoped_app_config.repositories.fragment.cache_source.loop_lag import LoopLagMonitor

log = logging.getLogger(__name__)

T = TypeVar("T")

# A call waits for the loop a few times: for a connection, to send, and to read the reply.
LOOP_TURNS_PER_CALL = 4

CACHE_SOURCE_LAYER = "app_config_fragment_cache_source"
CACHE_SOURCE_DOMAIN = "cache_source"

# What a failing Redis raises: its own errors, a timed-out call, or a socket error. The cluster
# client's RedisClusterException (e.g. "cannot be connected" when no startup node answers, or a
# slot not covered) is not a RedisError, so it is listed on its own.
CACHE_FAILURES = (RedisError, RedisClusterException, TimeoutError, OSError)


class CacheUnavailable(Exception):
    """The breaker is open: the cache is skipped without being asked."""


@attrs.define
class CircuitBreaker:
    failure_threshold: int = 3
    open_seconds: float = 1.0
    _consecutive_failures: int = 0
    _opened_at: float | None = None

    def allows_call(self) -> bool:
        if self._opened_at is None:
            return True
        return time.monotonic() - self._opened_at >= self.open_seconds

    def record_success(self) -> None:
        self._consecutive_failures = 0
        self._opened_at = None

    def record_failure(self) -> None:
        self._consecutive_failures += 1
        if self._consecutive_failures >= self.failure_threshold:
            self._opened_at = time.monotonic()


class CacheOutcomeCounter(Protocol):
    """Hit / miss / error counters beside the layer metrics."""

    def hits(self, count: int) -> None: ...

    def misses(self, count: int) -> None: ...

    def error(self, operation: str) -> None: ...


class CacheGuard:
    def __init__(
        self,
        *,
        timeout_seconds: float,
        layer_metrics: LayerMetrics,
        outcomes: CacheOutcomeCounter,
        breaker: CircuitBreaker | None = None,
        loop_lag: LoopLagMonitor | None = None,
    ) -> None:
        self._timeout_seconds = timeout_seconds
        self._layer_metrics = layer_metrics
        self.outcomes = outcomes
        self.breaker = breaker or CircuitBreaker()
        self.loop_lag = loop_lag or LoopLagMonitor()

    @property
    def timeout_seconds(self) -> float:
        """The configured timeout, plus a few turns of a busy event loop (see `loop_lag`)."""
        return self._timeout_seconds + LOOP_TURNS_PER_CALL * self.loop_lag.lag_seconds

    async def call(
        self, operation: str, work: Callable[[float], Awaitable[T]], *, always: bool = False
    ) -> T:
        """Run one cache call, `work(time_limit)`, which must end within `time_limit` seconds;
        raise CACHE_FAILURES or CacheUnavailable.

        `always` sends the call even while the breaker is open (still under the limit): for
        invalidations, which other processes depend on and must not be skipped unasked.
        """
        if not always and not self.breaker.allows_call():
            raise CacheUnavailable(operation)
        try:
            async with self._layer_metrics.observe(
                domain=CACHE_SOURCE_DOMAIN, layer=CACHE_SOURCE_LAYER, operation=operation
            ):
                result = await work(self.timeout_seconds)
        except CACHE_FAILURES:
            self.breaker.record_failure()
            self.outcomes.error(operation)
            raise
        self.breaker.record_success()
        return result

    async def call_or(
        self,
        operation: str,
        work: Callable[[float], Awaitable[T]],
        fallback: T,
        *,
        always: bool = False,
    ) -> T:
        """Like `call`, but a failure is logged and answered with `fallback`."""
        try:
            return await self.call(operation, work, always=always)
        except CacheUnavailable:
            log.debug("cache skipped (breaker open): %s", operation)
        except CACHE_FAILURES as exc:
            log.warning("cache %s failed: %s: %s", operation, type(exc).__name__, exc)
        return fallback
