"""The optional host config file (TOML): plugin allow/block lists and plugin config sections.

[plugins]
allow = ["scoped_app_config"]     # omit to load every installed plugin
block = []

[plugins.config.scoped_app_config]
cache_ttl_seconds = 300
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
from pydantic import BaseModel, ConfigDict, Field

CONFIG_ENV = "REFERENCE_HOST_CONFIG"


class _PluginsSection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    allow: list[str] | None = None
    block: list[str] = Field(default_factory=list)
    config: dict[str, dict[str, Any]] = Field(default_factory=dict)


class _HostConfigFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    plugins: _PluginsSection = Field(default_factory=_PluginsSection)


@attrs.frozen
class HostConfig:
    plugin_allow: tuple[str, ...] | None = None
    plugin_block: tuple[str, ...] = ()
    plugin_config: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)


def load_host_config(path: Path | None) -> HostConfig:
    if path is None:
        env_path = os.environ.get(CONFIG_ENV)
        if not env_path:
            return HostConfig()
        path = Path(env_path)
    parsed = _HostConfigFile.model_validate(tomllib.loads(path.read_text()))
    plugins = parsed.plugins
    return HostConfig(
        plugin_allow=tuple(plugins.allow) if plugins.allow is not None else None,
        plugin_block=tuple(plugins.block),
        plugin_config=plugins.config,
    )
