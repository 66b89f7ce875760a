"""`contract.PluginRegistrar`: everything a plugin's `setup` may do to the host.

Every request is checked against the plugin's manifest, so the manifest stays the truth the
migration step and operators read: mounts only under declared prefixes, only the declared
migration location, only declared layer labels.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from reference_host.contract import PLUGIN_CONTEXT_KEY, CleanupContext, PluginContext
from reference_host.metrics import HostLayerMetrics
from reference_host.plugins.discovery import LoadedPlugin
from reference_host.plugins.errors import PluginLoadError


class HostRegistrar:
    def __init__(
        self,
        plugin: LoadedPlugin,
        context: PluginContext,
        host_app: web.Application,
        layer_metrics: HostLayerMetrics,
    ) -> None:
        self._plugin = plugin
        self._context = context
        self._host_app = host_app
        self._layer_metrics = layer_metrics
        self._mounted: set[str] = set()
        self.migration_locations: list[Path] = []

    @property
    def context(self) -> PluginContext:
        return self._context

    def _error(self, field: str, message: str) -> PluginLoadError:
        return PluginLoadError(f"plugin {self._plugin.name!r} {field}: {message}")

    def _require(self, capability: str) -> None:
        if capability not in self._plugin.manifest.capabilities:
            raise self._error("capabilities", f"'{capability}' is not declared in the manifest")

    def mount(self, prefix: str, app: web.Application) -> None:
        self._require("routes")
        if prefix not in self._plugin.manifest.api_prefixes:
            raise self._error(
                "api_prefixes", f"cannot mount on '{prefix}': not declared in the manifest"
            )
        if prefix in self._mounted:
            raise self._error("api_prefixes", f"'{prefix}' is already mounted")
        app[PLUGIN_CONTEXT_KEY] = self._context
        self._host_app.add_subapp(prefix, app)
        self._mounted.add(prefix)

    def add_migration_location(self, path: Path) -> None:
        self._require("migrations")
        declared = self._plugin.migration_location
        if declared is None or Path(path).resolve() != declared:
            raise self._error(
                "migrations.location", f"{path} is not the location declared in the manifest"
            )
        if declared not in self.migration_locations:
            self.migration_locations.append(declared)

    def add_layer_labels(self, labels: list[str]) -> None:
        self._require("metrics")
        undeclared = sorted(set(labels) - set(self._plugin.manifest.layers))
        if undeclared:
            raise self._error(
                "metrics.layers", f"{', '.join(undeclared)} not declared in the manifest"
            )
        self._layer_metrics.register_layers(labels)

    def add_cleanup_ctx(self, ctx: CleanupContext) -> None:
        self._host_app.cleanup_ctx.append(ctx)
