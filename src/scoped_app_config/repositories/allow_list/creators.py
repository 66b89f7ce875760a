"""Write spec for an allow-list entry; the rank defaults by scope type."""

from __future__ import annotations

import attrs

from scoped_app_config.domain.errors import AppConfigDefinitionNotFound, ConfigError, Conflict
from scoped_app_config.domain.types import DEFAULT_ALLOW_LIST_RANKS, ScopeType
from scoped_app_config.models import AllowListRow
from scoped_app_config.models.tables import ALLOW_LIST_DEFINITION_FK
from scoped_app_config.repositories.base.integrity import (
    FOREIGN_KEY_VIOLATION,
    UNIQUE_VIOLATION,
    IntegrityCheck,
)


@attrs.frozen
class AllowListCreator:
    config_name: str
    scope_type: ScopeType
    rank: int | None = None
    """None: the scope type's default (`DEFAULT_ALLOW_LIST_RANKS`)."""

    def build_row(self) -> AllowListRow:
        rank = DEFAULT_ALLOW_LIST_RANKS[self.scope_type] if self.rank is None else self.rank
        return AllowListRow(config_name=self.config_name, scope_type=self.scope_type, rank=rank)

    def _duplicate(self) -> ConfigError:
        return Conflict(
            f"App config '{self.config_name}' is already allowed at scope '{self.scope_type}'."
        )

    def _unregistered(self) -> ConfigError:
        return AppConfigDefinitionNotFound.for_name(self.config_name)

    @property
    def integrity_checks(self) -> tuple[IntegrityCheck, ...]:
        return (
            IntegrityCheck(UNIQUE_VIOLATION, self._duplicate),
            IntegrityCheck(FOREIGN_KEY_VIOLATION, self._unregistered, ALLOW_LIST_DEFINITION_FK),
        )
