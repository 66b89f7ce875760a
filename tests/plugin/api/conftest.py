"""HTTP API fixtures: the shared host and accounts (tests/plugin_host_fixtures.py), a signed
caller per account, and scenario fixtures named after the situation they set up (created
through the API as a superadmin).

Accounts: the superadmin lives in its own domain ("default"); domain A holds the domain admin,
the user and another user; domain B holds the other-domain admin and the other-domain user.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Final

import pytest
from api_scenarios import (
    Callers,
    ThemeEverywhere,
    callers_for,
    insert_rows,
    theme_config,
)
from api_support import (
    DEFAULT_RANKS,
    ApiCaller,
    Registration,
    assert_ok,
    register,
    scope,
    upsert,
)
from sqlalchemy.ext.asyncio import AsyncEngine

# tests/ is on sys.path for pytest (tests/conftest.py); mypy sees this directory alone.
from plugin_host import (  # type: ignore[import-not-found, unused-ignore]
    ALLOW_LIST,
    DEFINITIONS,
    FRAGMENTS,
    Accounts,
    HostClient,
)
from scoped_app_config.domain.types import ScopeType
from scoped_app_config.models import AllowListRow, DefinitionRow, FragmentRow


@pytest.fixture
def callers(client: HostClient, accounts: Accounts) -> Callers:
    return callers_for(client, accounts)


@pytest.fixture
def superadmin(callers: Callers) -> ApiCaller:
    return callers.superadmin


# Scenario fixtures -----------------------------------------------------------------------------
# Rows are inserted directly (one transaction each) and read back through the API once, so the
# fixtures hand tests the exact nodes the API answers with.

ANY_SCOPE_TYPE: Final = {"OR": [{"scope_type": {"equals": "domain_user_defaults"}}]}
"""A search filter that names domain_user_defaults, so such rows are not hidden."""


async def register_directly(
    engine: AsyncEngine, superadmin: ApiCaller, config_name: str, ranks: Mapping[str, int]
) -> Registration:
    """Insert a definition and its allow-list entries; return their nodes as the API shows them."""
    await insert_rows(engine, DefinitionRow(config_name=config_name))
    await insert_rows(
        engine,
        *(
            AllowListRow(config_name=config_name, scope_type=ScopeType(scope_type), rank=rank)
            for scope_type, rank in ranks.items()
        ),
    )
    name_filter = {"config_name": {"equals": config_name}}
    definitions = await superadmin.post(f"{DEFINITIONS}/search", {"filter": name_filter})
    [definition] = assert_ok(definitions)["items"]
    entries = await superadmin.post(
        f"{ALLOW_LIST}/search",
        {"filter": {**name_filter, "OR": [ANY_SCOPE_TYPE, {"NOT": [ANY_SCOPE_TYPE]}]}},
    )
    by_scope_type = {entry["scope_type"]: entry for entry in assert_ok(entries)["items"]}
    assert set(by_scope_type) == set(ranks)
    return Registration(definition, by_scope_type)


@pytest.fixture
async def theme_registered_everywhere(
    db_engine: AsyncEngine, superadmin: ApiCaller
) -> Registration:
    """`theme` registered with an allow-list entry at all four scope types (default ranks)."""
    return await register_directly(db_engine, superadmin, "theme", DEFAULT_RANKS)


@pytest.fixture
async def menu_registered_everywhere(db_engine: AsyncEngine, superadmin: ApiCaller) -> Registration:
    return await register_directly(db_engine, superadmin, "menu", DEFAULT_RANKS)


@pytest.fixture
async def theme_fragments_everywhere(
    db_engine: AsyncEngine,
    superadmin: ApiCaller,
    accounts: Accounts,
    theme_registered_everywhere: Registration,
) -> ThemeEverywhere:
    targets: dict[str, tuple[ScopeType, uuid.UUID | None]] = {
        "public": (ScopeType.PUBLIC, None),
        "domain_user_defaults": (ScopeType.DOMAIN_USER_DEFAULTS, accounts.domain_a),
        "domain": (ScopeType.DOMAIN, accounts.domain_a),
        "user": (ScopeType.USER, accounts.user["user_id"]),
        "other_user": (ScopeType.USER, accounts.other_user["user_id"]),
        "domain_b": (ScopeType.DOMAIN, accounts.domain_b),
        "other_domain_user": (ScopeType.USER, accounts.other_domain_user["user_id"]),
    }
    start = dt.datetime.now(dt.UTC)
    rows = {
        key: FragmentRow(
            config_name="theme",
            scope_type=scope_type,
            scope_id=scope_id,
            rank=100 * (position + 1),
            config=theme_config(key),
            # Distinct creation times, in key order, so time orderings are well defined.
            created_at=start + dt.timedelta(milliseconds=position),
            updated_at=start + dt.timedelta(milliseconds=position),
        )
        for position, (key, (scope_type, scope_id)) in enumerate(targets.items())
    }
    await insert_rows(db_engine, *rows.values())
    found = await superadmin.post(
        f"{FRAGMENTS}/admin/search", {"filter": {"OR": [ANY_SCOPE_TYPE, {"NOT": [ANY_SCOPE_TYPE]}]}}
    )
    by_id = {node["id"]: node for node in assert_ok(found)["items"]}
    fragments = {key: by_id[str(row.id)] for key, row in rows.items()}
    return ThemeEverywhere(theme_registered_everywhere, fragments)


@pytest.fixture
async def domain_value_locked(superadmin: ApiCaller, accounts: Accounts) -> Registration:
    """`theme` writable at public and domain only (no user entry); domain A sets a color."""
    registration = await register(superadmin, "theme", {"public": None, "domain": None})
    await upsert(superadmin, scope("domain", accounts.domain_a), {"theme": {"color": "navy"}})
    return registration
