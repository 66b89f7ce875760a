"""Update spec for a fragment: replace `config` wholesale and/or set `rank`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from scoped_app_config.domain.types import FragmentId


@attrs.frozen
class FragmentUpdateSpec:
    """None leaves a field unchanged; neither column is nullable, so None never means clear."""

    config: Mapping[str, Any] | None = None
    rank: int | None = None

    @property
    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if self.config is not None:
            values["config"] = dict(self.config)
        if self.rank is not None:
            values["rank"] = self.rank
        return values


@attrs.frozen
class FragmentUpdater:
    fragment_id: FragmentId
    spec: FragmentUpdateSpec
