"""Security suite fixtures: the reference host with the installed plugin (found by its entry
point), real PostgreSQL and Redis, an account of every role and a signed caller per account.

The database comes from the suite's `database_url` / `db_engine` (tests/conftest.py: migrated
to heads, every table truncated after each test); Redis is flushed after each test.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import web
from security_support import Accounts, Caller, Callers, HostClient, MakeClient, callers_for
from sqlalchemy.ext.asyncio import AsyncEngine

from reference_host.accounts import service
from reference_host.app import create_app
from reference_host.contract import Role
from reference_host.settings import HostSettings

AiohttpClient = Callable[[web.Application], Awaitable[HostClient]]


@pytest.fixture
def make_client(
    aiohttp_client: AiohttpClient,
    database_url: str,
    redis_url: str,
    redis_client: aioredis.Redis,
    db_engine: AsyncEngine,
) -> MakeClient:
    """Build the host app and a test client; `plugin_config` overrides the plugin's section."""

    async def build(
        *, redis_url: str | None = redis_url, plugin_config: Mapping[str, Any] | None = None
    ) -> HostClient:
        settings = HostSettings(
            database_url=database_url,
            redis_url=redis_url,
            plugin_config={"scoped_app_config": dict(plugin_config or {})},
            access_log=False,
        )
        return await aiohttp_client(create_app(settings))

    return build


@pytest.fixture
async def client(make_client: MakeClient) -> HostClient:
    """The host with the plugin and the merged-view cache on (real Redis)."""
    return await make_client()


@pytest.fixture
async def accounts(db_engine: AsyncEngine) -> Accounts:
    superadmin = await service.ensure_superadmin(db_engine, "default", "root@example.com")
    domain_a = await service.create_domain(db_engine, "domain-a")
    domain_b = await service.create_domain(db_engine, "domain-b")
    return Accounts(
        domain_a=domain_a["domain_id"],
        domain_b=domain_b["domain_id"],
        superadmin=superadmin,
        domain_admin=await service.create_user(db_engine, "domain-a", "admin@a.test", Role.ADMIN),
        other_domain_admin=await service.create_user(
            db_engine, "domain-b", "admin@b.test", Role.ADMIN
        ),
        user=await service.create_user(db_engine, "domain-a", "user@a.test", Role.USER),
        other_user=await service.create_user(db_engine, "domain-a", "user2@a.test", Role.USER),
        other_domain_user=await service.create_user(
            db_engine, "domain-b", "user@b.test", Role.USER
        ),
    )


@pytest.fixture
def callers(client: HostClient, accounts: Accounts) -> Callers:
    return callers_for(client, accounts)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if Caller.requests_sent:
        terminalreporter.write_line(
            f"security suite: {Caller.requests_sent} API requests sent by signed test callers"
        )
