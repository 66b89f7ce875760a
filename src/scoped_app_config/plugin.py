"""The plugin's entry point (`reference_host.plugins` group): `setup(registrar)`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from reference_host.contract import PluginRegistrar
from scoped_app_config.api.routes import build_subapps
from scoped_app_config.plugin_config import PluginConfig
from scoped_app_config.wiring import build_services, build_view_cache

PACKAGE_DIR = Path(__file__).parent
LAYER_LABELS = [
    "app_config_definition_repository",
    "app_config_definition_db_source",
    "app_config_allow_list_repository",
    "app_config_allow_list_db_source",
    "app_config_fragment_repository",
    "app_config_fragment_db_source",
    "app_config_fragment_cache_source",
]


def setup(registrar: PluginRegistrar) -> None:
    context = registrar.context
    config = PluginConfig.from_mapping(context.config)
    registrar.add_migration_location(PACKAGE_DIR / "migrations" / "versions")
    registrar.add_layer_labels(LAYER_LABELS)
    view_cache = build_view_cache(context, config)
    services = build_services(context, config, view_cache)
    for prefix, subapp in build_subapps(services).items():
        registrar.mount(prefix, subapp)
    if view_cache is not None:
        cache = view_cache

        async def cache_background_tasks(app: web.Application) -> AsyncIterator[None]:
            async with cache.running():
                yield

        registrar.add_cleanup_ctx(cache_background_tasks)
