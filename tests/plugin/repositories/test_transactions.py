"""Transactions: reads run READ ONLY, writes commit, and the factory is not altered by reads."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from scoped_app_config.repositories.base.db_source import (
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
