"""Host test fixtures: an app with a probe plugin whose routes cover every auth requirement,
and accounts of each role. The database comes from the suite's `database_url` / `db_engine`
(tests/conftest.py: migrated to heads, tables truncated after each test)."""

from __future__ import annotations

import pytest
from aiohttp import web
from host_support import PROBE_MANIFEST, make_plugin
from sqlalchemy.ext.asyncio import AsyncEngine

from plugin_host import AiohttpClient, HostClient
from reference_host.accounts import service
from reference_host.accounts.service import UserCredentials
from reference_host.app import create_app
from reference_host.contract import (
    CALLER_KEY,
    PLUGIN_CONTEXT_KEY,
    PluginRegistrar,
    Role,
    admin_required,
    anonymous,
    authenticated,
    json_response,
    read_json,
    superadmin_required,
)
from reference_host.plugins.discovery import LoadedPlugin
from reference_host.settings import HostSettings


def _caller_body(request: web.Request) -> dict[str, object]:
    caller = request[CALLER_KEY]
    if caller is None:
        return {"caller": None}
    return {"caller": {"email": caller.email, "role": caller.role, "user_id": caller.user_id}}


@anonymous
async def anonymous_route(request: web.Request) -> web.StreamResponse:
    return json_response(_caller_body(request))


@authenticated
async def authenticated_route(request: web.Request) -> web.StreamResponse:
    return json_response(_caller_body(request))


@admin_required
async def admin_route(request: web.Request) -> web.StreamResponse:
    return json_response(_caller_body(request))


@superadmin_required
async def superadmin_route(request: web.Request) -> web.StreamResponse:
    return json_response(_caller_body(request))


@anonymous
async def echo_json(request: web.Request) -> web.StreamResponse:
    return json_response({"received": await read_json(request)})


@anonymous
async def explode(request: web.Request) -> web.StreamResponse:
    raise RuntimeError("secret-token-123 leaked in a traceback")


@anonymous
async def layered(request: web.Request) -> web.StreamResponse:
    context = request.config_dict[PLUGIN_CONTEXT_KEY]
    async with context.layer_metrics.observe(
        domain="probe", layer="probe_repository", operation="read"
    ):
        pass
    return json_response({"greeting": context.config["greeting"]})


def probe_setup(registrar: PluginRegistrar) -> None:
    app = web.Application()
    app.router.add_get("/anonymous", anonymous_route)
    app.router.add_get("/authenticated", authenticated_route)
    app.router.add_post("/authenticated", authenticated_route)
    app.router.add_get("/admin", admin_route)
    app.router.add_get("/superadmin", superadmin_route)
    app.router.add_post("/echo", echo_json)
    app.router.add_get("/explode", explode)
    app.router.add_get("/layered/{item}", layered)
    registrar.add_layer_labels(["probe_repository"])
    registrar.mount("/probe", app)


@pytest.fixture
def probe_plugin() -> LoadedPlugin:
    return make_plugin(PROBE_MANIFEST, probe_setup)


@pytest.fixture
def host_settings(database_url: str) -> HostSettings:
    return HostSettings(database_url=database_url, redis_url=None)


@pytest.fixture
async def client(
    aiohttp_client: AiohttpClient,
    host_settings: HostSettings,
    probe_plugin: LoadedPlugin,
    db_engine: AsyncEngine,
) -> HostClient:
    """The host app with only the probe plugin; `db_engine` empties the tables afterwards."""
    return await aiohttp_client(create_app(host_settings, plugins=[probe_plugin]))


@pytest.fixture
async def superadmin(db_engine: AsyncEngine) -> UserCredentials:
    return await service.ensure_superadmin(db_engine, "default", "admin@example.com")


@pytest.fixture
async def domain_admin(db_engine: AsyncEngine, superadmin: UserCredentials) -> UserCredentials:
    return await service.create_user(db_engine, "default", "dadmin@example.com", Role.ADMIN)


@pytest.fixture
async def plain_user(db_engine: AsyncEngine, superadmin: UserCredentials) -> UserCredentials:
    return await service.create_user(db_engine, "default", "user@example.com", Role.USER)
