"""Security suite fixtures: the reference host with the installed plugin (found by its entry
point), real PostgreSQL and Redis, an account of every role and a signed caller per account.

The database comes from the suite's `database_url` / `db_engine` (tests/conftest.py: migrated
to heads, every table truncated after each test); Redis is flushed after each test.
"""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from security_support import Caller, Callers, callers_for
from sqlalchemy.ext.asyncio import AsyncEngine

# tests/ is on sys.path for pytest (tests/conftest.py); mypy sees this directory alone.
from plugin_host import (  # type: ignore[import-not-found, unused-ignore]
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
    """Build the host app and a test client; `plugin_config` overrides the plugin's section."""
    return app_client_factory(aiohttp_client, database_url, redis_url)


@pytest.fixture
async def client(make_client: MakeClient) -> HostClient:
    """The host with the plugin and the merged-view cache on (real Redis)."""
    return await make_client()


@pytest.fixture
async def accounts(db_engine: AsyncEngine) -> Accounts:
    return await create_accounts(db_engine)


@pytest.fixture
def callers(client: HostClient, accounts: Accounts) -> Callers:
    return callers_for(client, accounts)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if Caller.requests_sent:
        terminalreporter.write_line(
            f"security suite: {Caller.requests_sent} API requests sent by signed test callers"
        )
