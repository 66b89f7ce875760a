"""AppConfigDefinitionRepository against real PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from repository_support import AppConfigRepositories
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from scoped_app_config.domain.errors import AppConfigDefinitionNotFound, Conflict
from scoped_app_config.domain.types import DefinitionId, ScopeType
from scoped_app_config.models import AllowListRow, DefinitionRow, FragmentRow
from scoped_app_config.query import SearchQuery
from scoped_app_config.repositories.definition import DefinitionCreator, DefinitionPurger


async def _count(
    engine: AsyncEngine, row_type: type[DefinitionRow | AllowListRow | FragmentRow]
) -> int:
    async with engine.connect() as connection:
        return (await connection.scalar(select(func.count()).select_from(row_type))) or 0


class TestCreate:
    async def test_create_registers_name(self, repositories: AppConfigRepositories) -> None:
        created = await repositories.definitions.create(DefinitionCreator("theme"))

        assert created.config_name == "theme"
        assert created.created_at == created.updated_at
        assert await repositories.definitions.get_by_id(created.id) == created

    async def test_duplicate_name_is_conflict(
        self, repositories: AppConfigRepositories, theme_registered: DefinitionRow
    ) -> None:
        with pytest.raises(Conflict):
            await repositories.definitions.create(DefinitionCreator(theme_registered.config_name))


class TestGet:
    async def test_get_missing_id_is_entity_not_found(
        self, repositories: AppConfigRepositories
    ) -> None:
        with pytest.raises(AppConfigDefinitionNotFound) as raised:
            await repositories.definitions.get_by_id(DefinitionId(uuid.uuid4()))
        assert raised.value.slug == "entity-not-found"


class TestPurge:
    async def test_purge_cascades_to_allow_list_and_fragments(
        self,
        repositories: AppConfigRepositories,
        db_engine: AsyncEngine,
        fragments_across_scopes: dict[str, FragmentRow],
        theme_registered: DefinitionRow,
    ) -> None:
        menu_fragments = [
            row for key, row in fragments_across_scopes.items() if key.startswith("menu:")
        ]

        purged = await repositories.definitions.purge(DefinitionPurger(theme_registered.id))

        assert purged.config_name == "theme"
        assert await _count(db_engine, DefinitionRow) == 1
        assert await _count(db_engine, AllowListRow) == len(ScopeType)
        assert await _count(db_engine, FragmentRow) == len(menu_fragments)

    async def test_purge_missing_raises(self, repositories: AppConfigRepositories) -> None:
        with pytest.raises(AppConfigDefinitionNotFound):
            await repositories.definitions.purge(DefinitionPurger(DefinitionId(uuid.uuid4())))


class TestSearch:
    async def test_search_defaults_to_newest_first(
        self,
        repositories: AppConfigRepositories,
        theme_registered: DefinitionRow,
        menu_registered: DefinitionRow,
    ) -> None:
        result = await repositories.definitions.search(SearchQuery())

        assert [item.config_name for item in result.items] == ["menu", "theme"]
        assert result.total_count == 2
        assert not result.has_next_page
        assert not result.has_previous_page
