"""The fixtures the HTTP API and security suites share: the host with the installed plugin on
real PostgreSQL and Redis, and an account of every role. Each suite's conftest imports them
(pytest then registers them there) and adds its own signed callers.

The database comes from the suite's `database_url` / `db_engine` (tests/conftest.py: migrated
to heads, every table truncated after each test); Redis is flushed after each test.
"""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncEngine

from plugin_host import (
    Accounts,
    AiohttpClient,
    HostClient,
    MakeClient,
    app_client_factory,
    create_accounts,
)


@pytest.fixture
def make_client(
    aiohttp_client: AiohttpClient,
    database_url: str,
    redis_url: str,
    redis_client: aioredis.Redis,
    db_engine: AsyncEngine,
) -> MakeClient:
    """Build the host app (plugins discovered by entry point) and a test client for it.

    Defaults: the suite's Redis (flushed after the test by `redis_client`) and the manifest's
    plugin config; `plugin_config` overrides keys of the plugin's section.
    """
    return app_client_factory(aiohttp_client, database_url, redis_url)


@pytest.fixture
async def client(make_client: MakeClient) -> HostClient:
    """The host with the plugin, the merged-view cache on (real Redis)."""
    return await make_client()


@pytest.fixture
async def accounts(db_engine: AsyncEngine) -> Accounts:
    """Three domains and six accounts with a keypair each, inserted in one transaction."""
    return await create_accounts(db_engine)
