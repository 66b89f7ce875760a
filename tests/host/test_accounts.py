"""Account operations on the migrated database, and the mapping matching the migration."""

from __future__ import annotations

import re
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from reference_host.accounts import service
from reference_host.accounts.directory import HostAccountDirectory
from reference_host.accounts.errors import AccountConflict, DomainNotFound, KeypairNotFound
from reference_host.accounts.tables import AccountsBase
from reference_host.contract import Role


async def test_create_user_returns_backendai_style_keypair(db_engine: AsyncEngine) -> None:
    domain = await service.create_domain(db_engine, "research")
    user = await service.create_user(db_engine, "research", "ann@example.com", "admin")
    assert user["domain_id"] == domain["domain_id"]
    assert user["domain_name"] == "research"
    assert user["role"] is Role.ADMIN
    assert re.fullmatch(r"AKIA[A-Z0-9]{16}", user["access_key"])
    assert len(user["secret_key"]) == 40


async def test_create_domain_twice_is_a_conflict(db_engine: AsyncEngine) -> None:
    await service.create_domain(db_engine, "research")
    with pytest.raises(AccountConflict):
        await service.create_domain(db_engine, "research")


async def test_create_user_with_taken_email_is_a_conflict(db_engine: AsyncEngine) -> None:
    await service.create_domain(db_engine, "research")
    await service.create_user(db_engine, "research", "ann@example.com", Role.USER)
    with pytest.raises(AccountConflict):
        await service.create_user(db_engine, "research", "ann@example.com", Role.USER)


async def test_create_user_in_missing_domain_is_rejected(db_engine: AsyncEngine) -> None:
    with pytest.raises(DomainNotFound):
        await service.create_user(db_engine, "nowhere", "ann@example.com", Role.USER)


async def test_ensure_superadmin_is_idempotent(db_engine: AsyncEngine) -> None:
    first = await service.ensure_superadmin(db_engine)
    second = await service.ensure_superadmin(db_engine)
    assert first == second
    assert first["role"] is Role.SUPERADMIN
    assert (first["email"], first["domain_name"]) == ("admin@example.com", "default")


async def test_ensure_superadmin_issues_new_keypair_after_deactivation(
    db_engine: AsyncEngine,
) -> None:
    first = await service.ensure_superadmin(db_engine)
    await service.deactivate_keypair(db_engine, first["access_key"])
    second = await service.ensure_superadmin(db_engine)
    assert second["access_key"] != first["access_key"]
    assert second["user_id"] == first["user_id"]


async def test_deactivating_unknown_keypair_is_rejected(db_engine: AsyncEngine) -> None:
    with pytest.raises(KeypairNotFound):
        await service.deactivate_keypair(db_engine, "AKIANOTAREALKEY00000")


async def test_directory_reports_existing_accounts_only(db_engine: AsyncEngine) -> None:
    admin = await service.ensure_superadmin(db_engine)
    directory = HostAccountDirectory(db_engine)
    assert await directory.domain_exists(admin["domain_id"])
    assert not await directory.domain_exists(uuid.uuid4())
    view = await directory.find_user(admin["user_id"])
    assert view is not None
    assert (view.user_id, view.domain_id, view.role) == (
        admin["user_id"],
        admin["domain_id"],
        Role.SUPERADMIN,
    )
    assert type(view.user_id) is uuid.UUID
    assert await directory.find_user(uuid.uuid4()) is None


def _only_account_tables(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    table = obj if type_ == "table" else getattr(obj, "table", None)
    return getattr(table, "name", None) in AccountsBase.metadata.tables


def _account_differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"include_object": _only_account_tables, "compare_type": True}
    )
    return list(compare_metadata(context, AccountsBase.metadata))


async def test_migration_matches_the_table_mapping(db_engine: AsyncEngine) -> None:
    async with db_engine.connect() as connection:
        assert await connection.run_sync(_account_differences) == []
