"""The plugin's config section (manifest `[config]` defaults, overridden by the host config)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class PluginConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cache_ttl_seconds: int = Field(300, ge=1, le=3600)
    """Capped at an hour: generation keys must outlive every view (see cache_source)."""
    cache_timeout_seconds: float = Field(0.05, gt=0, le=5)
    max_depth: int = Field(32, ge=1, le=1000)
    max_fragment_bytes: int = Field(256 * 1024, ge=2)
    max_names_per_request: int = Field(100, ge=1)
    max_items_per_request: int = Field(100, ge=1)
    max_body_bytes: int = Field(1024 * 1024, ge=1024)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> PluginConfig:
        return cls.model_validate(dict(values))
