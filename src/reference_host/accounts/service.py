"""Account operations (used by the CLI, tests and operators). Each call is one transaction.

After a change that can revoke access commits, the keypair caches of this process are
invalidated, so the change holds from the next request on (see `auth.keypair_cache`).
"""

from __future__ import annotations

import uuid
from typing import TypedDict

from sqlalchemy.ext.asyncio import AsyncEngine

from reference_host.accounts import db_source
from reference_host.accounts.errors import DomainNotFound, KeypairNotFound, UserNotFound
from reference_host.accounts.tables import UserStatus
from reference_host.auth import keypair_cache
from reference_host.contract import Role


class DomainCreated(TypedDict):
    domain_id: uuid.UUID
    name: str


class UserCredentials(TypedDict):
    user_id: uuid.UUID
    domain_id: uuid.UUID
    domain_name: str
    email: str
    role: Role
    access_key: str
    secret_key: str


def _is_admin(role: Role) -> bool:
    return role in (Role.ADMIN, Role.SUPERADMIN)


async def create_domain(engine: AsyncEngine, name: str) -> DomainCreated:
    async with engine.begin() as conn:
        domain_id = await db_source.insert_domain(conn, name)
    return DomainCreated(domain_id=domain_id, name=name)


async def create_user(
    engine: AsyncEngine, domain_name: str, email: str, role: Role | str
) -> UserCredentials:
    """A new active user of an existing domain with one new keypair."""
    role = Role(role)
    async with engine.begin() as conn:
        domain_id = await db_source.find_domain_id(conn, domain_name)
        if domain_id is None:
            raise DomainNotFound(f"domain {domain_name!r} does not exist")
        user_id = await db_source.insert_user(conn, domain_id, email, role)
        keypair = await db_source.insert_keypair(conn, user_id, is_admin=_is_admin(role))
    return UserCredentials(
        user_id=user_id,
        domain_id=domain_id,
        domain_name=domain_name,
        email=email,
        role=role,
        access_key=keypair.access_key,
        secret_key=keypair.secret_key,
    )


async def deactivate_keypair(engine: AsyncEngine, access_key: str) -> None:
    async with engine.begin() as conn:
        if not await db_source.set_keypair_active(conn, access_key, active=False):
            raise KeypairNotFound(f"keypair {access_key!r} does not exist")
    keypair_cache.invalidate_keypair(access_key)


async def set_user_status(engine: AsyncEngine, user_id: uuid.UUID, status: UserStatus) -> None:
    async with engine.begin() as conn:
        if not await db_source.set_user_status(conn, user_id, status):
            raise UserNotFound(f"user {user_id} does not exist")
    keypair_cache.invalidate_user(user_id)


async def deactivate_user(engine: AsyncEngine, user_id: uuid.UUID) -> None:
    await set_user_status(engine, user_id, UserStatus.INACTIVE)


async def ensure_superadmin(
    engine: AsyncEngine, domain: str = "default", email: str = "admin@example.com"
) -> UserCredentials:
    """The superadmin `email` of `domain`, created with both if missing; reuses its keypair.

    Idempotent: a second call returns the same access and secret key. An existing user with
    that email keeps its role and domain (the result reports them as they are).
    """
    async with engine.begin() as conn:
        domain_id = await db_source.find_domain_id(conn, domain)
        if domain_id is None:
            domain_id = await db_source.insert_domain(conn, domain)
        user = await db_source.find_user_by_email(conn, email)
        if user is None:
            user_id = await db_source.insert_user(conn, domain_id, email, Role.SUPERADMIN)
            role = Role.SUPERADMIN
        else:
            user_id, domain_id, role = user.user_id, user.domain_id, user.role
            domain = await db_source.get_domain_name(conn, domain_id)
        keypair = await db_source.find_active_keypair(conn, user_id)
        if keypair is None:
            keypair = await db_source.insert_keypair(conn, user_id, is_admin=_is_admin(role))
    return UserCredentials(
        user_id=user_id,
        domain_id=domain_id,
        domain_name=domain,
        email=email,
        role=role,
        access_key=keypair.access_key,
        secret_key=keypair.secret_key,
    )
