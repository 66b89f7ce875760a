"""Scenario types and helpers of the API tests (test modules import these, never conftest)."""

from __future__ import annotations

from typing import Any

import attrs
from api_support import (
    ApiCaller,
    Registration,
)
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

# tests/ is on sys.path for pytest (tests/conftest.py); mypy sees this directory alone.
from plugin_host import (  # type: ignore[import-not-found, unused-ignore]
    Accounts,
    HostClient,
    callers_by_label,
)

UNREACHABLE_REDIS_URL = "redis://127.0.0.1:1/0"
"""Nothing listens on port 1: every Redis call fails at once (connection refused)."""


@attrs.frozen
class Callers:
    anonymous: ApiCaller
    superadmin: ApiCaller
    domain_admin: ApiCaller
    other_domain_admin: ApiCaller
    user: ApiCaller
    other_user: ApiCaller
    other_domain_user: ApiCaller

    def by_label(self, label: str) -> ApiCaller:
        caller = getattr(self, label)
        assert isinstance(caller, ApiCaller)
        return caller


def callers_for(client: HostClient, accounts: Accounts) -> Callers:
    return Callers(**callers_by_label(ApiCaller, client, accounts))


async def insert_rows(engine: AsyncEngine, *rows: Any) -> None:
    async with async_sessionmaker(engine, expire_on_commit=False).begin() as session:
        session.add_all(rows)
        await session.flush()


@attrs.frozen
class ThemeEverywhere:
    """`theme` fragments at every scope that matters to the user of domain A, plus others'.

    Keys of `fragments` (in creation order, ranks 100, 200, ...): public, domain_user_defaults,
    domain, user, other_user, domain_b, other_domain_user. Each config is
    {"set_by": <key>, <key>: true}.
    """

    registration: Registration
    fragments: dict[str, dict[str, Any]]

    def id_of(self, key: str) -> str:
        fragment_id: str = self.fragments[key]["id"]
        return fragment_id


def theme_config(key: str) -> dict[str, Any]:
    return {"set_by": key, key: True}
