"""What the definition and allow-list repositories share: their db_source, the layer metrics
their resilience policy records into, and invalidating every cached view of a config name
after a write that changes how that name merges."""

from __future__ import annotations

from typing import Generic, TypeVar

from reference_host.contract import LayerMetrics
from scoped_app_config.repositories.fragment.cache_source.view_cache import GuardedViewCache

S = TypeVar("S")


class PolicyRepository(Generic[S]):
    def __init__(
        self,
        db_source: S,
        layer_metrics: LayerMetrics,
        view_cache: GuardedViewCache | None = None,
    ) -> None:
        self._db_source = db_source
        self._layer_metrics = layer_metrics
        self._view_cache = view_cache

    @property
    def layer_metrics(self) -> LayerMetrics:
        return self._layer_metrics

    async def _invalidate_name(self, config_name: str) -> None:
        if self._view_cache is not None:
            await self._view_cache.invalidate_policy(config_name)
