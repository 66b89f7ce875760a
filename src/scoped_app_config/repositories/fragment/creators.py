"""Write specs for fragments: single create (rank given by the db_source) and bulk upsert."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from scoped_app_config.domain.errors import (
    ConfigError,
    Conflict,
    InvalidParameters,
    WriteNotAllowed,
)
from scoped_app_config.domain.types import ScopeRef
from scoped_app_config.models import FragmentRow
from scoped_app_config.models.tables import FRAGMENT_ALLOW_LIST_FK
from scoped_app_config.repositories.base.integrity import (
    FOREIGN_KEY_VIOLATION,
    UNIQUE_VIOLATION,
    IntegrityCheck,
)


@attrs.frozen
class FragmentCreator:
    config_name: str
    scope: ScopeRef
    config: Mapping[str, Any]

    def build_row(self, next_rank: int) -> FragmentRow:
        return FragmentRow(
            config_name=self.config_name,
            scope_type=self.scope.scope_type,
            scope_id=self.scope.scope_id,
            rank=next_rank,
            config=dict(self.config),
        )

    def _duplicate(self) -> ConfigError:
        return Conflict(
            f"App config '{self.config_name}' already has a fragment at scope "
            f"'{self.scope.scope_type}'."
        )

    def _not_allowed(self) -> ConfigError:
        return WriteNotAllowed(self.config_name, self.scope.scope_type)

    @property
    def integrity_checks(self) -> tuple[IntegrityCheck, ...]:
        return (
            IntegrityCheck(UNIQUE_VIOLATION, self._duplicate),
            # The allow-list entry vanished between the gate check and the insert.
            IntegrityCheck(FOREIGN_KEY_VIOLATION, self._not_allowed, FRAGMENT_ALLOW_LIST_FK),
        )


@attrs.frozen
class FragmentUpsertItem:
    config_name: str
    config: Mapping[str, Any]


@attrs.frozen
class FragmentBulkUpserter:
    """Insert or replace (by natural key) one fragment per item, all at one scope."""

    scope: ScopeRef
    items: Sequence[FragmentUpsertItem]

    def __attrs_post_init__(self) -> None:
        names = [item.config_name for item in self.items]
        if len(set(names)) != len(names):
            raise InvalidParameters("Each config name may appear only once per upsert.")

    @property
    def config_names(self) -> list[str]:
        """Sorted: parent rows are locked in this order, so overlapping upserts cannot deadlock."""
        return sorted(item.config_name for item in self.items)

    def build_values(self) -> list[dict[str, Any]]:
        """Column values per item; the rank of a new fragment is computed by the statement."""
        return [
            {
                "config_name": item.config_name,
                "scope_type": self.scope.scope_type,
                "scope_id": self.scope.scope_id,
                "config": dict(item.config),
            }
            for item in self.items
        ]

    def _not_allowed(self) -> ConfigError:
        return WriteNotAllowed(", ".join(self.config_names), self.scope.scope_type)

    @property
    def integrity_checks(self) -> tuple[IntegrityCheck, ...]:
        return (IntegrityCheck(FOREIGN_KEY_VIOLATION, self._not_allowed, FRAGMENT_ALLOW_LIST_FK),)
