"""plugin.toml validation: one test per kind of mistake; messages name plugin and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from reference_host.plugins.errors import PluginLoadError
from reference_host.plugins.manifest import (
    PluginManifest,
    check_plugin_set,
    load_manifest,
    parse_manifest,
)

VALID = """
name = "widgets"
version = "1.2.0"
description = "Widgets"
api_prefixes = ["/v2/widgets", "/v2/widget-types"]
capabilities = ["routes", "migrations", "metrics"]
[migrations]
location = "migrations"
branch_label = "widgets"
[metrics]
layers = ["widget_repository", "widget_db_source"]
[config]
page_size = 10
"""


def manifest_error(text: str, plugin: str = "widgets_ep") -> str:
    with pytest.raises(PluginLoadError) as caught:
        parse_manifest(text, plugin=plugin)
    message = str(caught.value)
    assert message.startswith(f"plugin '{plugin}' manifest plugin.toml: ")
    return message


def test_valid_manifest_parses() -> None:
    manifest = parse_manifest(VALID, plugin="widgets")
    assert manifest.name == "widgets"
    assert manifest.layers == ("widget_repository", "widget_db_source")
    assert manifest.config == {"page_size": 10}


def test_real_plugin_manifest_is_valid() -> None:
    path = Path(__file__).parents[2] / "src" / "scoped_app_config" / "plugin.toml"
    assert load_manifest(path).name == "scoped_app_config"


def test_unknown_key_is_rejected() -> None:
    message = manifest_error('homepage = "https://example.com"\n' + VALID)
    assert "homepage: Extra inputs are not permitted" in message


def test_unknown_key_in_a_section_is_rejected() -> None:
    message = manifest_error(
        VALID.replace('branch_label = "widgets"', 'branch_label = "widgets"\npath = "x"')
    )
    assert "migrations.path: Extra inputs are not permitted" in message


@pytest.mark.parametrize("name", ["Widgets", "w", "1widgets", "wid-gets", "x" * 65])
def test_bad_name_is_rejected(name: str) -> None:
    message = manifest_error(VALID.replace('name = "widgets"', f'name = "{name}"'))
    assert "name: String should match pattern" in message


@pytest.mark.parametrize(
    ("prefix", "reason"),
    [
        ("v2/widgets", "must start with '/'"),
        ("/v2/widgets/", "must not end with '/'"),
        ("/", "must not end with '/'"),
        ("/v2//widgets", "segments must be non-empty"),
        ("/v2/{id}", "segments must be non-empty"),
    ],
)
def test_bad_prefix_is_rejected(prefix: str, reason: str) -> None:
    message = manifest_error(VALID.replace('"/v2/widgets",', f'"{prefix}",'))
    assert f"api_prefixes.0: {reason}" in message


def test_duplicate_prefix_is_rejected() -> None:
    message = manifest_error(VALID.replace('"/v2/widget-types"', '"/v2/widgets"'))
    assert "api_prefixes: duplicate prefix '/v2/widgets'" in message


def test_nested_prefixes_within_one_plugin_are_rejected() -> None:
    message = manifest_error(VALID.replace('"/v2/widget-types"', '"/v2/widgets/types"'))
    assert "api_prefixes: prefixes '/v2/widgets' and '/v2/widgets/types' are nested" in message


def test_unknown_capability_is_rejected() -> None:
    message = manifest_error(VALID.replace('"metrics"]', '"metrics", "telepathy"]'))
    assert "capabilities.3: Input should be 'routes', 'migrations' or 'metrics'" in message


def test_capability_without_its_section_is_rejected() -> None:
    text = VALID.replace('[metrics]\nlayers = ["widget_repository", "widget_db_source"]\n', "")
    message = manifest_error(text)
    assert "metrics: required by capability 'metrics'" in message


def test_section_without_its_capability_is_rejected() -> None:
    message = manifest_error(
        VALID.replace('"routes", "migrations", "metrics"', '"routes", "metrics"')
    )
    assert "migrations: given but capabilities do not include 'migrations'" in message


@pytest.mark.parametrize("location", ["/abs/migrations", "../elsewhere"])
def test_migration_location_outside_the_package_is_rejected(location: str) -> None:
    message = manifest_error(VALID.replace('location = "migrations"', f'location = "{location}"'))
    assert "migrations.location: must be a relative path inside the plugin package" in message


def test_layer_label_not_snake_case_is_rejected() -> None:
    message = manifest_error(VALID.replace('"widget_db_source"', '"WidgetDbSource"'))
    assert "metrics.layers.1: String should match pattern" in message


def test_wrong_type_is_rejected_not_coerced() -> None:
    message = manifest_error(VALID.replace('version = "1.2.0"', "version = 1"))
    assert "version: Input should be a valid string" in message


def test_invalid_toml_is_rejected() -> None:
    assert "invalid TOML" in manifest_error("name = ")


def test_manifest_file_is_named_after_its_directory(tmp_path: Path) -> None:
    (tmp_path / "widgets").mkdir()
    path = tmp_path / "widgets" / "plugin.toml"
    path.write_text(VALID.replace('name = "widgets"', 'name = "W"'))
    with pytest.raises(PluginLoadError, match=r"^plugin 'widgets' manifest plugin.toml: name: "):
        load_manifest(path)


class TestPluginSet:
    def other(
        self, prefixes: str, name: str = "gadgets", layer: str = "gadget_repository"
    ) -> PluginManifest:
        return parse_manifest(
            f'name = "{name}"\nversion = "1"\napi_prefixes = {prefixes}\n'
            f'capabilities = ["routes", "metrics"]\n[metrics]\nlayers = ["{layer}"]\n',
            plugin=name,
        )

    @pytest.mark.parametrize("prefixes", ['["/v2/widgets"]', '["/v2"]', '["/v2/widgets/extra"]'])
    def test_colliding_prefixes_across_plugins_are_rejected(self, prefixes: str) -> None:
        widgets = parse_manifest(VALID, plugin="widgets")
        with pytest.raises(PluginLoadError) as caught:
            check_plugin_set([widgets, self.other(prefixes)])
        message = str(caught.value)
        assert message.startswith("plugin 'gadgets' manifest: api_prefixes: ")
        assert "of plugin 'widgets'" in message

    def test_sibling_prefixes_sharing_a_string_prefix_do_not_collide(self) -> None:
        widgets = parse_manifest(VALID, plugin="widgets")
        check_plugin_set([widgets, self.other('["/v2/widgets-archive"]')])

    def test_prefix_colliding_with_host_path_is_rejected(self) -> None:
        with pytest.raises(PluginLoadError, match="collides with the host's own path '/metrics'"):
            check_plugin_set([self.other('["/metrics/gadgets"]')], host_paths=["/metrics"])

    def test_same_layer_label_in_two_plugins_is_rejected(self) -> None:
        widgets = parse_manifest(VALID, plugin="widgets")
        with pytest.raises(
            PluginLoadError, match=r"metrics.layers: widget_repository also declared"
        ):
            check_plugin_set([widgets, self.other('["/v3"]', layer="widget_repository")])

    def test_same_name_twice_is_rejected(self) -> None:
        with pytest.raises(
            PluginLoadError, match="plugin 'gadgets' manifest: name: installed twice"
        ):
            check_plugin_set([self.other('["/a"]'), self.other('["/b"]', layer="b_layer")])
