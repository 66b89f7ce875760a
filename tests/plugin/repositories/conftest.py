"""Repository-test fixtures: a migrated database, the repositories, and scenario rows.

Scenario fixtures insert rows directly (never through the code under test) and are named after
the situation they set up; tests derive their expectations from what the fixtures return.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from repository_support import (
    AppConfigRepositories,
    InMemoryAccountDirectory,
    RecordingLayerMetrics,
    add_rows,
)
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from reference_host.contract import AccountView, Role
from scoped_app_config.domain.types import DEFAULT_ALLOW_LIST_RANKS, ScopeType
from scoped_app_config.models import AllowListRow, DefinitionRow, FragmentRow


@pytest.fixture
def layer_metrics() -> RecordingLayerMetrics:
    return RecordingLayerMetrics()


@pytest.fixture
def known_domain() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
def known_user() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
def account_directory(known_domain: uuid.UUID, known_user: uuid.UUID) -> InMemoryAccountDirectory:
    return InMemoryAccountDirectory(
        domains={known_domain},
        users={known_user: AccountView(user_id=known_user, domain_id=known_domain, role=Role.USER)},
    )


@pytest.fixture
def repositories(
    db_engine: AsyncEngine,
    layer_metrics: RecordingLayerMetrics,
    account_directory: InMemoryAccountDirectory,
) -> AppConfigRepositories:
    return AppConfigRepositories.build(db_engine, layer_metrics, account_directory)


@pytest.fixture
async def theme_registered(db_engine: AsyncEngine) -> DefinitionRow:
    row = DefinitionRow(config_name="theme")
    await add_rows(db_engine, row)
    return row


@pytest.fixture
async def menu_registered(db_engine: AsyncEngine) -> DefinitionRow:
    row = DefinitionRow(config_name="menu")
    await add_rows(db_engine, row)
    return row


async def _allow_everywhere(engine: AsyncEngine, config_name: str) -> dict[ScopeType, AllowListRow]:
    entries = {
        scope_type: AllowListRow(config_name=config_name, scope_type=scope_type, rank=rank)
        for scope_type, rank in DEFAULT_ALLOW_LIST_RANKS.items()
    }
    await add_rows(engine, *entries.values())
    return entries


@pytest.fixture
async def theme_allowed_everywhere(
    db_engine: AsyncEngine, theme_registered: DefinitionRow
) -> dict[ScopeType, AllowListRow]:
    """`theme` with an allow-list entry at every scope type, at the default ranks."""
    return await _allow_everywhere(db_engine, theme_registered.config_name)


@pytest.fixture
async def menu_allowed_everywhere(
    db_engine: AsyncEngine, menu_registered: DefinitionRow
) -> dict[ScopeType, AllowListRow]:
    return await _allow_everywhere(db_engine, menu_registered.config_name)


@pytest.fixture
async def theme_allowed_only_publicly(
    db_engine: AsyncEngine, theme_registered: DefinitionRow
) -> AllowListRow:
    entry = AllowListRow(config_name="theme", scope_type=ScopeType.PUBLIC, rank=100)
    await add_rows(db_engine, entry)
    return entry


@pytest.fixture
async def domain_scoped_fragment(
    db_engine: AsyncEngine,
    theme_allowed_everywhere: dict[ScopeType, AllowListRow],
    known_domain: uuid.UUID,
) -> FragmentRow:
    row = FragmentRow(
        config_name="theme",
        scope_type=ScopeType.DOMAIN,
        scope_id=known_domain,
        rank=100,
        config={"color": "blue", "font": {"size": 12}},
    )
    await add_rows(db_engine, row)
    return row


@pytest.fixture
async def fragments_across_scopes(
    db_engine: AsyncEngine,
    theme_allowed_everywhere: dict[ScopeType, AllowListRow],
    menu_allowed_everywhere: dict[ScopeType, AllowListRow],
    known_domain: uuid.UUID,
    known_user: uuid.UUID,
) -> dict[str, FragmentRow]:
    """`theme` and `menu` at every scope of the known user, plus another domain's and user's.

    Keys: `<name>:<scope_type>` for the known user's scopes, `<name>:other_domain` and
    `<name>:other_user` for the rows nobody but those accounts may see. Ranks ascend in key order.
    """
    other_domain, other_user = uuid.uuid4(), uuid.uuid4()
    rows: dict[str, FragmentRow] = {}
    rank = 0
    for name in ("theme", "menu"):
        scopes: list[tuple[str, ScopeType, uuid.UUID | None]] = [
            (ScopeType.PUBLIC.value, ScopeType.PUBLIC, None),
            (ScopeType.DOMAIN_USER_DEFAULTS.value, ScopeType.DOMAIN_USER_DEFAULTS, known_domain),
            (ScopeType.DOMAIN.value, ScopeType.DOMAIN, known_domain),
            (ScopeType.USER.value, ScopeType.USER, known_user),
            ("other_domain", ScopeType.DOMAIN, other_domain),
            ("other_user", ScopeType.USER, other_user),
        ]
        for label, scope_type, scope_id in scopes:
            rank += 100
            rows[f"{name}:{label}"] = FragmentRow(
                config_name=name,
                scope_type=scope_type,
                scope_id=scope_id,
                rank=rank,
                config={"set_by": f"{name}:{label}"},
            )
    await add_rows(db_engine, *rows.values())
    return rows


@pytest.fixture
def statement_log(db_engine: AsyncEngine) -> Iterator[list[str]]:
    """Every SQL statement the engine sends to the server while the test runs."""

    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(db_engine.sync_engine, "before_cursor_execute", record)
    yield statements
    event.remove(db_engine.sync_engine, "before_cursor_execute", record)
