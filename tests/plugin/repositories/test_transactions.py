"""Transactions: reads run READ ONLY, writes commit, the factory is not altered by reads, and
calls take turns at a busy pool."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

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

    async def test_calls_take_turns_at_a_busy_pool(self, database_url: str) -> None:
        """Four pooled connections and 64 callers that each take one again as soon as they give
        it back: while another call waits and runs, each of them finishes at most one turn, and
        the three sharing the pool with it one more (SQLAlchemy's pool alone let some calls wait
        two to five times as long while later callers went ahead)."""
        pool_size = 4
        engine = create_async_engine(database_url, pool_size=pool_size, max_overflow=0)
        sessions = create_session_factory(engine)
        busy_callers = 64
        busy_turns = 0
        stop = asyncio.Event()
        all_busy = asyncio.Event()

        async def one_read() -> None:
            async with begin_read(sessions) as session:
                await session.execute(text("SELECT 1"))

        async def busy() -> None:
            nonlocal busy_turns
            while not stop.is_set():
                await one_read()
                busy_turns += 1
                if busy_turns >= busy_callers:
                    all_busy.set()

        running = [asyncio.ensure_future(busy()) for _ in range(busy_callers)]
        waited: list[int] = []
        try:
            await all_busy.wait()
            for _ in range(10):
                before = busy_turns
                async with asyncio.timeout(30):  # a backstop: a starved call would hang
                    await one_read()
                waited.append(busy_turns - before)
        finally:
            stop.set()
            await asyncio.gather(*running)
            await engine.dispose()

        assert max(waited) <= busy_callers + pool_size - 1, waited
