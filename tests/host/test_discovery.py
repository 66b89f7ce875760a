"""Discovery through installed metadata (entry points), manifests next to the package."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from reference_host.app import create_app
from reference_host.keys import PLUGINS_KEY
from reference_host.plugins.discovery import discover_plugins
from reference_host.plugins.errors import PluginLoadError
from reference_host.settings import HostSettings

SETTINGS = HostSettings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none")
REAL_PLUGIN = "scoped_app_config"


def test_installed_scoped_app_config_is_discovered() -> None:
    [plugin] = [p for p in discover_plugins(SETTINGS) if p.name == REAL_PLUGIN]
    assert plugin.manifest.api_prefixes[0] == "/v2/app-config"
    assert plugin.package_dir.name == REAL_PLUGIN
    assert plugin.migration_location is not None
    assert plugin.migration_location.is_absolute() and plugin.migration_location.is_dir()
    assert plugin.branch_label == REAL_PLUGIN
    assert plugin.setup.__module__ == "scoped_app_config.plugin"


def test_app_loads_installed_plugins_when_none_are_given() -> None:
    app = create_app(SETTINGS)
    assert REAL_PLUGIN in [plugin.name for plugin in app[PLUGINS_KEY]]


def test_blocked_plugin_is_not_loaded() -> None:
    settings = HostSettings(database_url=SETTINGS.database_url, plugin_block=(REAL_PLUGIN,))
    assert REAL_PLUGIN not in [p.name for p in discover_plugins(settings)]


def test_allow_list_naming_a_missing_plugin_is_rejected() -> None:
    settings = HostSettings(database_url=SETTINGS.database_url, plugin_allow=("nonexistent",))
    with pytest.raises(PluginLoadError, match="plugin 'nonexistent': listed in plugin_allow"):
        discover_plugins(settings)


class FakeDistributions:
    """Installs throw-away distributions (dist-info + package) on a temporary sys.path entry."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def add(self, package: str, manifest: str | None, setup_source: str = "") -> None:
        dist_info = self.root / f"{package}-0.1.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {package}\nVersion: 0.1\n"
        )
        (dist_info / "entry_points.txt").write_text(
            f"[reference_host.plugins]\n{package}_ep = {package}.plugin:setup\n"
        )
        package_dir = self.root / package
        package_dir.mkdir()
        (package_dir / "__init__.py").write_text("")
        (package_dir / "plugin.py").write_text(setup_source or "def setup(registrar):\n    pass\n")
        if manifest is not None:
            (package_dir / "plugin.toml").write_text(textwrap.dedent(manifest))


@pytest.fixture
def fake_distributions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeDistributions]:
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield FakeDistributions(tmp_path)
    for name in set(sys.modules) - before:
        del sys.modules[name]


def settings_for(*names: str) -> HostSettings:
    return HostSettings(database_url=SETTINGS.database_url, plugin_allow=names)


def test_fake_distribution_is_discovered_with_its_manifest(
    fake_distributions: FakeDistributions,
) -> None:
    fake_distributions.add(
        "fake_widgets",
        'name = "fake_widgets"\nversion = "0.1"\n'
        'api_prefixes = ["/w"]\ncapabilities = ["routes"]\n',
    )
    [plugin] = discover_plugins(settings_for("fake_widgets"))
    assert plugin.package_dir == fake_distributions.root / "fake_widgets"
    assert plugin.migration_location is None


def test_invalid_manifest_error_names_entry_point_and_field(
    fake_distributions: FakeDistributions,
) -> None:
    fake_distributions.add(
        "fake_broken",
        'name = "fake_broken"\nversion = "1"\napi_prefixes = ["w"]\ncapabilities = ["routes"]\n',
    )
    with pytest.raises(PluginLoadError) as caught:
        discover_plugins(SETTINGS)
    assert str(caught.value) == (
        "plugin 'fake_broken_ep' manifest plugin.toml: api_prefixes.0: must start with '/'"
    )


def test_missing_manifest_is_rejected(fake_distributions: FakeDistributions) -> None:
    fake_distributions.add("fake_bare", None)
    with pytest.raises(PluginLoadError, match=r"^plugin 'fake_bare_ep': no plugin.toml"):
        discover_plugins(SETTINGS)


def test_missing_migration_directory_is_rejected(fake_distributions: FakeDistributions) -> None:
    fake_distributions.add(
        "fake_migrating",
        'name = "fake_migrating"\nversion = "1"\ncapabilities = ["migrations"]\n'
        '[migrations]\nlocation = "versions"\nbranch_label = "fake_migrating"\n',
    )
    with pytest.raises(
        PluginLoadError,
        match=r"plugin 'fake_migrating' manifest: migrations.location: .* is not a directory",
    ):
        discover_plugins(settings_for("fake_migrating"))


def test_entry_point_that_fails_to_import_is_rejected(
    fake_distributions: FakeDistributions,
) -> None:
    fake_distributions.add(
        "fake_crashing",
        'name = "fake_crashing"\nversion = "1"\n',
        setup_source="raise ImportError('missing dependency')\n",
    )
    with pytest.raises(
        PluginLoadError,
        match=r"^plugin 'fake_crashing': entry point .* cannot be loaded: ImportError",
    ):
        discover_plugins(settings_for("fake_crashing"))


def test_blocked_plugin_code_is_never_imported(fake_distributions: FakeDistributions) -> None:
    fake_distributions.add(
        "fake_blocked",
        'name = "fake_blocked"\nversion = "1"\n',
        setup_source="raise SystemExit(1)\n",
    )
    settings = HostSettings(
        database_url=SETTINGS.database_url, plugin_block=("fake_blocked", REAL_PLUGIN)
    )
    assert discover_plugins(settings) == []
    assert "fake_blocked.plugin" not in sys.modules
