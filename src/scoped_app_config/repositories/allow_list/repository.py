"""Allow-list repository: the resilience-observed facade the services call.

Every write replaces the policy generation of its config name, so every cached merged view
of that name is invalidated before the write returns."""

from __future__ import annotations

from scoped_app_config.domain.models import AllowListEntryData, SearchResult
from scoped_app_config.domain.types import AllowListEntryId
from scoped_app_config.query import SearchQuery
from scoped_app_config.repositories.allow_list.creators import AllowListCreator
from scoped_app_config.repositories.allow_list.db_source import AppConfigAllowListDBSource
from scoped_app_config.repositories.allow_list.purgers import AllowListPurger
from scoped_app_config.repositories.allow_list.updaters import AllowListUpdater
from scoped_app_config.repositories.base.policy_repository import PolicyRepository
from scoped_app_config.repositories.base.resilience import (
    ALLOW_LIST_REPOSITORY_LAYER,
    repository_policy,
)

_policy = repository_policy(ALLOW_LIST_REPOSITORY_LAYER)


class AppConfigAllowListRepository(PolicyRepository[AppConfigAllowListDBSource]):
    @_policy
    async def create(self, creator: AllowListCreator) -> AllowListEntryData:
        """Allow a scope type; unregistered name → definition-not-found, duplicate → Conflict."""
        written = await self._db_source.create(creator)
        await self._invalidate_name(written.config_name)
        return written

    @_policy
    async def get_by_id(self, entry_id: AllowListEntryId) -> AllowListEntryData:
        return await self._db_source.get_by_id(entry_id)

    @_policy
    async def update(self, updater: AllowListUpdater) -> AllowListEntryData:
        written = await self._db_source.update(updater)
        await self._invalidate_name(written.config_name)
        return written

    @_policy
    async def purge(self, purger: AllowListPurger) -> AllowListEntryData:
        """Remove the entry and every fragment it admitted; returns the removed entry."""
        written = await self._db_source.purge(purger)
        await self._invalidate_name(written.config_name)
        return written

    @_policy
    async def search(self, query: SearchQuery) -> SearchResult[AllowListEntryData]:
        return await self._db_source.search(query)
