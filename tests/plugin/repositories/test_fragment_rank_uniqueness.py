"""Fragment ranks are unique within a config name: explicit rank updates and racing creates."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from repository_support import AppConfigRepositories, add_rows
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from scoped_app_config.domain.errors import Conflict
from scoped_app_config.domain.models import FragmentData
from scoped_app_config.domain.types import FragmentId, ScopeRef, ScopeType
from scoped_app_config.models import AllowListRow, DefinitionRow, FragmentRow
from scoped_app_config.repositories.base.integrity import domain_error_for
from scoped_app_config.repositories.fragment import (
    FragmentCreator,
    FragmentUpdater,
    FragmentUpdateSpec,
)

CREATORS = 20


async def _ranks(engine: AsyncEngine, config_name: str) -> dict[uuid.UUID, int]:
    async with engine.connect() as connection:
        result = await connection.execute(
            select(FragmentRow.id, FragmentRow.rank).where(FragmentRow.config_name == config_name)
        )
        return {fragment_id: rank for fragment_id, rank in result}


def _set_rank(fragment_id: uuid.UUID, rank: int) -> FragmentUpdater:
    return FragmentUpdater(FragmentId(fragment_id), FragmentUpdateSpec(rank=rank))


class TestExplicitRankUpdate:
    async def test_rank_held_by_another_fragment_of_the_name_is_a_conflict(
        self,
        repositories: AppConfigRepositories,
        db_engine: AsyncEngine,
        fragments_across_scopes: dict[str, FragmentRow],
    ) -> None:
        moved, holder = (
            fragments_across_scopes["theme:public"],
            fragments_across_scopes["theme:user"],
        )
        before = await _ranks(db_engine, "theme")

        with pytest.raises(Conflict) as raised:
            await repositories.fragments.update(_set_rank(moved.id, holder.rank))

        assert raised.value.message == (
            f"Rank {holder.rank} is already held by another fragment of app config 'theme'."
        )
        assert await _ranks(db_engine, "theme") == before

    async def test_rank_held_only_in_another_name_is_free(
        self, repositories: AppConfigRepositories, fragments_across_scopes: dict[str, FragmentRow]
    ) -> None:
        moved, other_name = (
            fragments_across_scopes["theme:public"],
            fragments_across_scopes["menu:public"],
        )

        updated = await repositories.fragments.update(_set_rank(moved.id, other_name.rank))

        assert updated.rank == other_name.rank

    async def test_keeping_its_own_rank_is_no_conflict(
        self, repositories: AppConfigRepositories, domain_scoped_fragment: FragmentRow
    ) -> None:
        spec = FragmentUpdateSpec(config={"v": 1}, rank=domain_scoped_fragment.rank)

        updated = await repositories.fragments.update(
            FragmentUpdater(domain_scoped_fragment.id, spec)
        )

        assert (updated.rank, updated.config) == (domain_scoped_fragment.rank, {"v": 1})

    async def test_another_unique_violation_is_not_mapped_to_a_rank_conflict(
        self, db_engine: AsyncEngine, domain_scoped_fragment: FragmentRow
    ) -> None:
        twin = FragmentRow(
            config_name="theme",
            scope_type=domain_scoped_fragment.scope_type,
            scope_id=domain_scoped_fragment.scope_id,
            rank=domain_scoped_fragment.rank + 1,
            config={},
        )
        with pytest.raises(IntegrityError) as raised:
            await add_rows(db_engine, twin)  # the natural key, not the rank key

        checks = _set_rank(domain_scoped_fragment.id, 1).integrity_checks("theme")
        assert domain_error_for(raised.value, checks) is None

    async def test_waits_for_the_definition_lock_a_create_holds(
        self,
        repositories: AppConfigRepositories,
        db_engine: AsyncEngine,
        domain_scoped_fragment: FragmentRow,
    ) -> None:
        async with db_engine.connect() as holder:
            await holder.execute(
                select(DefinitionRow.id)
                .where(DefinitionRow.config_name == "theme")
                .with_for_update()
            )
            pending = asyncio.create_task(
                repositories.fragments.update(_set_rank(domain_scoped_fragment.id, 7))
            )
            await asyncio.sleep(0.3)
            assert not pending.done()
            await holder.rollback()

        assert (await asyncio.wait_for(pending, timeout=10)).rank == 7

    async def test_a_config_only_update_takes_no_definition_lock(
        self,
        repositories: AppConfigRepositories,
        domain_scoped_fragment: FragmentRow,
        statement_log: list[str],
    ) -> None:
        await repositories.fragments.update(
            FragmentUpdater(domain_scoped_fragment.id, FragmentUpdateSpec(config={}))
        )

        assert not [s for s in statement_log if "FOR UPDATE" in s]


class TestRankUpdateRacingCreates:
    async def test_ranks_stay_distinct(
        self,
        repositories: AppConfigRepositories,
        db_engine: AsyncEngine,
        theme_allowed_everywhere: dict[ScopeType, AllowListRow],
        domain_scoped_fragment: FragmentRow,
    ) -> None:
        async def create() -> FragmentData:
            scope = ScopeRef(ScopeType.USER, uuid.uuid4())
            return await repositories.fragments.create(FragmentCreator("theme", scope, {}))

        async def move_to_top() -> FragmentData | Conflict:
            """Read the highest rank, then claim the next one (what a hand re-ordering does)."""
            top = max((await _ranks(db_engine, "theme")).values())
            try:
                return await repositories.fragments.update(
                    _set_rank(domain_scoped_fragment.id, top + 100)
                )
            except Conflict as conflict:
                return conflict

        outcomes = await asyncio.gather(
            *(create() for _ in range(CREATORS)), *(move_to_top() for _ in range(CREATORS))
        )

        created = outcomes[:CREATORS]
        assert all(isinstance(fragment, FragmentData) for fragment in created)
        ranks = list((await _ranks(db_engine, "theme")).values())
        assert len(ranks) == CREATORS + 1
        assert len(set(ranks)) == len(ranks), sorted(ranks)
