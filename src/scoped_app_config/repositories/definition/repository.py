"""Definition repository: the resilience-observed facade the services call.

A purge replaces the policy generation of its config name, so every cached merged view of
that name is invalidated before the purge returns."""

from __future__ import annotations

from scoped_app_config.domain.models import DefinitionData, SearchResult
from scoped_app_config.domain.types import DefinitionId
from scoped_app_config.query import SearchQuery
from scoped_app_config.repositories.base.policy_repository import PolicyRepository
from scoped_app_config.repositories.base.resilience import (
    DEFINITION_REPOSITORY_LAYER,
    repository_policy,
)
from scoped_app_config.repositories.definition.creators import DefinitionCreator
from scoped_app_config.repositories.definition.db_source import AppConfigDefinitionDBSource
from scoped_app_config.repositories.definition.purgers import DefinitionPurger

_policy = repository_policy(DEFINITION_REPOSITORY_LAYER)


class AppConfigDefinitionRepository(PolicyRepository[AppConfigDefinitionDBSource]):
    @_policy
    async def create(self, creator: DefinitionCreator) -> DefinitionData:
        """Register a config name; a registered name raises `Conflict`. No view changes: a
        name without allow-list entries has no fragments."""
        return await self._db_source.create(creator)

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
