"""Host test helpers (test modules import these, never conftest): a probe manifest and
plugins built from manifest text, as discovery would return them."""

from __future__ import annotations

import textwrap
from pathlib import Path

from reference_host.contract import PluginSetup
from reference_host.plugins.discovery import LoadedPlugin
from reference_host.plugins.manifest import parse_manifest

PROBE_MANIFEST = """
name = "probe"
version = "1.0"
api_prefixes = ["/probe"]
capabilities = ["routes", "metrics"]
[metrics]
layers = ["probe_repository"]
[config]
greeting = "hello"
"""


def make_plugin(manifest: str, setup: PluginSetup, package_dir: Path | None = None) -> LoadedPlugin:
    """A plugin as discovery would return it, from manifest text and a setup function."""
    parsed = parse_manifest(textwrap.dedent(manifest), plugin="test")
    directory = package_dir if package_dir is not None else Path(__file__).parent
    location = None
    if parsed.migrations is not None:
        location = (directory / parsed.migrations.location).resolve()
    return LoadedPlugin(
        name=parsed.name,
        manifest=parsed,
        setup=setup,
        package_dir=directory,
        migration_location=location,
        branch_label=parsed.migrations.branch_label if parsed.migrations else None,
    )
