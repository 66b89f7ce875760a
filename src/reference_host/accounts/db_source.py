"""All SQL over the account tables. Functions take the connection of the caller's transaction."""

from __future__ import annotations

import uuid

import attrs
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from reference_host.accounts.credentials import generate_access_key, generate_secret_key
from reference_host.accounts.errors import AccountConflict
from reference_host.accounts.tables import DomainRow, KeypairRow, UserRow, UserStatus
from reference_host.contract import AccountView, Caller, Role

UNIQUE_VIOLATION = "23505"


@attrs.frozen
class Keypair:
    access_key: str
    secret_key: str


@attrs.frozen
class KeypairOwner:
    """A keypair with its user and domain, whatever their status."""

    secret_key: str
    keypair_active: bool
    user_active: bool
    caller: Caller


def _uuid(value: uuid.UUID) -> uuid.UUID:
    """A plain uuid.UUID (asyncpg returns its own subclass, which e.g. orjson rejects)."""
    return value if type(value) is uuid.UUID else uuid.UUID(int=value.int)


def _account_view(user_id: uuid.UUID, domain_id: uuid.UUID, role: Role) -> AccountView:
    return AccountView(user_id=_uuid(user_id), domain_id=_uuid(domain_id), role=role)


def _is_unique_violation(exc: IntegrityError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == UNIQUE_VIOLATION


async def insert_domain(conn: AsyncConnection, name: str) -> uuid.UUID:
    try:
        async with conn.begin_nested():
            result = await conn.execute(
                sa.insert(DomainRow).values(id=uuid.uuid4(), name=name).returning(DomainRow.id)
            )
    except IntegrityError as exc:
        if _is_unique_violation(exc):
            raise AccountConflict(f"domain {name!r} already exists") from exc
        raise
    return _uuid(result.scalar_one())


async def find_domain_id(conn: AsyncConnection, name: str) -> uuid.UUID | None:
    result = await conn.execute(sa.select(DomainRow.id).where(DomainRow.name == name))
    found = result.scalar_one_or_none()
    return None if found is None else _uuid(found)


async def get_domain_name(conn: AsyncConnection, domain_id: uuid.UUID) -> str:
    result = await conn.execute(sa.select(DomainRow.name).where(DomainRow.id == domain_id))
    return result.scalar_one()


async def domain_exists(conn: AsyncConnection, domain_id: uuid.UUID) -> bool:
    found = await conn.scalar(sa.select(DomainRow.id).where(DomainRow.id == domain_id))
    return found is not None


async def insert_user(
    conn: AsyncConnection, domain_id: uuid.UUID, email: str, role: Role
) -> uuid.UUID:
    try:
        async with conn.begin_nested():
            result = await conn.execute(
                sa.insert(UserRow)
                .values(
                    id=uuid.uuid4(),
                    email=email,
                    role=role,
                    domain_id=domain_id,
                    status=UserStatus.ACTIVE,
                )
                .returning(UserRow.id)
            )
    except IntegrityError as exc:
        if _is_unique_violation(exc):
            raise AccountConflict(f"user {email!r} already exists") from exc
        raise
    return _uuid(result.scalar_one())


async def find_user_by_email(conn: AsyncConnection, email: str) -> AccountView | None:
    row = (
        await conn.execute(
            sa.select(UserRow.id, UserRow.domain_id, UserRow.role).where(UserRow.email == email)
        )
    ).one_or_none()
    return None if row is None else _account_view(row.id, row.domain_id, row.role)


async def find_user(conn: AsyncConnection, user_id: uuid.UUID) -> AccountView | None:
    row = (
        await conn.execute(
            sa.select(UserRow.id, UserRow.domain_id, UserRow.role).where(UserRow.id == user_id)
        )
    ).one_or_none()
    return None if row is None else _account_view(row.id, row.domain_id, row.role)


async def set_user_status(conn: AsyncConnection, user_id: uuid.UUID, status: UserStatus) -> bool:
    result = await conn.execute(
        sa.update(UserRow).where(UserRow.id == user_id).values(status=status)
    )
    await notify_account_change(conn, f"user:{user_id}")
    return result.rowcount > 0


ACCOUNT_CHANGES_CHANNEL = "reference_host_account_changes"


async def notify_account_change(conn: AsyncConnection, payload: str) -> None:
    """Tell every host process (they LISTEN) to forget cached credentials: delivered at commit,
    and only if the transaction commits."""
    await conn.execute(sa.select(sa.func.pg_notify(ACCOUNT_CHANGES_CHANNEL, payload)))


async def insert_keypair(conn: AsyncConnection, user_id: uuid.UUID, *, is_admin: bool) -> Keypair:
    keypair = Keypair(access_key=generate_access_key(), secret_key=generate_secret_key())
    await conn.execute(
        sa.insert(KeypairRow).values(
            access_key=keypair.access_key,
            secret_key=keypair.secret_key,
            user_id=user_id,
            is_active=True,
            is_admin=is_admin,
        )
    )
    return keypair


async def find_active_keypair(conn: AsyncConnection, user_id: uuid.UUID) -> Keypair | None:
    row = (
        await conn.execute(
            sa.select(KeypairRow.access_key, KeypairRow.secret_key)
            .where(KeypairRow.user_id == user_id, KeypairRow.is_active.is_(True))
            .order_by(KeypairRow.created_at, KeypairRow.access_key)
            .limit(1)
        )
    ).one_or_none()
    return None if row is None else Keypair(access_key=row.access_key, secret_key=row.secret_key)


async def set_keypair_active(conn: AsyncConnection, access_key: str, *, active: bool) -> bool:
    result = await conn.execute(
        sa.update(KeypairRow).where(KeypairRow.access_key == access_key).values(is_active=active)
    )
    await notify_account_change(conn, f"keypair:{access_key}")
    return result.rowcount > 0


async def find_keypair_owner(conn: AsyncConnection, access_key: str) -> KeypairOwner | None:
    row = (
        await conn.execute(
            sa.select(
                KeypairRow.secret_key,
                KeypairRow.is_active,
                KeypairRow.is_admin,
                UserRow.id.label("user_id"),
                UserRow.email,
                UserRow.role,
                UserRow.status,
                DomainRow.id.label("domain_id"),
                DomainRow.name.label("domain_name"),
            )
            .select_from(KeypairRow)
            .join(UserRow, UserRow.id == KeypairRow.user_id)
            .join(DomainRow, DomainRow.id == UserRow.domain_id)
            .where(KeypairRow.access_key == access_key)
        )
    ).one_or_none()
    if row is None:
        return None
    return KeypairOwner(
        secret_key=row.secret_key,
        keypair_active=row.is_active,
        user_active=row.status == UserStatus.ACTIVE,
        caller=Caller(
            user_id=_uuid(row.user_id),
            email=row.email,
            role=row.role,
            domain_id=_uuid(row.domain_id),
            domain_name=row.domain_name,
            access_key=access_key,
            is_admin=row.is_admin,
        ),
    )
