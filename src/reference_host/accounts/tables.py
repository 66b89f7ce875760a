"""Account tables (SQLAlchemy 2 typed mapping) on the host's own MetaData.

The schema is created by the host's Alembic lineage (`migrations/versions/*_accounts.py`);
this mapping must match it. Every constraint is named by the convention.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Annotated

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from reference_host.contract import Role

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UserStatus(enum.StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class AccountsBase(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


UUIDPrimaryKey = Annotated[uuid.UUID, mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)]
CreatedAt = Annotated[
    dt.datetime, mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
]


def _values(enum_class: type[enum.Enum]) -> list[str]:
    return [str(member.value) for member in enum_class]


class DomainRow(AccountsBase):
    __tablename__ = "domains"

    id: Mapped[UUIDPrimaryKey]
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[CreatedAt]


class UserRow(AccountsBase):
    __tablename__ = "users"

    id: Mapped[UUIDPrimaryKey]
    email: Mapped[str] = mapped_column(sa.String(128), unique=True)
    role: Mapped[Role] = mapped_column(sa.Enum(Role, name="user_role", values_callable=_values))
    domain_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("domains.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[UserStatus] = mapped_column(
        sa.Enum(UserStatus, name="user_status", values_callable=_values),
        default=UserStatus.ACTIVE,
    )
    created_at: Mapped[CreatedAt]


class KeypairRow(AccountsBase):
    __tablename__ = "keypairs"

    access_key: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    secret_key: Mapped[str] = mapped_column(sa.String(40))
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    is_active: Mapped[bool] = mapped_column(default=True)
    is_admin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[CreatedAt]
