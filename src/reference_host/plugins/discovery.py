"""Find installed plugins by entry point, validate their manifests, apply allow/block lists.

Discovery imports each plugin's top-level package (to find `plugin.toml` next to it) but only
loads the entry point (the `setup` callable's module) of plugins that pass the allow/block
lists. It never connects to anything, so the migration step can use it too.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import attrs

from reference_host.contract import PLUGIN_ENTRY_POINT_GROUP, PluginSetup
from reference_host.plugins.errors import PluginLoadError
from reference_host.plugins.manifest import (
    MANIFEST_FILE,
    PluginManifest,
    check_plugin_set,
    parse_manifest,
)
from reference_host.settings import HostSettings

HOST_PATHS = ("/metrics",)


@attrs.frozen
class LoadedPlugin:
    name: str
    manifest: PluginManifest
    setup: PluginSetup
    package_dir: Path
    migration_location: Path | None
    """Absolute path of the plugin's Alembic versions, when it has the migrations capability."""
    branch_label: str | None


@attrs.frozen
class _Candidate:
    entry_point: EntryPoint
    manifest: PluginManifest
    package_dir: Path


def _package_dir(entry_point: EntryPoint) -> Path:
    top_package = entry_point.module.split(".")[0]
    try:
        root = importlib.resources.files(top_package)
    except (ImportError, TypeError) as exc:
        raise PluginLoadError(
            f"plugin {entry_point.name!r}: package {top_package!r} cannot be imported: {exc}"
        ) from exc
    if not isinstance(root, Path):
        raise PluginLoadError(
            f"plugin {entry_point.name!r}: package {top_package!r} must be a regular package"
            " installed as a directory"
        )
    return root


def _read_candidate(entry_point: EntryPoint) -> _Candidate:
    package_dir = _package_dir(entry_point)
    manifest_path = package_dir / MANIFEST_FILE
    try:
        text = manifest_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PluginLoadError(
            f"plugin {entry_point.name!r}: no {MANIFEST_FILE} in package directory {package_dir}"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PluginLoadError(
            f"plugin {entry_point.name!r} manifest {MANIFEST_FILE}: unreadable: {exc}"
        ) from None
    manifest = parse_manifest(text, plugin=entry_point.name)
    return _Candidate(entry_point=entry_point, manifest=manifest, package_dir=package_dir)


def _load_setup(entry_point: EntryPoint, manifest: PluginManifest) -> PluginSetup:
    try:
        setup: PluginSetup = entry_point.load()
    except Exception as exc:  # any import-time failure of plugin code: re-raised, named
        raise PluginLoadError(
            f"plugin {manifest.name!r}: entry point {entry_point.value!r} cannot be loaded:"
            f" {type(exc).__name__}: {exc}"
        ) from exc
    if not callable(setup):
        raise PluginLoadError(
            f"plugin {manifest.name!r}: entry point {entry_point.value!r} is not callable"
        )
    return setup


def _migration_location(candidate: _Candidate) -> Path | None:
    migrations = candidate.manifest.migrations
    if migrations is None:
        return None
    location = (candidate.package_dir / migrations.location).resolve()
    if not location.is_relative_to(candidate.package_dir.resolve()):
        raise PluginLoadError(
            f"plugin {candidate.manifest.name!r} manifest: migrations.location:"
            " must stay inside the plugin package"
        )
    if not location.is_dir():
        raise PluginLoadError(
            f"plugin {candidate.manifest.name!r} manifest: migrations.location:"
            f" {location} is not a directory"
        )
    return location


def select_plugins(
    candidates: Iterable[PluginManifest], settings: HostSettings
) -> list[PluginManifest]:
    """The manifests the host should load under `plugin_allow` / `plugin_block`."""
    manifests = list(candidates)
    names = {manifest.name for manifest in manifests}
    if settings.plugin_allow is not None:
        missing = sorted(set(settings.plugin_allow) - names)
        if missing:
            raise PluginLoadError(
                f"plugin {missing[0]!r}: listed in plugin_allow but not installed"
            )
    return [
        manifest
        for manifest in manifests
        if (settings.plugin_allow is None or manifest.name in settings.plugin_allow)
        and manifest.name not in settings.plugin_block
    ]


def discover_plugins(settings: HostSettings) -> list[LoadedPlugin]:
    """Every installed plugin the settings allow, validated, in name order."""
    found = sorted(entry_points(group=PLUGIN_ENTRY_POINT_GROUP), key=lambda ep: ep.name)
    candidates = [_read_candidate(entry_point) for entry_point in found]
    chosen = select_plugins((candidate.manifest for candidate in candidates), settings)
    check_plugin_set(chosen, host_paths=HOST_PATHS)
    selected = {manifest.name for manifest in chosen}
    plugins = []
    for candidate in candidates:
        if candidate.manifest.name not in selected:
            continue
        manifest = candidate.manifest
        plugins.append(
            LoadedPlugin(
                name=manifest.name,
                manifest=manifest,
                setup=_load_setup(candidate.entry_point, manifest),
                package_dir=candidate.package_dir,
                migration_location=_migration_location(candidate),
                branch_label=manifest.migrations.branch_label if manifest.migrations else None,
            )
        )
    return sorted(plugins, key=lambda plugin: plugin.name)
