"""The plugin's Alembic lineage: clean round trip, schema equal to the models, trigger, checks."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from repository_support import add_rows, run_plugin_migrations
from sqlalchemy import Connection, insert, inspect, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from scoped_app_config.domain.types import ScopeType
from scoped_app_config.models import AllowListRow, Base, DefinitionRow, FragmentRow
from scoped_app_config.models.tables import FRAGMENT_RANK_KEY
from scoped_app_config.repositories.base.integrity import constraint_of


@pytest.fixture
async def empty_schema(database_url: str) -> AsyncIterator[AsyncConnection]:
    """A connection of its own whose search_path is a fresh, empty schema (dropped afterwards)."""
    schema = f"migration_check_{uuid.uuid4().hex[:12]}"
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            await connection.execute(text(f'SET search_path TO "{schema}"'))
            await connection.commit()
            yield connection
            await connection.rollback()
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await connection.commit()
    finally:
        await engine.dispose()


def _table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _schema_differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


class TestRoundTrip:
    async def test_upgrade_downgrade_upgrade_is_clean(self, empty_schema: AsyncConnection) -> None:
        tables = {table.name for table in Base.metadata.sorted_tables}
        for destination, expected in [
            ("scoped_app_config@head", tables),
            ("base", set()),
            ("scoped_app_config@head", tables),
        ]:
            await empty_schema.run_sync(run_plugin_migrations, destination)
            found = await empty_schema.run_sync(_table_names)
            assert found - {"alembic_version"} == expected

    async def test_migrated_schema_matches_the_models(self, empty_schema: AsyncConnection) -> None:
        await empty_schema.run_sync(run_plugin_migrations, "scoped_app_config@head")

        assert await empty_schema.run_sync(_schema_differences) == []


class TestUniqueFragmentRanks:
    async def test_upgrade_renumbers_names_with_duplicate_ranks_in_effective_order(
        self, empty_schema: AsyncConnection
    ) -> None:
        await empty_schema.run_sync(run_plugin_migrations, "7f3c2a9e41d0")
        ids = sorted(uuid.uuid4() for _ in range(3))
        await empty_schema.execute(
            insert(DefinitionRow), [{"config_name": "theme"}, {"config_name": "menu"}]
        )
        await empty_schema.execute(
            insert(AllowListRow),
            [
                {"config_name": n, "scope_type": ScopeType.USER, "rank": 1}
                for n in ("theme", "menu")
            ],
        )
        await empty_schema.execute(
            insert(FragmentRow),
            [
                {"id": i, "config_name": n, "scope_type": ScopeType.USER, "scope_id": i,
                 "rank": r, "config": {}}
                for i, n, r in [
                    (ids[2], "theme", 50), (ids[1], "theme", 50), (ids[0], "theme", 400),
                    (uuid.uuid4(), "menu", 50), (uuid.uuid4(), "menu", 700),
                ]
            ],
        )  # fmt: skip

        await empty_schema.run_sync(run_plugin_migrations, "scoped_app_config@head")

        rows = await empty_schema.execute(
            select(FragmentRow.config_name, FragmentRow.id, FragmentRow.rank)
        )
        ranks = {(name, fragment_id): rank for name, fragment_id, rank in rows}
        assert sorted(r for (n, _), r in ranks.items() if n == "menu") == [50, 700]
        assert [ranks[("theme", i)] for i in (ids[1], ids[2], ids[0])] == [100, 200, 300]

    async def test_a_duplicate_rank_within_a_name_is_rejected(
        self, db_engine: AsyncEngine, domain_scoped_fragment: FragmentRow, known_user: uuid.UUID
    ) -> None:
        twin = FragmentRow(
            config_name="theme",
            scope_type=ScopeType.USER,
            scope_id=known_user,
            rank=domain_scoped_fragment.rank,
            config={},
        )

        with pytest.raises(IntegrityError) as raised:
            await add_rows(db_engine, twin)

        assert constraint_of(raised.value) == FRAGMENT_RANK_KEY


class TestUpdatedAtTrigger:
    async def test_bulk_update_touches_updated_at(
        self, db_engine: AsyncEngine, domain_scoped_fragment: FragmentRow
    ) -> None:
        async with db_engine.begin() as connection:
            touched = await connection.scalar(
                update(FragmentRow)
                .values(rank=FragmentRow.rank + 1)
                .returning(FragmentRow.updated_at)
            )

        assert touched is not None
        assert touched > domain_scoped_fragment.updated_at


class TestConstraints:
    async def test_public_fragment_with_scope_id_is_rejected(
        self, db_engine: AsyncEngine, theme_allowed_only_publicly: AllowListRow
    ) -> None:
        row = FragmentRow(
            config_name="theme",
            scope_type=ScopeType.PUBLIC,
            scope_id=uuid.uuid4(),
            rank=1,
            config={},
        )

        with pytest.raises(IntegrityError):
            await add_rows(db_engine, row)

    async def test_unknown_scope_type_is_rejected(
        self, db_engine: AsyncEngine, theme_registered: DefinitionRow
    ) -> None:
        with pytest.raises(IntegrityError):
            async with db_engine.begin() as connection:
                await connection.execute(
                    text(
                        "INSERT INTO app_config_allow_list (config_name, scope_type, rank) "
                        "VALUES ('theme', 'planet', 1)"
                    )
                )
