"""Definition repository: the resilience-observed facade the services call.

Every write replaces the policy generation of its config name, so every cached merged view
of that name is invalidated before the write returns."""

from __future__ import annotations

from reference_host.contract import LayerMetrics
from scoped_app_config.domain.models import DefinitionData, SearchResult
from scoped_app_config.domain.types import DefinitionId
from scoped_app_config.query import SearchQuery
from scoped_app_config.repositories.base.resilience import (
    DEFINITION_REPOSITORY_LAYER,
    repository_policy,
)
from scoped_app_config.repositories.definition.creators import DefinitionCreator
from scoped_app_config.repositories.definition.db_source import AppConfigDefinitionDBSource
from scoped_app_config.repositories.definition.purgers import DefinitionPurger
from scoped_app_config.repositories.fragment.cache_source.view_cache import GuardedViewCache

_policy = repository_policy(DEFINITION_REPOSITORY_LAYER)


class AppConfigDefinitionRepository:
    def __init__(
        self,
        db_source: AppConfigDefinitionDBSource,
        layer_metrics: LayerMetrics,
        view_cache: GuardedViewCache | None = None,
    ) -> None:
        self._db_source = db_source
        self._layer_metrics = layer_metrics
        self._view_cache = view_cache

    async def _invalidate_name(self, config_name: str) -> None:
        if self._view_cache is not None:
            await self._view_cache.invalidate_policy(config_name)

    @property
    def layer_metrics(self) -> LayerMetrics:
        return self._layer_metrics

    @_policy
    async def create(self, creator: DefinitionCreator) -> DefinitionData:
        """Register a config name; a registered name raises `Conflict`."""
        written = await self._db_source.create(creator)
        await self._invalidate_name(written.config_name)
        return written

    @_policy
    async def get_by_id(self, definition_id: DefinitionId) -> DefinitionData:
        return await self._db_source.get_by_id(definition_id)

    @_policy
    async def purge(self, purger: DefinitionPurger) -> DefinitionData:
        """Remove a definition, its allow-list entries and fragments; return the definition."""
        written = await self._db_source.purge(purger)
        await self._invalidate_name(written.config_name)
        return written

    @_policy
    async def search(self, query: SearchQuery) -> SearchResult[DefinitionData]:
        return await self._db_source.search(query)
