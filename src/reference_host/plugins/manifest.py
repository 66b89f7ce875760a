"""`plugin.toml`: the strict model of a plugin's manifest and its validation.

name = "scoped_app_config"            # ^[a-z][a-z0-9_]{1,63}$
version = "0.1.0"
description = "..."                   # optional
api_prefixes = ["/v2/app-config"]     # absolute, no trailing slash, unique, non-nested
capabilities = ["routes", "migrations", "metrics"]
[migrations]                          # required exactly with the "migrations" capability
location = "migrations"               # relative to the plugin's top-level package dir
branch_label = "scoped_app_config"
[metrics]                             # required exactly with the "metrics" capability
layers = ["app_config_fragment_repository"]
[config]                              # free-form defaults, overridable per host
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from reference_host.plugins.errors import PluginLoadError

MANIFEST_FILE = "plugin.toml"
Capability = Literal["routes", "migrations", "metrics"]

_SEGMENT = re.compile(r"^[A-Za-z0-9._~-]+$")


def _check_prefix(prefix: str) -> str:
    if not prefix.startswith("/"):
        raise PydanticCustomError("api_prefix", "must start with '/'")
    if prefix == "/" or prefix.endswith("/"):
        raise PydanticCustomError("api_prefix", "must not end with '/'")
    if not all(_SEGMENT.fullmatch(segment) for segment in prefix[1:].split("/")):
        raise PydanticCustomError(
            "api_prefix",
            "segments must be non-empty and use only letters, digits, '.', '_', '~', '-'",
        )
    return prefix


def _check_location(location: str) -> str:
    path = PurePosixPath(location)
    if path.is_absolute() or ".." in path.parts or not location.strip():
        raise PydanticCustomError(
            "migration_location", "must be a relative path inside the plugin package"
        )
    return location


def prefixes_collide(a: str, b: str) -> bool:
    """Equal, or one a path-prefix of the other ('/v2/x' vs '/v2/x/y'; not '/v2/x-y')."""
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")]
SnakeLabel = Annotated[str, Field(pattern=r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$", max_length=128)]
ApiPrefix = Annotated[str, AfterValidator(_check_prefix)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class MigrationsSection(_Strict):
    location: Annotated[str, AfterValidator(_check_location)]
    branch_label: Identifier


class MetricsSection(_Strict):
    layers: list[SnakeLabel] = Field(min_length=1)

    @field_validator("layers")
    @classmethod
    def _unique(cls, layers: list[str]) -> list[str]:
        duplicates = sorted({label for label in layers if layers.count(label) > 1})
        if duplicates:
            raise PydanticCustomError(
                "duplicate", "duplicate layer labels: {labels}", {"labels": ", ".join(duplicates)}
            )
        return layers


class PluginManifest(_Strict):
    name: Identifier
    version: Annotated[str, Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$")]
    description: str | None = None
    api_prefixes: list[ApiPrefix] = Field(default_factory=list)
    capabilities: list[Capability] = Field(default_factory=list)
    migrations: MigrationsSection | None = None
    metrics: MetricsSection | None = None
    config: dict[str, Any] = Field(default_factory=dict)

    @field_validator("api_prefixes")
    @classmethod
    def _prefixes_distinct(cls, prefixes: list[str]) -> list[str]:
        for i, first in enumerate(prefixes):
            for second in prefixes[i + 1 :]:
                if first == second:
                    raise PydanticCustomError(
                        "duplicate", "duplicate prefix '{prefix}'", {"prefix": first}
                    )
                if prefixes_collide(first, second):
                    raise PydanticCustomError(
                        "collision",
                        "prefixes '{a}' and '{b}' are nested",
                        {"a": first, "b": second},
                    )
        return prefixes

    @field_validator("capabilities")
    @classmethod
    def _capabilities_unique(cls, capabilities: list[str]) -> list[str]:
        if len(set(capabilities)) != len(capabilities):
            raise PydanticCustomError("duplicate", "duplicate capabilities")
        return capabilities

    @model_validator(mode="after")
    def _sections_match_capabilities(self) -> PluginManifest:
        required = {
            "routes": ("api_prefixes", bool(self.api_prefixes)),
            "migrations": ("migrations", self.migrations is not None),
            "metrics": ("metrics", self.metrics is not None),
        }
        for capability, (field, present) in required.items():
            declared = capability in self.capabilities
            if declared and not present:
                raise PydanticCustomError(
                    "capability",
                    "{field}: required by capability '{capability}'",
                    {"field": field, "capability": capability},
                )
            if present and not declared:
                raise PydanticCustomError(
                    "capability",
                    "{field}: given but capabilities do not include '{capability}'",
                    {"field": field, "capability": capability},
                )
        return self

    @property
    def layers(self) -> tuple[str, ...]:
        return tuple(self.metrics.layers) if self.metrics is not None else ()


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False):
        location = ".".join(str(part) for part in item["loc"])
        parts.append(f"{location}: {item['msg']}" if location else item["msg"])
    return "; ".join(parts)


def parse_manifest(text: str, *, plugin: str, source: str = MANIFEST_FILE) -> PluginManifest:
    """Validate manifest text; `plugin` (entry point or package name) names it in errors."""
    prefix = f"plugin {plugin!r} manifest {source}"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PluginLoadError(f"{prefix}: invalid TOML: {exc}") from None
    try:
        return PluginManifest.model_validate(data)
    except ValidationError as exc:
        raise PluginLoadError(f"{prefix}: {_describe(exc)}") from None


def load_manifest(path: Path, *, plugin: str | None = None) -> PluginManifest:
    """Validate the manifest at `path` (named after its directory unless `plugin` is given)."""
    name = plugin if plugin is not None else path.parent.name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PluginLoadError(f"plugin {name!r} manifest {path.name}: unreadable: {exc}") from None
    return parse_manifest(text, plugin=name, source=path.name)


def check_plugin_set(
    manifests: Sequence[PluginManifest], *, host_paths: Sequence[str] = ()
) -> None:
    """Rules across plugins: distinct names, prefixes, branch labels and layer labels.

    `host_paths` are paths the host serves itself; no plugin prefix may collide with them.
    """
    seen_names: set[str] = set()
    for manifest in manifests:
        if manifest.name in seen_names:
            raise PluginLoadError(f"plugin {manifest.name!r} manifest: name: installed twice")
        seen_names.add(manifest.name)
        for prefix in manifest.api_prefixes:
            for path in host_paths:
                if prefixes_collide(prefix, path):
                    raise PluginLoadError(
                        f"plugin {manifest.name!r} manifest: api_prefixes: '{prefix}'"
                        f" collides with the host's own path '{path}'"
                    )
    for i, first in enumerate(manifests):
        for second in manifests[i + 1 :]:
            _check_pair(first, second)


def _check_pair(first: PluginManifest, second: PluginManifest) -> None:
    for a in first.api_prefixes:
        for b in second.api_prefixes:
            if prefixes_collide(a, b):
                raise PluginLoadError(
                    f"plugin {second.name!r} manifest: api_prefixes: '{b}' collides with"
                    f" '{a}' of plugin {first.name!r}"
                )
    if (
        first.migrations
        and second.migrations
        and first.migrations.branch_label == second.migrations.branch_label
    ):
        raise PluginLoadError(
            f"plugin {second.name!r} manifest: migrations.branch_label:"
            f" '{second.migrations.branch_label}' is also used by plugin {first.name!r}"
        )
    shared = sorted(set(first.layers) & set(second.layers))
    if shared:
        raise PluginLoadError(
            f"plugin {second.name!r} manifest: metrics.layers: {', '.join(shared)}"
            f" also declared by plugin {first.name!r}"
        )
