"""Declarative base with the plugin's own metadata, naming convention and shared column shapes.

Every constraint gets a deterministic name (multi-column ones via `column_0_N_name`), so the
migration can refer to them; names longer than PostgreSQL's 63 bytes are given by hand.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, ClassVar, TypeVar

from sqlalchemy import DateTime, MetaData, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, mapped_column
from sqlalchemy.types import TypeEngine

from scoped_app_config.domain.types import AllowListEntryId, DefinitionId, FragmentId

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_Id = TypeVar("_Id", bound=uuid.UUID)

PrimaryKey = Annotated[
    _Id, mapped_column(primary_key=True, server_default=text("gen_random_uuid()"))
]
CreatedAt = Annotated[datetime, mapped_column(server_default=func.now())]
UpdatedAt = Annotated[datetime, mapped_column(server_default=func.now())]
"""Maintained by a BEFORE UPDATE trigger (see the migration), so bulk UPDATEs keep it too."""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, TypeEngine[Any]]] = {
        uuid.UUID: UUID(as_uuid=True),
        DefinitionId: UUID(as_uuid=True),
        AllowListEntryId: UUID(as_uuid=True),
        FragmentId: UUID(as_uuid=True),
        datetime: DateTime(timezone=True),
    }
