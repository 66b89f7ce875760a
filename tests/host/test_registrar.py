"""What a plugin's setup may do to the host, checked against its manifest."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from host_support import PROBE_MANIFEST, make_plugin

from plugin_host import AiohttpClient
from reference_host.app import create_app
from reference_host.contract import (
    PLUGIN_CONTEXT_KEY,
    PluginRegistrar,
    PluginSetup,
    anonymous,
    json_response,
)
from reference_host.keys import ENGINE_KEY, MIGRATION_LOCATIONS_KEY
from reference_host.plugins.errors import PluginLoadError
from reference_host.settings import HostSettings

# Building an app connects to nothing, so these tests need no database.
SETTINGS = HostSettings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none")

MIGRATING_MANIFEST = """
name = "migrating"
version = "1"
capabilities = ["migrations"]
[migrations]
location = "fixtures_migrations"
branch_label = "migrating"
"""


def load_error(
    manifest: str,
    setup: PluginSetup,
    settings: HostSettings = SETTINGS,
    package_dir: Path | None = None,
) -> str:
    plugin = make_plugin(manifest, setup, package_dir)
    with pytest.raises(PluginLoadError) as caught:
        create_app(settings, plugins=[plugin])
    return str(caught.value)


def test_mount_on_undeclared_prefix_is_rejected() -> None:
    def setup(registrar: PluginRegistrar) -> None:
        registrar.mount("/elsewhere", web.Application())

    message = load_error(PROBE_MANIFEST, setup)
    assert message == (
        "plugin 'probe' api_prefixes: cannot mount on '/elsewhere': not declared in the manifest"
    )


def test_mount_twice_on_one_prefix_is_rejected() -> None:
    def setup(registrar: PluginRegistrar) -> None:
        registrar.mount("/probe", web.Application())
        registrar.mount("/probe", web.Application())

    assert "plugin 'probe' api_prefixes: '/probe' is already mounted" in load_error(
        PROBE_MANIFEST, setup
    )


def test_undeclared_layer_label_is_rejected() -> None:
    def setup(registrar: PluginRegistrar) -> None:
        registrar.add_layer_labels(["probe_repository", "probe_cache_source"])

    assert load_error(PROBE_MANIFEST, setup) == (
        "plugin 'probe' metrics.layers: probe_cache_source not declared in the manifest"
    )


def test_setup_raising_stops_start_up_naming_the_plugin() -> None:
    def setup(registrar: PluginRegistrar) -> None:
        raise RuntimeError("boom")

    message = load_error(PROBE_MANIFEST, setup)
    assert message == "plugin 'probe' setup: failed: RuntimeError: boom"


def test_migration_location_without_capability_is_rejected() -> None:
    def setup(registrar: PluginRegistrar) -> None:
        registrar.add_migration_location(Path("/tmp"))

    assert "plugin 'probe' capabilities: 'migrations' is not declared" in load_error(
        PROBE_MANIFEST, setup
    )


def test_migration_location_other_than_declared_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "fixtures_migrations").mkdir()

    def setup(registrar: PluginRegistrar) -> None:
        registrar.add_migration_location(tmp_path / "other")

    message = load_error(MIGRATING_MANIFEST, setup, package_dir=tmp_path)
    assert message.startswith("plugin 'migrating' migrations.location: ")


def test_declared_migration_location_is_recorded(tmp_path: Path) -> None:
    (tmp_path / "fixtures_migrations").mkdir()

    def setup(registrar: PluginRegistrar) -> None:
        registrar.add_migration_location(tmp_path / "fixtures_migrations")

    app = create_app(SETTINGS, plugins=[make_plugin(MIGRATING_MANIFEST, setup, tmp_path)])
    assert app[MIGRATION_LOCATIONS_KEY] == ((tmp_path / "fixtures_migrations").resolve(),)


class TestPluginConfig:
    @staticmethod
    def capture(seen: list[dict[str, object]]) -> PluginSetup:
        def setup(registrar: PluginRegistrar) -> None:
            seen.append(dict(registrar.context.config))

        return setup

    def test_defaults_are_overlaid_with_host_overrides(self) -> None:
        seen: list[dict[str, object]] = []
        settings = HostSettings(
            database_url=SETTINGS.database_url, plugin_config={"probe": {"greeting": "hi"}}
        )
        create_app(settings, plugins=[make_plugin(PROBE_MANIFEST, self.capture(seen))])
        assert seen == [{"greeting": "hi"}]

    def test_unknown_override_key_is_rejected(self) -> None:
        settings = HostSettings(
            database_url=SETTINGS.database_url, plugin_config={"probe": {"greting": "hi"}}
        )
        message = load_error(PROBE_MANIFEST, self.capture([]), settings)
        assert message == "plugin 'probe' config: greting: not a key of the manifest's [config]"

    def test_override_for_unknown_plugin_is_rejected(self) -> None:
        settings = HostSettings(
            database_url=SETTINGS.database_url, plugin_config={"prbe": {"greeting": "hi"}}
        )
        assert load_error(PROBE_MANIFEST, self.capture([]), settings) == (
            "plugin 'prbe' config: no such plugin is loaded"
        )


async def test_plugin_cleanup_context_runs_after_host_resources(
    aiohttp_client: AiohttpClient,
) -> None:
    events: list[str] = []

    async def plugin_context(app: web.Application) -> AsyncIterator[None]:
        events.append(f"start engine={ENGINE_KEY in app}")
        yield
        events.append("stop")

    @anonymous
    async def name(request: web.Request) -> web.StreamResponse:
        return json_response({"name": request.config_dict[PLUGIN_CONTEXT_KEY].name})

    def setup(registrar: PluginRegistrar) -> None:
        sub = web.Application()
        sub.router.add_get("/name", name)
        registrar.mount("/probe", sub)
        registrar.add_cleanup_ctx(plugin_context)

    app = create_app(SETTINGS, plugins=[make_plugin(PROBE_MANIFEST, setup)])
    assert len(app.cleanup_ctx) == 4  # engine, redis, account listener, then the plugin's
    client = await aiohttp_client(app)
    async with client.get("/probe/name") as response:
        assert await response.json() == {"name": "probe"}
    await client.close()
    assert events == ["start engine=True", "stop"]
