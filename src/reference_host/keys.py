"""Every typed key the host puts on its application (aiohttp "No Singletons", STYLE.md §2.9).

Plugins never read these: they get their `PluginContext` through `contract.PLUGIN_CONTEXT_KEY`.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from reference_host.accounts.directory import HostAccountDirectory
from reference_host.auth.authenticator import Authenticator
from reference_host.contract import RedisClient
from reference_host.metrics import HostMetrics
from reference_host.plugins.discovery import LoadedPlugin
from reference_host.settings import HostSettings

SETTINGS_KEY = web.AppKey("reference_host.settings", HostSettings)
ENGINE_KEY = web.AppKey("reference_host.engine", AsyncEngine)
REDIS_KEY: web.AppKey[RedisClient | None] = web.AppKey("reference_host.redis")
METRICS_KEY = web.AppKey("reference_host.metrics", HostMetrics)
AUTHENTICATOR_KEY = web.AppKey("reference_host.authenticator", Authenticator)
ACCOUNT_DIRECTORY_KEY = web.AppKey("reference_host.account_directory", HostAccountDirectory)
PLUGINS_KEY: web.AppKey[tuple[LoadedPlugin, ...]] = web.AppKey("reference_host.plugins")
MIGRATION_LOCATIONS_KEY: web.AppKey[tuple[Path, ...]] = web.AppKey(
    "reference_host.migration_locations"
)

REQUEST_ID_KEY = web.RequestKey("reference_host.request_id", str)
