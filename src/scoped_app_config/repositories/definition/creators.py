"""Write spec for registering a config name."""

from __future__ import annotations

import attrs

from scoped_app_config.domain.errors import ConfigError, Conflict
from scoped_app_config.models import DefinitionRow
from scoped_app_config.repositories.base.integrity import UNIQUE_VIOLATION, IntegrityCheck


@attrs.frozen
class DefinitionCreator:
    config_name: str

    def build_row(self) -> DefinitionRow:
        return DefinitionRow(config_name=self.config_name)

    def _duplicate(self) -> ConfigError:
        return Conflict(f"App config '{self.config_name}' is already registered.")

    @property
    def integrity_checks(self) -> tuple[IntegrityCheck, ...]:
        return (IntegrityCheck(UNIQUE_VIOLATION, self._duplicate),)
