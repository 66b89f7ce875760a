"""Update spec for a fragment: replace `config` wholesale and/or set `rank`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from scoped_app_config.domain.errors import ConfigError, Conflict
from scoped_app_config.domain.types import FragmentId
from scoped_app_config.models.tables import FRAGMENT_RANK_KEY
from scoped_app_config.repositories.base.integrity import UNIQUE_VIOLATION, IntegrityCheck


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

    def _rank_taken(self, config_name: str) -> ConfigError:
        return Conflict(
            f"Rank {self.spec.rank} is already held by another fragment of app config "
            f"'{config_name}'."
        )

    def integrity_checks(self, config_name: str) -> tuple[IntegrityCheck, ...]:
        """Checks for an update of a fragment of `config_name` (the db_source looks it up).

        Only the rank key is mapped; any other violation propagates unchanged.
        """
        return (
            IntegrityCheck(
                UNIQUE_VIOLATION, lambda: self._rank_taken(config_name), FRAGMENT_RANK_KEY
            ),
        )
