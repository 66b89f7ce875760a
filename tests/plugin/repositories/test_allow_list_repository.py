"""AppConfigAllowListRepository against real PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from repository_support import AppConfigRepositories
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from scoped_app_config.domain.errors import (
    AppConfigAllowListNotFound,
    AppConfigDefinitionNotFound,
    Conflict,
)
from scoped_app_config.domain.types import DEFAULT_ALLOW_LIST_RANKS, AllowListEntryId, ScopeType
from scoped_app_config.models import AllowListRow, DefinitionRow, FragmentRow
from scoped_app_config.query import EnumFilter, SearchFilter, SearchQuery
from scoped_app_config.repositories.allow_list import (
    AllowListCreator,
    AllowListPurger,
    AllowListUpdater,
    AllowListUpdateSpec,
)


class TestCreate:
    @pytest.mark.parametrize("scope_type", list(ScopeType))
    async def test_rank_defaults_by_scope_type(
        self,
        repositories: AppConfigRepositories,
        theme_registered: DefinitionRow,
        scope_type: ScopeType,
    ) -> None:
        entry = await repositories.allow_list.create(AllowListCreator("theme", scope_type))

        assert entry.rank == DEFAULT_ALLOW_LIST_RANKS[scope_type]
        assert await repositories.allow_list.get_by_id(entry.id) == entry

    async def test_explicit_rank_is_kept(
        self, repositories: AppConfigRepositories, theme_registered: DefinitionRow
    ) -> None:
        entry = await repositories.allow_list.create(
            AllowListCreator("theme", ScopeType.DOMAIN, rank=400)
        )

        assert entry.rank == 400

    async def test_unregistered_name_is_definition_not_found(
        self, repositories: AppConfigRepositories
    ) -> None:
        with pytest.raises(AppConfigDefinitionNotFound) as raised:
            await repositories.allow_list.create(AllowListCreator("nope", ScopeType.USER))

        assert raised.value.slug == "app-config-definition-not-found"

    async def test_duplicate_name_and_scope_type_is_conflict(
        self, repositories: AppConfigRepositories, theme_allowed_only_publicly: AllowListRow
    ) -> None:
        with pytest.raises(Conflict):
            await repositories.allow_list.create(AllowListCreator("theme", ScopeType.PUBLIC))


class TestUpdate:
    async def test_rank_is_updated(
        self, repositories: AppConfigRepositories, theme_allowed_only_publicly: AllowListRow
    ) -> None:
        updated = await repositories.allow_list.update(
            AllowListUpdater(theme_allowed_only_publicly.id, AllowListUpdateSpec(rank=50))
        )

        assert updated.rank == 50
        assert updated.updated_at > theme_allowed_only_publicly.updated_at

    async def test_empty_update_returns_current_entry(
        self, repositories: AppConfigRepositories, theme_allowed_only_publicly: AllowListRow
    ) -> None:
        unchanged = await repositories.allow_list.update(
            AllowListUpdater(theme_allowed_only_publicly.id, AllowListUpdateSpec())
        )

        assert unchanged.rank == theme_allowed_only_publicly.rank
        assert unchanged.updated_at == theme_allowed_only_publicly.updated_at

    async def test_update_missing_raises(self, repositories: AppConfigRepositories) -> None:
        with pytest.raises(AppConfigAllowListNotFound) as raised:
            await repositories.allow_list.update(
                AllowListUpdater(AllowListEntryId(uuid.uuid4()), AllowListUpdateSpec(rank=1))
            )
        assert raised.value.slug == "entity-not-found"


class TestPurge:
    async def test_purge_cascades_to_admitted_fragments_only(
        self,
        repositories: AppConfigRepositories,
        db_engine: AsyncEngine,
        fragments_across_scopes: dict[str, FragmentRow],
        theme_allowed_everywhere: dict[ScopeType, AllowListRow],
    ) -> None:
        entry = theme_allowed_everywhere[ScopeType.USER]
        admitted = {
            key
            for key, row in fragments_across_scopes.items()
            if (row.config_name, row.scope_type) == ("theme", ScopeType.USER)
        }

        purged = await repositories.allow_list.purge(AllowListPurger(entry.id))

        assert (purged.config_name, purged.scope_type) == ("theme", ScopeType.USER)
        async with db_engine.connect() as connection:
            remaining = await connection.scalar(select(func.count()).select_from(FragmentRow))
        assert remaining == len(fragments_across_scopes) - len(admitted)

    async def test_purge_missing_raises(self, repositories: AppConfigRepositories) -> None:
        with pytest.raises(AppConfigAllowListNotFound):
            await repositories.allow_list.purge(AllowListPurger(AllowListEntryId(uuid.uuid4())))


class TestSearch:
    async def test_filter_by_scope_type(
        self,
        repositories: AppConfigRepositories,
        theme_allowed_everywhere: dict[ScopeType, AllowListRow],
    ) -> None:
        wanted = [ScopeType.DOMAIN, ScopeType.DOMAIN_USER_DEFAULTS]
        query = SearchQuery(filter=SearchFilter(scope_type=EnumFilter(in_=wanted)))

        result = await repositories.allow_list.search(query)

        assert {item.id for item in result.items} == {
            theme_allowed_everywhere[scope_type].id for scope_type in wanted
        }
