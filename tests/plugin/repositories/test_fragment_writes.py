"""Fragment update, purge, bulk upsert and bulk purge."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from repository_support import AppConfigRepositories
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from scoped_app_config.domain.errors import (
    AppConfigFragmentNotFound,
    InvalidParameters,
    WriteNotAllowed,
)
from scoped_app_config.domain.types import FragmentId, ScopeRef, ScopeType
from scoped_app_config.models import AllowListRow, DefinitionRow, FragmentRow
from scoped_app_config.repositories.fragment import (
    FragmentBulkPurger,
    FragmentBulkUpserter,
    FragmentPurger,
    FragmentUpdater,
    FragmentUpdateSpec,
    FragmentUpsertItem,
)


@contextlib.asynccontextmanager
async def statements_sent(engine: AsyncEngine) -> AsyncIterator[list[str]]:
    """The first word of every statement the engine's connections send to the server while
    the block runs: the statements SQLAlchemy executes, and the BEGIN and COMMIT the driver
    sends for a transaction (asyncpg's query log, whose callbacks run on the next loop turn)."""
    sent: list[str] = []

    def log_driver_query(record: Any) -> None:
        sent.append(record.query.split()[0].rstrip(";").upper())

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement.split()[0].upper())

    def on_checkout(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(log_driver_query)

    def on_checkin(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.driver_connection.remove_query_logger(log_driver_query)

    listeners = [
        ("before_cursor_execute", on_execute),
        ("checkout", on_checkout),
        ("checkin", on_checkin),
    ]
    for name, listener in listeners:
        event.listen(engine.sync_engine, name, listener)
    try:
        yield sent
        await asyncio.sleep(0)
    finally:
        for name, listener in listeners:
            event.remove(engine.sync_engine, name, listener)


async def _fragment_count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return (await connection.scalar(select(func.count()).select_from(FragmentRow))) or 0


class TestUpdate:
    async def test_config_is_replaced_wholesale(
        self, repositories: AppConfigRepositories, domain_scoped_fragment: FragmentRow
    ) -> None:
        updated = await repositories.fragments.update(
            FragmentUpdater(domain_scoped_fragment.id, FragmentUpdateSpec(config={"font": {}}))
        )

        assert updated.config == {"font": {}}
        assert updated.rank == domain_scoped_fragment.rank
        assert updated.updated_at > domain_scoped_fragment.updated_at
        assert updated.created_at == domain_scoped_fragment.created_at

    async def test_rank_is_set_explicitly(
        self, repositories: AppConfigRepositories, domain_scoped_fragment: FragmentRow
    ) -> None:
        updated = await repositories.fragments.update(
            FragmentUpdater(domain_scoped_fragment.id, FragmentUpdateSpec(rank=5))
        )

        assert updated.rank == 5
        assert updated.config == domain_scoped_fragment.config

    async def test_empty_update_returns_current_fragment(
        self, repositories: AppConfigRepositories, domain_scoped_fragment: FragmentRow
    ) -> None:
        current = await repositories.fragments.get_by_id(domain_scoped_fragment.id)

        unchanged = await repositories.fragments.update(
            FragmentUpdater(domain_scoped_fragment.id, FragmentUpdateSpec())
        )

        assert unchanged == current

    async def test_update_missing_raises(self, repositories: AppConfigRepositories) -> None:
        with pytest.raises(AppConfigFragmentNotFound):
            await repositories.fragments.update(
                FragmentUpdater(FragmentId(uuid.uuid4()), FragmentUpdateSpec(rank=1))
            )


class TestPurge:
    async def test_purge_returns_removed_fragment(
        self,
        repositories: AppConfigRepositories,
        db_engine: AsyncEngine,
        domain_scoped_fragment: FragmentRow,
    ) -> None:
        purged = await repositories.fragments.purge(FragmentPurger(domain_scoped_fragment.id))

        assert purged.id == domain_scoped_fragment.id
        assert purged.scope == ScopeRef(ScopeType.DOMAIN, domain_scoped_fragment.scope_id)
        assert await _fragment_count(db_engine) == 0

    async def test_purge_missing_raises(self, repositories: AppConfigRepositories) -> None:
        with pytest.raises(AppConfigFragmentNotFound):
            await repositories.fragments.purge(FragmentPurger(FragmentId(uuid.uuid4())))


class TestBulkUpsert:
    async def test_inserts_new_and_replaces_existing_in_item_order(
        self,
        repositories: AppConfigRepositories,
        domain_scoped_fragment: FragmentRow,
        menu_allowed_everywhere: dict[ScopeType, AllowListRow],
        known_domain: uuid.UUID,
    ) -> None:
        scope = ScopeRef(ScopeType.DOMAIN, known_domain)
        items = [FragmentUpsertItem("theme", {"new": True}), FragmentUpsertItem("menu", {"m": 1})]

        upserted = await repositories.fragments.bulk_upsert(FragmentBulkUpserter(scope, items))

        assert [(f.config_name, f.config) for f in upserted] == [
            ("theme", {"new": True}),
            ("menu", {"m": 1}),
        ]
        theme, menu = upserted
        assert theme.id == domain_scoped_fragment.id
        assert theme.rank == domain_scoped_fragment.rank
        assert menu.rank == 100
        assert menu.allow_list_rank == menu_allowed_everywhere[ScopeType.DOMAIN].rank

    async def test_public_upsert_replaces_by_natural_key(
        self, repositories: AppConfigRepositories, theme_allowed_only_publicly: AllowListRow
    ) -> None:
        public = ScopeRef(ScopeType.PUBLIC)
        first = await repositories.fragments.bulk_upsert(
            FragmentBulkUpserter(public, [FragmentUpsertItem("theme", {"v": 1})])
        )
        second = await repositories.fragments.bulk_upsert(
            FragmentBulkUpserter(public, [FragmentUpsertItem("theme", {"v": 2})])
        )

        assert second[0].id == first[0].id
        assert second[0].config == {"v": 2}

    async def test_one_disallowed_item_rejects_all(
        self,
        repositories: AppConfigRepositories,
        db_engine: AsyncEngine,
        theme_allowed_only_publicly: AllowListRow,
        menu_allowed_everywhere: dict[ScopeType, AllowListRow],
        known_user: uuid.UUID,
    ) -> None:
        items = [FragmentUpsertItem("menu", {}), FragmentUpsertItem("theme", {})]

        with pytest.raises(WriteNotAllowed):
            await repositories.fragments.bulk_upsert(
                FragmentBulkUpserter(ScopeRef(ScopeType.USER, known_user), items)
            )

        assert await _fragment_count(db_engine) == 0

    async def test_unregistered_name_is_not_allowed(
        self, repositories: AppConfigRepositories, known_user: uuid.UUID
    ) -> None:
        with pytest.raises(WriteNotAllowed):
            await repositories.fragments.bulk_upsert(
                FragmentBulkUpserter(
                    ScopeRef(ScopeType.USER, known_user), [FragmentUpsertItem("nope", {})]
                )
            )

    async def test_replacing_one_fragment_is_one_statement_committed_on_its_own(
        self,
        repositories: AppConfigRepositories,
        db_engine: AsyncEngine,
        domain_scoped_fragment: FragmentRow,
        known_user: uuid.UUID,
    ) -> None:
        """Saving a config that exists is one round trip (no BEGIN, no COMMIT) and is durable
        at once; creating a fragment still runs in a transaction (lock, rank, insert)."""
        replace = FragmentBulkUpserter(
            ScopeRef(ScopeType.DOMAIN, domain_scoped_fragment.scope_id),
            [FragmentUpsertItem("theme", {"v": 3})],
        )
        create = FragmentBulkUpserter(
            ScopeRef(ScopeType.USER, known_user), [FragmentUpsertItem("theme", {"mine": 1})]
        )
        async with statements_sent(db_engine) as sent:
            await repositories.fragments.bulk_upsert(replace)
        assert sent == ["UPDATE"]
        async with db_engine.connect() as reader:
            stored = await reader.scalar(
                select(FragmentRow.config).where(FragmentRow.id == domain_scoped_fragment.id)
            )
        assert stored == {"v": 3}

        async with statements_sent(db_engine) as sent:
            await repositories.fragments.bulk_upsert(create)
        assert {"BEGIN", "COMMIT"} <= set(sent)

    async def test_replacing_a_fragment_does_not_queue_behind_the_names_other_writers(
        self,
        repositories: AppConfigRepositories,
        db_engine: AsyncEngine,
        domain_scoped_fragment: FragmentRow,
        theme_allowed_everywhere: dict[ScopeType, AllowListRow],
        known_domain: uuid.UUID,
        known_user: uuid.UUID,
    ) -> None:
        """While another transaction holds the definition lock of `theme` (as a writer creating
        a fragment of it does), replacing the config of an existing `theme` fragment completes,
        keeping its id and rank; creating a new one waits for the lock."""
        replace = FragmentBulkUpserter(
            ScopeRef(ScopeType.DOMAIN, known_domain), [FragmentUpsertItem("theme", {"v": 2})]
        )
        create = FragmentBulkUpserter(
            ScopeRef(ScopeType.USER, known_user), [FragmentUpsertItem("theme", {"mine": 1})]
        )
        async with db_engine.connect() as holder:
            locked = await holder.execute(
                select(DefinitionRow.id)
                .where(DefinitionRow.config_name == "theme")
                .with_for_update()
            )
            assert locked.one_or_none() is not None

            async with asyncio.timeout(5):
                (replaced,) = await repositories.fragments.bulk_upsert(replace)
            creating = asyncio.ensure_future(repositories.fragments.bulk_upsert(create))
            await asyncio.sleep(0.3)
            assert not creating.done()
            await holder.rollback()

        async with asyncio.timeout(5):
            (created,) = await creating
        assert (replaced.id, replaced.rank, replaced.config) == (
            domain_scoped_fragment.id,
            domain_scoped_fragment.rank,
            {"v": 2},
        )
        assert replaced.allow_list_rank == theme_allowed_everywhere[ScopeType.DOMAIN].rank
        assert created.rank == domain_scoped_fragment.rank + 100

    def test_repeated_name_is_invalid(self, known_user: uuid.UUID) -> None:
        with pytest.raises(InvalidParameters):
            FragmentBulkUpserter(
                ScopeRef(ScopeType.USER, known_user),
                [FragmentUpsertItem("theme", {}), FragmentUpsertItem("theme", {})],
            )


class TestBulkPurge:
    async def test_purges_existing_and_reports_missing(
        self,
        repositories: AppConfigRepositories,
        db_engine: AsyncEngine,
        fragments_across_scopes: dict[str, FragmentRow],
    ) -> None:
        doomed = [
            fragments_across_scopes["theme:user"].id,
            fragments_across_scopes["menu:public"].id,
        ]
        missing = FragmentId(uuid.uuid4())

        result = await repositories.fragments.bulk_purge(
            FragmentBulkPurger([doomed[0], missing, doomed[1]])
        )

        assert [fragment.id for fragment in result.purged] == doomed
        assert [failure.id for failure in result.failed] == [missing]
        assert str(missing) in result.failed[0].message
        assert await _fragment_count(db_engine) == len(fragments_across_scopes) - 2
