"""Keypair cache invalidation across processes: NOTIFY at commit, and a lost listener."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from reference_host.accounts import db_source, service
from reference_host.auth import account_changes
from reference_host.auth.account_changes import AccountChangeListener
from reference_host.auth.keypair_cache import CachedCredentials, KeypairCache
from reference_host.contract import Caller, Role


def credentials_of(user_id: uuid.UUID) -> CachedCredentials:
    caller = Caller(
        user_id=user_id,
        email="ada@example.com",
        role=Role.USER,
        domain_id=uuid.uuid4(),
        domain_name="default",
        access_key="AKIATEST",
        is_admin=False,
    )
    return CachedCredentials(secret_key="secret", caller=caller)


async def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")


async def test_a_deactivation_committed_elsewhere_reaches_the_listening_cache(
    db_engine: AsyncEngine, database_url: str
) -> None:
    await service.create_domain(db_engine, "default")
    user = await service.create_user(db_engine, "default", "ada@example.com", Role.USER)
    cache = KeypairCache()
    cache.trusted = False
    async with AccountChangeListener(database_url, cache).running():
        await until(lambda: cache.trusted)
        await cache.get(user["access_key"], lambda _key: _loaded(user["user_id"]))
        assert await cache.get(user["access_key"], _fail_loader) is not None

        # As another process would: the SQL change and its NOTIFY, no in-process invalidation.
        async with db_engine.begin() as connection:
            await db_source.set_keypair_active(connection, user["access_key"], active=False)

        await until(lambda: len(cache) == 0)


async def _fail_loader(_key: str) -> CachedCredentials:
    raise AssertionError("the cache was expected to answer")


async def test_a_dropped_listener_reconnects_and_clears_what_it_may_have_missed(
    db_engine: AsyncEngine, database_url: str
) -> None:
    cache = KeypairCache()
    cache.trusted = False
    async with AccountChangeListener(database_url, cache).running():
        await until(lambda: cache.trusted)
        await cache.get("AKIAKEPT", lambda _key: _loaded(uuid.uuid4()))
        assert len(cache) == 1
        async with db_engine.connect() as connection:
            await connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE query LIKE 'LISTEN %' AND pid <> pg_backend_pid()"
                )
            )
        await until(lambda: len(cache) == 0 and cache.trusted)


async def _loaded(user_id: uuid.UUID) -> CachedCredentials:
    return credentials_of(user_id)


async def test_a_listener_that_stays_down_stops_the_cache_from_answering(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(account_changes, "DISTRUST_AFTER_SECONDS", 0.2)
    cache = KeypairCache()
    cache.trusted = True
    unreachable = "postgresql+asyncpg://postgres@127.0.0.1:1/none"
    async with AccountChangeListener(unreachable, cache).running():
        await until(lambda: not cache.trusted)
