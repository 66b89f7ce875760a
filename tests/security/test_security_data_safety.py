"""Data safety (issue 6, point 6): migrations move a populated database without losing the
rows of the tables that survive, and purges cascade to exactly what they should.

The migration test runs on a database of its own (created and dropped here), never on the
suite's shared one: it downgrades the plugin's lineage one step and to its base, the host's one
step, and upgrades back to heads each time, counting rows at every step.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Final

import asyncpg  # type: ignore[import-untyped, unused-ignore]
import pytest
from security_support import (
    WORLD_NAMES,
    Callers,
    assert_ok,
    count_rows,
    fixed_id,
    leaked_labels,
    orphan_fragments,
    reseed_world,
    world_fragment_id,
)
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

# tests/ is on sys.path for pytest (tests/conftest.py); mypy sees this directory alone.
from plugin_host import (  # type: ignore[import-not-found, unused-ignore]
    ALLOW_LIST,
    CONFIGS,
    DEFINITIONS,
    FRAGMENTS,
    Accounts,
    create_accounts,
)
from reference_host import migrate
from reference_host.plugins.discovery import discover_plugins
from reference_host.settings import HostSettings

HOST_TABLES: Final = ("domains", "users", "keypairs")
PLUGIN_TABLES: Final = ("app_config_definitions", "app_config_allow_list", "app_config_fragments")
SCOPES_PER_NAME: Final = 11
"""Seeded fragments per name: public, 2 x (domain, domain_user_defaults), 6 users."""


def _locations() -> list[Path]:
    settings = HostSettings(database_url="postgresql+asyncpg://unused")
    return [p.migration_location for p in discover_plugins(settings) if p.migration_location]


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
async def own_database(server_database_url: str) -> AsyncIterator[str]:
    """A new, empty database for this test only (dropped afterwards)."""
    name = f"sac_security_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(_asyncpg_dsn(server_database_url))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    yield make_url(server_database_url).set(database=name).render_as_string(hide_password=False)
    connection = await asyncpg.connect(_asyncpg_dsn(server_database_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def _migrate(url: str, direction: str, target: str) -> None:
    # Alembic's env runs its own event loop: call it from a thread.
    run = migrate.upgrade if direction == "up" else migrate.downgrade
    await asyncio.to_thread(run, url, _locations(), target)


async def _table_counts(engine: AsyncEngine) -> dict[str, int]:
    """Rows per table of the public schema (tables that do not exist are absent)."""
    async with engine.connect() as connection:
        names = await connection.scalars(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                " AND tablename <> 'alembic_version'"
            )
        )
        counts: dict[str, int] = {}
        for name in sorted(names):
            counts[name] = int(await connection.scalar(text(f'SELECT count(*) FROM "{name}"')) or 0)
        return counts


@pytest.mark.heavy
async def test_migrations_move_a_populated_database_without_losing_surviving_rows(
    own_database: str,
) -> None:
    engine = create_async_engine(own_database, poolclass=NullPool)
    try:
        # The host's lineage first, with accounts in it; then the plugin's on top.
        await _migrate(own_database, "up", "reference_host@head")
        accounts = await create_accounts(engine)
        host_rows = await _table_counts(engine)
        assert set(HOST_TABLES) <= set(host_rows) and all(host_rows.values()), host_rows

        await _migrate(own_database, "up", "heads")
        await reseed_world(engine, accounts)
        populated = await _table_counts(engine)
        assert {t: populated[t] for t in host_rows} == host_rows
        assert populated["app_config_fragments"] == SCOPES_PER_NAME * len(WORLD_NAMES)

        # The plugin's lineage one step down (its newest revision) keeps every row.
        await _migrate(own_database, "down", "scoped_app_config@-1")
        assert await _table_counts(engine) == populated
        await _migrate(own_database, "up", "heads")
        assert await _table_counts(engine) == populated

        # The plugin's lineage down to its base: its tables go, the host's keep every row.
        await _migrate(own_database, "down", "scoped_app_config@base")
        assert await _table_counts(engine) == host_rows
        await _migrate(own_database, "up", "heads")
        await reseed_world(engine, accounts)
        assert await _table_counts(engine) == populated

        # The host's lineage one step down: its tables go, the plugin's keep every row.
        await _migrate(own_database, "down", "reference_host@-1")
        plugin_rows = {t: populated[t] for t in PLUGIN_TABLES}
        assert await _table_counts(engine) == plugin_rows
        await _migrate(own_database, "up", "heads")
        after = await _table_counts(engine)
        assert {t: after[t] for t in PLUGIN_TABLES} == plugin_rows
        assert {t: after[t] for t in HOST_TABLES} == dict.fromkeys(HOST_TABLES, 0)
        assert await orphan_fragments(engine) == 0
    finally:
        await engine.dispose()


@pytest.fixture
async def seeded(callers: Callers, accounts: Accounts, db_engine: AsyncEngine) -> Callers:
    await reseed_world(db_engine, accounts)
    return callers


async def test_purging_a_definition_removes_exactly_its_entries_and_fragments(
    seeded: Callers, db_engine: AsyncEngine
) -> None:
    before = await count_rows(db_engine)
    reply = await seeded.superadmin.delete(f"{DEFINITIONS}/{fixed_id('definition/menu')}")

    assert assert_ok(reply)["id"] == str(fixed_id("definition/menu"))
    after = await count_rows(db_engine)
    assert before == {
        "app_config_definitions": 2,
        "app_config_allow_list": 8,
        "app_config_fragments": 2 * SCOPES_PER_NAME,
    }
    assert after == {
        "app_config_definitions": 1,
        "app_config_allow_list": 4,
        "app_config_fragments": SCOPES_PER_NAME,
    }
    for label in ("public", "user", "domain_b"):
        gone = await seeded.superadmin.get(f"{FRAGMENTS}/{world_fragment_id('menu', label)}")
        kept = await seeded.superadmin.get(f"{FRAGMENTS}/{world_fragment_id('theme', label)}")
        assert (gone.status, kept.status) == (404, 200)


async def test_purging_an_allow_list_entry_removes_exactly_the_fragments_it_admits(
    seeded: Callers, db_engine: AsyncEngine
) -> None:
    view = assert_ok(await seeded.user.post(f"{CONFIGS}/my/get", {"config_names": ["theme"]}))
    assert "user" in leaked_labels(view["app_configs"][0]["config"])  # warm, with own fragment
    before = await count_rows(db_engine)

    entry = fixed_id("allow/theme/user")
    assert_ok(await seeded.superadmin.delete(f"{ALLOW_LIST}/{entry}"))

    after = await count_rows(db_engine)
    users = 6
    assert after == {
        "app_config_definitions": before["app_config_definitions"],
        "app_config_allow_list": before["app_config_allow_list"] - 1,
        "app_config_fragments": before["app_config_fragments"] - users,
    }
    async with db_engine.connect() as connection:
        left = await connection.scalar(
            text(
                "SELECT count(*) FROM app_config_fragments"
                " WHERE config_name = 'theme' AND scope_type = 'user'"
            )
        )
    assert left == 0
    assert await orphan_fragments(db_engine) == 0
    # The warm view no longer holds the purged fragment.
    view = assert_ok(await seeded.user.post(f"{CONFIGS}/my/get", {"config_names": ["theme"]}))
    assert leaked_labels(view["app_configs"][0]["config"]) == {"public", "defaults_a", "domain_a"}


async def test_purging_one_fragment_removes_that_row_only(
    seeded: Callers, db_engine: AsyncEngine
) -> None:
    before = await count_rows(db_engine)
    fragment_id = world_fragment_id("theme", "domain_a")
    assert_ok(await seeded.domain_admin.delete(f"{FRAGMENTS}/{fragment_id}"))

    after = await count_rows(db_engine)
    assert after == {**before, "app_config_fragments": before["app_config_fragments"] - 1}
