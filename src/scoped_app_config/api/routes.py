"""One sub-application per API prefix, its routes registered from the route table."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from reference_host.contract import Handler, requires
from scoped_app_config.api.handlers import app_config, fragments, policy_admin
from scoped_app_config.api.keys import SERVICES_KEY, PluginServices
from scoped_app_config.api.problems import translating_domain_errors
from scoped_app_config.api.route_specs import ROUTES, RouteSpec

HANDLERS: Mapping[str, Handler] = {
    name: getattr(module, name)
    for module in (app_config, fragments, policy_admin)
    for name in dir(module)
    if any(route.operation_id == name for route in ROUTES)
}

PREFIXES = (
    "/v2/app-config-fragments",
    "/v2/app-config-definitions",
    "/v2/app-config-allow-list",
    "/v2/app-config",
)


def _prefix_of(route: RouteSpec) -> str:
    return next(p for p in PREFIXES if route.path == p or route.path.startswith(p + "/"))


def build_subapps(services: PluginServices) -> dict[str, web.Application]:
    missing = [route.operation_id for route in ROUTES if route.operation_id not in HANDLERS]
    if missing:
        raise RuntimeError(f"routes without a handler: {missing}")
    subapps: dict[str, web.Application] = {}
    for route in ROUTES:
        prefix = _prefix_of(route)
        if prefix not in subapps:
            subapp = web.Application()
            subapp[SERVICES_KEY] = services
            subapps[prefix] = subapp
        handler = requires(route.auth)(translating_domain_errors(HANDLERS[route.operation_id]))
        subapps[prefix].router.add_route(route.method, route.aiohttp_path[len(prefix) :], handler)
    return subapps
