"""The host's shared resources and their lifecycles (aiohttp cleanup contexts).

Clients are built when the app is built (plugins receive them in `setup`, before start-up),
but neither connects before first use; the cleanup contexts own their shutdown.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from reference_host.contract import CleanupContext, RedisClient
from reference_host.settings import HostSettings

log = logging.getLogger(__name__)

CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}


def build_engine(settings: HostSettings) -> AsyncEngine:
    return create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=True,
    )


def build_redis(redis_url: str | None) -> RedisClient | None:
    """One server for redis://, rediss:// and unix://; a cluster for redis+cluster://."""
    if redis_url is None:
        return None
    scheme, sep, rest = redis_url.partition("://")
    if not sep:
        raise ValueError(f"not a Redis URL: {redis_url!r}")
    if scheme in CLUSTER_SCHEMES:
        return RedisCluster.from_url(f"{CLUSTER_SCHEMES[scheme]}://{rest}")
    if scheme in ("redis", "rediss", "unix"):
        return Redis.from_url(redis_url)
    raise ValueError(f"unsupported Redis URL scheme {scheme!r}")


def engine_context(engine: AsyncEngine) -> CleanupContext:
    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    return lifecycle


def redis_context(client: RedisClient | None) -> CleanupContext:
    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        yield
        if client is not None:
            await client.aclose()

    return lifecycle
