"""The three tables of ARCHITECTURE.md §Data model.

`scope_type` is a VARCHAR with a CHECK rather than a PostgreSQL enum: adding a scope type later
is a constraint swap inside one transaction, whereas enum values cannot be removed and a new
value cannot be used in the transaction that adds it.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Enum,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import conv

from scoped_app_config.domain.types import AllowListEntryId, DefinitionId, FragmentId, ScopeType
from scoped_app_config.models.base import Base, CreatedAt, PrimaryKey, UpdatedAt

CONFIG_NAME_LENGTH = 128

FRAGMENT_NATURAL_KEY = "uq_app_config_fragments_config_name_scope_type_scope_id"
FRAGMENT_RANK_KEY = "uq_app_config_fragments_config_name_rank"
FRAGMENT_ALLOW_LIST_FK = "fk_app_config_fragments_allow_list"
ALLOW_LIST_DEFINITION_FK = "fk_app_config_allow_list_config_name_app_config_definitions"


def _scope_type_column() -> Mapped[ScopeType]:
    return mapped_column(
        Enum(
            ScopeType,
            native_enum=False,
            create_constraint=True,
            length=32,
            name="scope_type",
            values_callable=lambda members: [member.value for member in members],
        )
    )


class DefinitionRow(Base):
    __tablename__ = "app_config_definitions"

    id: Mapped[PrimaryKey[DefinitionId]]
    config_name: Mapped[str] = mapped_column(String(CONFIG_NAME_LENGTH), unique=True)
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


class AllowListRow(Base):
    __tablename__ = "app_config_allow_list"
    __table_args__ = (UniqueConstraint("config_name", "scope_type"),)

    id: Mapped[PrimaryKey[AllowListEntryId]]
    config_name: Mapped[str] = mapped_column(
        String(CONFIG_NAME_LENGTH),
        ForeignKey(
            DefinitionRow.config_name, ondelete="CASCADE", name=conv(ALLOW_LIST_DEFINITION_FK)
        ),
    )
    scope_type: Mapped[ScopeType] = _scope_type_column()
    rank: Mapped[int]
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


class FragmentRow(Base):
    __tablename__ = "app_config_fragments"
    __table_args__ = (
        UniqueConstraint(
            "config_name",
            "scope_type",
            "scope_id",
            name=conv(FRAGMENT_NATURAL_KEY),
            postgresql_nulls_not_distinct=True,
        ),
        CheckConstraint(
            "(scope_type = 'public') = (scope_id IS NULL)", name="public_scope_has_no_id"
        ),
        ForeignKeyConstraint(
            ["config_name", "scope_type"],
            [AllowListRow.config_name, AllowListRow.scope_type],
            ondelete="CASCADE",
            name=conv(FRAGMENT_ALLOW_LIST_FK),
        ),
        # Ranks are unique within a name, so merge-order ties cannot depend on row order; the
        # constraint's index also serves next-rank lookups (max rank within a name).
        UniqueConstraint("config_name", "rank", name=conv(FRAGMENT_RANK_KEY)),
        # Per-user and per-domain lookups across names (scoped searches, account clean-up).
        Index(None, "scope_id", "scope_type"),
    )

    id: Mapped[PrimaryKey[FragmentId]]
    config_name: Mapped[str] = mapped_column(String(CONFIG_NAME_LENGTH))
    scope_type: Mapped[ScopeType] = _scope_type_column()
    scope_id: Mapped[uuid.UUID | None]
    rank: Mapped[int]
    config: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]
