"""Real servers for the whole suite: PostgreSQL and Redis, embedded unless URLs are given.

REFERENCE_HOST_DATABASE_URL / REFERENCE_HOST_REDIS_URL select external servers. On an external
PostgreSQL the suite creates its own throw-away database and drops it afterwards; on an external
Redis it uses the given database number and flushes it between tests.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import hypothesis
import pytest
import redis.asyncio as aioredis
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from databases import create_database, drop_database
from reference_host import migrate
from reference_host.embedded import EmbeddedPostgres, EmbeddedRedis
from reference_host.servers import normalize_database_url
from reference_host.settings import DATABASE_URL_ENV, REDIS_URL_ENV, HostSettings

# The host-with-plugin fixtures the HTTP API and security suites share.
pytest_plugins = ["plugin_host_fixtures"]

# Property tests check behaviour, not speed: hypothesis's 200 ms deadline per example failed a
# merge-identity test once on this 2-core machine while servers ran beside the suite.
hypothesis.settings.register_profile("no_deadline", deadline=None)
hypothesis.settings.load_profile("no_deadline")


@pytest.fixture(scope="session")
def work_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="sac-tests-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def embedded_postgres(work_dir: Path) -> Iterator[EmbeddedPostgres | None]:
    """The embedded server when no external URL is given (fault tests restart it)."""
    if os.environ.get(DATABASE_URL_ENV):
        yield None
        return
    server = EmbeddedPostgres(work_dir / "pg")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def server_database_url(embedded_postgres: EmbeddedPostgres | None) -> str:
    """A URL of the PostgreSQL server (maintenance database)."""
    if embedded_postgres is not None:
        return embedded_postgres.url
    return normalize_database_url(os.environ[DATABASE_URL_ENV])


@pytest.fixture(scope="session")
def fresh_database(server_database_url: str) -> Iterator[str]:
    """Factory-less helper: one new empty database for the session, dropped afterwards."""
    name = f"sac_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(create_database(server_database_url, name))
    url = make_url(server_database_url).set(database=name).render_as_string(hide_password=False)
    yield url
    asyncio.run(drop_database(server_database_url, name))


def plugin_migration_locations() -> list[Path]:
    from reference_host.plugins.discovery import discover_plugins

    settings = HostSettings(database_url="postgresql+asyncpg://unused")
    return [p.migration_location for p in discover_plugins(settings) if p.migration_location]


@pytest.fixture(scope="session")
def database_url(fresh_database: str) -> str:
    """A database migrated to heads (the host's and every plugin's lineage)."""
    migrate.upgrade(fresh_database, plugin_migration_locations(), "heads")
    return fresh_database


async def truncate_all(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        rows = await connection.exec_driver_sql(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename <> 'alembic_version'"
        )
        tables = [f'"{row[0]}"' for row in rows]
        if tables:
            await connection.exec_driver_sql(f"TRUNCATE {', '.join(tables)} CASCADE")


@pytest.fixture
async def db_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the migrated database; every table is emptied after the test."""
    engine = create_async_engine(database_url, pool_size=20, max_overflow=40)
    try:
        yield engine
    finally:
        await truncate_all(engine)
        await engine.dispose()


@pytest.fixture(scope="session")
def redis_url(work_dir: Path) -> Iterator[str]:
    external = os.environ.get(REDIS_URL_ENV)
    if external:
        yield external
        return
    server = EmbeddedRedis(work_dir / "redis")
    url = server.start()
    yield url
    server.stop()


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A client on the test Redis; the database is flushed after the test."""
    client = aioredis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.flushdb()
        await client.aclose()
