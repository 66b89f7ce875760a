"""Core statements run on the pooled asyncpg connection: autocommit, bind processors, and a
connection that ended handled like SQLAlchemy's disconnects (invalidated, ConnectionError)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import bindparam, func, literal, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from databases import terminate_backend
from scoped_app_config.domain.types import ScopeType
from scoped_app_config.models import FragmentRow
from scoped_app_config.repositories.base.db_source import (
    SessionFactory,
    begin_core_write,
    create_session_factory,
)
from scoped_app_config.repositories.base.driver_statement import DriverStatement

SESSION_AND_TRANSACTION = DriverStatement(
    select(func.pg_backend_pid().label("pid"), func.txid_current().label("xid"))
)


@pytest.fixture
async def one_connection(database_url: str) -> AsyncIterator[SessionFactory]:
    """A session factory on a pool of exactly one connection."""
    engine = create_async_engine(database_url, pool_size=1, max_overflow=0)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


async def _session(sessions: SessionFactory) -> tuple[int, int]:
    row = await SESSION_AND_TRANSACTION.fetch_one(sessions, {})
    assert row is not None
    return row["pid"], row["xid"]


class TestDriverStatement:
    async def test_runs_in_autocommit_and_leaves_the_connection_transactional(
        self, one_connection: SessionFactory
    ) -> None:
        async def two_statements(connection: AsyncConnection) -> list[tuple[int, int]]:
            statement = text("SELECT pg_backend_pid(), txid_current()")
            return [tuple((await connection.execute(statement)).one()) for _ in range(2)]

        in_autocommit = [await _session(one_connection) for _ in range(2)]
        async with begin_core_write(one_connection) as connection:
            in_write = await two_statements(connection)

        assert len({pid for pid, _ in in_autocommit + in_write}) == 1  # one server session
        assert len({xid for _, xid in in_autocommit}) == 2
        assert len({xid for _, xid in in_write}) == 1

    async def test_parameters_go_through_their_types_bind_processors(
        self, one_connection: SessionFactory
    ) -> None:
        scope_type = FragmentRow.__table__.c.scope_type.type
        statement = DriverStatement(
            select(
                bindparam("doc", type_=JSONB).label("doc"),
                bindparam("scope", type_=scope_type).label("scope"),
            )
        )

        row = await statement.fetch_one(
            one_connection, {"doc": {"a": [1, "x"], "b": None}, "scope": ScopeType.DOMAIN}
        )

        assert row is not None
        assert (row["doc"], row["scope"]) == ({"a": [1, "x"], "b": None}, "domain")

    async def test_a_pooled_connection_the_server_ended_is_not_used(
        self, one_connection: SessionFactory, db_engine: AsyncEngine
    ) -> None:
        before, _ = await _session(one_connection)
        await terminate_backend(db_engine, before)
        await asyncio.sleep(0.2)  # asyncpg reads the server's goodbye on the pooled connection

        after, _ = await _session(one_connection)

        assert after != before

    async def test_a_connection_lost_mid_statement_raises_connection_error_and_is_replaced(
        self, one_connection: SessionFactory
    ) -> None:
        before, _ = await _session(one_connection)
        suicide = DriverStatement(select(func.pg_terminate_backend(func.pg_backend_pid())))

        with pytest.raises(ConnectionError):
            await suicide.fetch_one(one_connection, {})
        after, _ = await _session(one_connection)

        assert after != before

    async def test_other_failures_pass_through_and_keep_the_connection(
        self, one_connection: SessionFactory
    ) -> None:
        before, _ = await _session(one_connection)
        divide = DriverStatement(select((literal(1) / bindparam("zero")).label("q")))

        with pytest.raises(asyncpg.DivisionByZeroError):
            await divide.fetch_one(one_connection, {"zero": 0})
        after, _ = await _session(one_connection)

        assert after == before

    def test_needs_asyncpg(self) -> None:
        with pytest.raises(RuntimeError, match="asyncpg"):
            DriverStatement(select(literal(1))).compiled_for(postgresql.psycopg.dialect())

    async def test_a_cancelled_statement_leaves_a_usable_pool(
        self, one_connection: SessionFactory
    ) -> None:
        sleeping = DriverStatement(select(func.pg_sleep(5)))
        call = asyncio.ensure_future(sleeping.fetch_one(one_connection, {}))
        await asyncio.sleep(0.3)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call

        async with asyncio.timeout(2):
            pid, _ = await _session(one_connection)

        assert pid > 0

    async def test_failing_to_connect_raises_what_the_core_path_raises(
        self, database_url: str
    ) -> None:
        """A database that does not exist: the server refuses the session after the socket
        connected, so the driver's error is SQLAlchemy's to wrap, on both paths alike."""
        missing = make_url(database_url).set(database="sac_no_such_database")
        engine = create_async_engine(missing)
        try:
            with pytest.raises(DBAPIError) as core:
                async with engine.connect():
                    pass
            with pytest.raises(DBAPIError) as driver:
                await DriverStatement(select(literal(1))).fetch_one(
                    create_session_factory(engine), {}
                )
        finally:
            await engine.dispose()

        assert type(driver.value) is type(core.value)
        assert driver.value.connection_invalidated == core.value.connection_invalidated
