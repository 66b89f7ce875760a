"""Superadmin policy: which config names exist (definitions) and where they may be written
(allow-list entries, with their merge rank). Route requirements already admit superadmins only;
the repositories invalidate the cached views each change affects.
"""

from __future__ import annotations

import uuid

from scoped_app_config.domain.models import AllowListEntryData, DefinitionData, SearchResult
from scoped_app_config.domain.types import AllowListEntryId, DefinitionId, ScopeType
from scoped_app_config.query import SearchQuery
from scoped_app_config.repositories.allow_list.creators import AllowListCreator
from scoped_app_config.repositories.allow_list.purgers import AllowListPurger
from scoped_app_config.repositories.allow_list.repository import AppConfigAllowListRepository
from scoped_app_config.repositories.allow_list.updaters import (
    AllowListUpdater,
    AllowListUpdateSpec,
)
from scoped_app_config.repositories.definition.creators import DefinitionCreator
from scoped_app_config.repositories.definition.purgers import DefinitionPurger
from scoped_app_config.repositories.definition.repository import AppConfigDefinitionRepository


class PolicyAdminService:
    def __init__(
        self,
        definitions: AppConfigDefinitionRepository,
        allow_list: AppConfigAllowListRepository,
    ) -> None:
        self._definitions = definitions
        self._allow_list = allow_list

    async def register(self, config_name: str) -> DefinitionData:
        return await self._definitions.create(DefinitionCreator(config_name=config_name))

    async def get_definition(self, definition_id: uuid.UUID) -> DefinitionData:
        return await self._definitions.get_by_id(DefinitionId(definition_id))

    async def retire(self, definition_id: uuid.UUID) -> DefinitionData:
        """Purge a definition with its allow-list entries and their fragments."""
        return await self._definitions.purge(DefinitionPurger(DefinitionId(definition_id)))

    async def search_definitions(self, query: SearchQuery) -> SearchResult[DefinitionData]:
        return await self._definitions.search(query)

    async def allow(
        self, config_name: str, scope_type: ScopeType, rank: int | None
    ) -> AllowListEntryData:
        return await self._allow_list.create(
            AllowListCreator(config_name=config_name, scope_type=scope_type, rank=rank)
        )

    async def get_entry(self, entry_id: uuid.UUID) -> AllowListEntryData:
        return await self._allow_list.get_by_id(AllowListEntryId(entry_id))

    async def rerank(self, entry_id: uuid.UUID, rank: int | None) -> AllowListEntryData:
        spec = AllowListUpdateSpec(rank=rank)
        return await self._allow_list.update(AllowListUpdater(AllowListEntryId(entry_id), spec))

    async def disallow(self, entry_id: uuid.UUID) -> AllowListEntryData:
        """Purge an allow-list entry with every fragment it admits."""
        return await self._allow_list.purge(AllowListPurger(AllowListEntryId(entry_id)))

    async def search_entries(self, query: SearchQuery) -> SearchResult[AllowListEntryData]:
        return await self._allow_list.search(query)
