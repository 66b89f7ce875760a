"""HTTP API fixtures: the reference host with the installed plugin (found by its entry point),
real PostgreSQL and Redis, an account of every role, a signed caller per account, and scenario
fixtures named after the situation they set up (created through the API as a superadmin).

Accounts: the superadmin lives in its own domain ("default"); domain A holds the domain admin,
the user and another user; domain B holds the other-domain admin and the other-domain user.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, Protocol

import attrs
import pytest
import redis.asyncio as aioredis
from aiohttp import web
from api_support import (
    ALLOW_LIST,
    DEFAULT_RANKS,
    DEFINITIONS,
    FRAGMENTS,
    ApiCaller,
    HostClient,
    Registration,
    assert_ok,
    register,
    scope,
    upsert,
)
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from reference_host.accounts import db_source
from reference_host.accounts.service import UserCredentials
from reference_host.app import create_app
from reference_host.contract import Role
from reference_host.settings import HostSettings
from scoped_app_config.domain.types import ScopeType
from scoped_app_config.models import AllowListRow, DefinitionRow, FragmentRow

AiohttpClient = Callable[[web.Application], Awaitable[HostClient]]

UNREACHABLE_REDIS_URL = "redis://127.0.0.1:1/0"
"""Nothing listens on port 1: every Redis call fails at once (connection refused)."""


class MakeClient(Protocol):
    def __call__(
        self, *, redis_url: str | None = ..., plugin_config: Mapping[str, Any] | None = ...
    ) -> Awaitable[HostClient]: ...


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
    """The host with the plugin, the cache on (real Redis)."""
    return await make_client()


@attrs.frozen
class Accounts:
    domain_a: uuid.UUID
    domain_b: uuid.UUID
    superadmin: UserCredentials
    domain_admin: UserCredentials
    other_domain_admin: UserCredentials
    user: UserCredentials
    other_user: UserCredentials
    other_domain_user: UserCredentials


ACCOUNT_LAYOUT: Final = (
    # (field of Accounts, domain, email, role)
    ("superadmin", "default", "root@example.com", Role.SUPERADMIN),
    ("domain_admin", "domain-a", "admin@a.test", Role.ADMIN),
    ("other_domain_admin", "domain-b", "admin@b.test", Role.ADMIN),
    ("user", "domain-a", "user@a.test", Role.USER),
    ("other_user", "domain-a", "user2@a.test", Role.USER),
    ("other_domain_user", "domain-b", "user@b.test", Role.USER),
)


@pytest.fixture
async def accounts(db_engine: AsyncEngine) -> Accounts:
    """Three domains and six accounts with a keypair each, inserted in one transaction (the
    host's account db_source, as `reference_host.accounts.service` uses it)."""
    credentials: dict[str, UserCredentials] = {}
    async with db_engine.begin() as conn:
        domains = {
            name: await db_source.insert_domain(conn, name)
            for name in ("default", "domain-a", "domain-b")
        }
        for field, domain, email, role in ACCOUNT_LAYOUT:
            user_id = await db_source.insert_user(conn, domains[domain], email, role)
            keypair = await db_source.insert_keypair(conn, user_id, is_admin=role != Role.USER)
            credentials[field] = UserCredentials(
                user_id=user_id,
                domain_id=domains[domain],
                domain_name=domain,
                email=email,
                role=role,
                access_key=keypair.access_key,
                secret_key=keypair.secret_key,
            )
    return Accounts(domain_a=domains["domain-a"], domain_b=domains["domain-b"], **credentials)


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
    return Callers(
        anonymous=ApiCaller(client, "anonymous"),
        superadmin=ApiCaller(client, "superadmin", accounts.superadmin),
        domain_admin=ApiCaller(client, "domain_admin", accounts.domain_admin),
        other_domain_admin=ApiCaller(client, "other_domain_admin", accounts.other_domain_admin),
        user=ApiCaller(client, "user", accounts.user),
        other_user=ApiCaller(client, "other_user", accounts.other_user),
        other_domain_user=ApiCaller(client, "other_domain_user", accounts.other_domain_user),
    )


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


async def insert_rows(engine: AsyncEngine, *rows: Any) -> None:
    async with async_sessionmaker(engine, expire_on_commit=False).begin() as session:
        session.add_all(rows)
        await session.flush()


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
