"""Transactions: reads run READ ONLY, writes commit, the factory is not altered by reads, and
a connection lent out in autocommit comes back to the pool transactional."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from scoped_app_config.repositories.base.db_source import (
    autocommit_connection,
    begin_core_write,
    begin_read,
    begin_write,
    create_session_factory,
)


class TestTransactions:
    async def test_reads_are_read_only_and_writes_are_not(self, db_engine: AsyncEngine) -> None:
        sessions = create_session_factory(db_engine)

        async with begin_read(sessions) as session:
            during_read = await session.scalar(text("SHOW transaction_read_only"))
        async with begin_write(sessions) as session:
            during_write = await session.scalar(text("SHOW transaction_read_only"))

        assert (during_read, during_write) == ("on", "off")

    async def test_write_inside_a_read_transaction_fails(self, db_engine: AsyncEngine) -> None:
        sessions = create_session_factory(db_engine)

        with pytest.raises(DBAPIError):
            async with begin_read(sessions) as session:
                await session.execute(
                    text("INSERT INTO app_config_definitions (config_name) VALUES ('x')")
                )

    async def test_autocommit_does_not_outlive_its_block(self, database_url: str) -> None:
        """One pooled connection: statements in `autocommit_connection` each run in their own
        transaction; a write on the same connection afterwards is one transaction again."""
        engine = create_async_engine(database_url, pool_size=1, max_overflow=0)
        sessions = create_session_factory(engine)
        transaction_and_session = text("SELECT txid_current(), pg_backend_pid()")

        async def two_statements(connection: AsyncConnection) -> list[tuple[int, int]]:
            return [
                tuple((await connection.execute(transaction_and_session)).one())
                for _ in range(2)
            ]

        try:
            async with autocommit_connection(sessions) as connection:
                in_autocommit = await two_statements(connection)
            async with begin_core_write(sessions) as connection:
                in_write = await two_statements(connection)
        finally:
            await engine.dispose()

        assert len({pid for _, pid in in_autocommit + in_write}) == 1  # one server session
        assert len({xid for xid, _ in in_autocommit}) == 2
        assert len({xid for xid, _ in in_write}) == 1
