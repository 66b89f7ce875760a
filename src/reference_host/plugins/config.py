"""A plugin's config: its manifest's `[config]` defaults overlaid with the host's overrides."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from reference_host.plugins.errors import PluginLoadError
from reference_host.plugins.manifest import PluginManifest


def plugin_config(
    manifest: PluginManifest, overrides: Mapping[str, Mapping[str, Any]]
) -> Mapping[str, Any]:
    """Read-only config of one plugin; an override key the manifest does not declare is an error."""
    defaults = dict(manifest.config)
    given = overrides.get(manifest.name, {})
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise PluginLoadError(
            f"plugin {manifest.name!r} config: {unknown[0]}: not a key of the manifest's [config]"
        )
    return MappingProxyType({**defaults, **given})


def check_config_targets(
    overrides: Mapping[str, Mapping[str, Any]], known_plugins: Iterable[str]
) -> None:
    """Overrides must name a loaded (or deliberately blocked) plugin: catches typos."""
    unknown = sorted(set(overrides) - set(known_plugins))
    if unknown:
        raise PluginLoadError(f"plugin {unknown[0]!r} config: no such plugin is loaded")
