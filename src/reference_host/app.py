"""The host application factory: resources, accounts and auth, metrics, then the plugins.

Start-up order (cleanup contexts): database engine -> Redis client -> plugin contexts
(each plugin's `add_cleanup_ctx`, then its mounted sub-applications). Shutdown is the reverse.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from reference_host.accounts.directory import HostAccountDirectory
from reference_host.auth.account_changes import account_changes_context
from reference_host.auth.authenticator import Authenticator
from reference_host.auth.keypair_cache import KeypairCache
from reference_host.contract import PluginContext, anonymous
from reference_host.keys import (
    ACCOUNT_DIRECTORY_KEY,
    AUTHENTICATOR_KEY,
    ENGINE_KEY,
    METRICS_KEY,
    MIGRATION_LOCATIONS_KEY,
    PLUGINS_KEY,
    REDIS_KEY,
    SETTINGS_KEY,
)
from reference_host.metrics import HostMetrics
from reference_host.middlewares import HOST_MIDDLEWARES
from reference_host.plugins.config import check_config_targets, plugin_config
from reference_host.plugins.discovery import HOST_PATHS, LoadedPlugin, discover_plugins
from reference_host.plugins.errors import PluginLoadError
from reference_host.plugins.manifest import check_plugin_set
from reference_host.plugins.registrar import HostRegistrar
from reference_host.resources import build_engine, build_redis, engine_context, redis_context
from reference_host.settings import HostSettings


@anonymous
async def metrics_handler(request: web.Request) -> web.StreamResponse:
    registry = request.config_dict[METRICS_KEY].registry
    return web.Response(
        body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )


def create_app(
    settings: HostSettings, *, plugins: Sequence[LoadedPlugin] | None = None
) -> web.Application:
    """The host app with `plugins` (None: every installed plugin the settings allow)."""
    loaded = tuple(discover_plugins(settings) if plugins is None else plugins)
    check_plugin_set([plugin.manifest for plugin in loaded], host_paths=HOST_PATHS)
    check_config_targets(
        settings.plugin_config, [*(p.name for p in loaded), *settings.plugin_block]
    )

    app = web.Application(middlewares=HOST_MIDDLEWARES)
    app[SETTINGS_KEY] = settings
    metrics = HostMetrics()
    app[METRICS_KEY] = metrics

    engine = build_engine(settings)
    redis = build_redis(settings.redis_url)
    app[ENGINE_KEY] = engine
    app[REDIS_KEY] = redis
    app.cleanup_ctx.append(engine_context(engine))
    app.cleanup_ctx.append(redis_context(redis))

    accounts = HostAccountDirectory(engine)
    app[ACCOUNT_DIRECTORY_KEY] = accounts
    keypairs = KeypairCache(ttl=settings.auth_cache_ttl_seconds)
    keypairs.trusted = False  # until the account change listener is connected
    app[AUTHENTICATOR_KEY] = Authenticator(
        engine,
        date_skew=dt.timedelta(seconds=settings.date_skew_seconds),
        keypair_cache=keypairs,
    )
    app.cleanup_ctx.append(account_changes_context(settings.database_url, keypairs))
    app.router.add_get("/metrics", metrics_handler)

    migration_locations = []
    for plugin in loaded:
        context = PluginContext(
            name=plugin.name,
            engine=engine,
            redis=redis,
            metrics_registry=metrics.registry,
            layer_metrics=metrics.layers,
            accounts=accounts,
            config=plugin_config(plugin.manifest, settings.plugin_config),
        )
        registrar = HostRegistrar(plugin, context, app, metrics.layers)
        _run_setup(plugin, registrar)
        migration_locations.extend(registrar.migration_locations)
    app[PLUGINS_KEY] = loaded
    app[MIGRATION_LOCATIONS_KEY] = tuple(migration_locations)
    return app


def _run_setup(plugin: LoadedPlugin, registrar: HostRegistrar) -> None:
    try:
        plugin.setup(registrar)
    except PluginLoadError:
        raise
    except Exception as exc:  # plugin code failed: stop start-up, naming the plugin
        raise PluginLoadError(
            f"plugin {plugin.name!r} setup: failed: {type(exc).__name__}: {exc}"
        ) from exc
