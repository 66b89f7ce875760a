"""Helpers for repository tests: in-memory host Protocols, direct row inserts, migrations."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

import scoped_app_config
from reference_host.contract import AccountDirectory, AccountView, LayerMetrics
from scoped_app_config.models import Base
from scoped_app_config.repositories.allow_list import (
    AppConfigAllowListDBSource,
    AppConfigAllowListRepository,
)
from scoped_app_config.repositories.base.db_source import create_session_factory
from scoped_app_config.repositories.definition import (
    AppConfigDefinitionDBSource,
    AppConfigDefinitionRepository,
)
from scoped_app_config.repositories.fragment import (
    AppConfigFragmentDBSource,
    AppConfigFragmentRepository,
)

VERSIONS = Path(scoped_app_config.__file__).parent / "migrations" / "versions"


def run_plugin_migrations(connection: Connection, destination: str) -> None:
    """Upgrade to `scoped_app_config@head` or downgrade to `base`, without an env.py."""
    script = ScriptDirectory(str(VERSIONS.parent), version_locations=[str(VERSIONS)])

    def steps(revision: Any, context: Any) -> Any:
        if destination == "base":
            return script._downgrade_revs(destination, revision)
        return script._upgrade_revs(destination, revision)

    with EnvironmentContext(Config(), script, fn=steps) as environment:
        environment.configure(connection=connection)
        with environment.begin_transaction():
            environment.run_migrations()


async def add_rows(engine: AsyncEngine, *rows: Base) -> None:
    """Insert rows directly, committing them; server defaults are loaded onto the objects."""
    async with async_sessionmaker(engine, expire_on_commit=False).begin() as session:
        session.add_all(rows)
        await session.flush()


Labels = tuple[str, str, str]
"""(domain, layer, operation)"""


@attrs.define
class RecordingLayerMetrics:
    """Implements `contract.LayerMetrics`; counts calls, failures and retries per label triple."""

    calls: Counter[Labels] = attrs.field(factory=Counter)
    failures: Counter[Labels] = attrs.field(factory=Counter)
    retries: Counter[Labels] = attrs.field(factory=Counter)

    def observe(
        self, *, domain: str, layer: str, operation: str
    ) -> AbstractAsyncContextManager[None]:
        return self._observe((domain, layer, operation))

    @asynccontextmanager
    async def _observe(self, labels: Labels) -> AsyncIterator[None]:
        self.calls[labels] += 1
        try:
            yield
        except BaseException:
            self.failures[labels] += 1
            raise

    def count_retry(self, *, domain: str, layer: str, operation: str) -> None:
        self.retries[(domain, layer, operation)] += 1


@attrs.frozen
class InMemoryAccountDirectory:
    """Implements `contract.AccountDirectory` over fixed sets of domains and users."""

    domains: frozenset[uuid.UUID] | set[uuid.UUID]
    users: Mapping[uuid.UUID, AccountView]

    async def domain_exists(self, domain_id: uuid.UUID) -> bool:
        return domain_id in self.domains

    async def find_user(self, user_id: uuid.UUID) -> AccountView | None:
        return self.users.get(user_id)


@attrs.frozen
class AppConfigRepositories:
    """The three repositories over one session factory, as the plugin wires them (no cache)."""

    definitions: AppConfigDefinitionRepository
    allow_list: AppConfigAllowListRepository
    fragments: AppConfigFragmentRepository

    @classmethod
    def build(
        cls, engine: AsyncEngine, layer_metrics: LayerMetrics, accounts: AccountDirectory
    ) -> AppConfigRepositories:
        sessions = create_session_factory(engine)
        return cls(
            definitions=AppConfigDefinitionRepository(
                AppConfigDefinitionDBSource(sessions, layer_metrics), layer_metrics
            ),
            allow_list=AppConfigAllowListRepository(
                AppConfigAllowListDBSource(sessions, layer_metrics), layer_metrics
            ),
            fragments=AppConfigFragmentRepository(
                AppConfigFragmentDBSource(sessions, layer_metrics), accounts, layer_metrics
            ),
        )
