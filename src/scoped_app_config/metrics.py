"""The plugin's own Prometheus series, registered in the host's registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class CacheOutcomeMetrics:
    """Hit / miss / error counts of the merged-view cache (guard.CacheOutcomeCounter)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._lookups = Counter(
            "app_config_cache_lookups",
            "Merged-view cache lookups by outcome (hit or miss), per config name looked up.",
            ["outcome"],
            registry=registry,
        )
        self._errors = Counter(
            "app_config_cache_errors",
            "Cache calls that failed or timed out and fell back to the database.",
            ["operation"],
            registry=registry,
        )
        self._hit = self._lookups.labels(outcome="hit")
        self._miss = self._lookups.labels(outcome="miss")

    # A lookup reports both counts and one of them is usually 0: adding nothing costs a lock.
    def hits(self, count: int) -> None:
        if count:
            self._hit.inc(count)

    def misses(self, count: int) -> None:
        if count:
            self._miss.inc(count)

    def error(self, operation: str) -> None:
        self._errors.labels(operation=operation).inc()
