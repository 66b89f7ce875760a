"""Pooled connections the server dropped: reads retry once instead of failing (no pre-ping)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from databases import terminate_backend
from plugin_host import HostClient
from reference_host.accounts.service import UserCredentials
from reference_host.auth import keypair_cache
from reference_host.database import read_reconnecting
from reference_host.keys import ENGINE_KEY
from reference_host.resources import build_engine
from reference_host.settings import HostSettings
from signing import host_of, signed_headers


async def backend_pid(conn: AsyncConnection) -> int:
    return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def terminate_pooled(engine: AsyncEngine, db_engine: AsyncEngine) -> int:
    """Kill the connection `engine` pools (it has used one), as a server restart would."""
    async with engine.connect() as conn:
        pid = await backend_pid(conn)
    await terminate_backend(db_engine, pid)
    return pid


@pytest.fixture
async def host_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = build_engine(HostSettings(database_url=database_url, db_pool_size=1))
    yield engine
    await engine.dispose()


class TestReadReconnecting:
    async def test_the_host_engine_does_not_ping_by_default(
        self, host_engine: AsyncEngine, db_engine: AsyncEngine
    ) -> None:
        await terminate_pooled(host_engine, db_engine)
        with pytest.raises(DBAPIError) as raised:
            async with host_engine.connect() as conn:
                await backend_pid(conn)
        assert raised.value.connection_invalidated

    async def test_a_read_on_a_dead_pooled_connection_is_repeated_on_a_fresh_one(
        self, host_engine: AsyncEngine, db_engine: AsyncEngine
    ) -> None:
        killed = await terminate_pooled(host_engine, db_engine)
        assert await read_reconnecting(host_engine, backend_pid) != killed

    async def test_other_database_errors_are_not_repeated(self, host_engine: AsyncEngine) -> None:
        calls = 0

        async def broken(conn: AsyncConnection) -> None:
            nonlocal calls
            calls += 1
            await conn.execute(text("SELECT no_such_column FROM pg_class"))

        with pytest.raises(DBAPIError):
            await read_reconnecting(host_engine, broken)
        assert calls == 1


class TestSignedRequestsAfterTheDatabaseDroppedConnections:
    async def test_authentication_reads_the_keypair_on_a_fresh_connection(
        self, client: HostClient, plain_user: UserCredentials, db_engine: AsyncEngine
    ) -> None:
        path = "/probe/authenticated"
        engine = client.server.app[ENGINE_KEY]

        async def get() -> int:
            headers = signed_headers(
                "GET", path, plain_user["access_key"], plain_user["secret_key"], host_of(client)
            )
            async with client.get(path, headers=headers) as response:
                return response.status

        assert await get() == 200
        await terminate_pooled(engine, db_engine)
        keypair_cache.invalidate_keypair(plain_user["access_key"])  # make auth read the database
        assert await get() == 200
