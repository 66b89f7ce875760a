"""The host's shared resources and their lifecycles (aiohttp cleanup contexts).

Clients are built when the app is built (plugins receive them in `setup`, before start-up),
but neither connects before first use; the cleanup contexts own their shutdown.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
from aiohttp import web
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from reference_host.contract import CleanupContext, RedisClient
from reference_host.settings import HostSettings

log = logging.getLogger(__name__)

CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
REDIS_MAX_CONNECTIONS = 512


_JSON_INT_RANGE = range(-(2**63), 2**64)
"""The integers orjson (every JSON response) can serialize."""


def _json_int(text: str) -> int | float:
    # PostgreSQL prints a large JSON number without an exponent (1e21 -> 1000000000000000000000);
    # read it back as the float it was sent as (orjson parses such input as a float too), not as
    # an int no response could serialize.
    value = int(text)
    return value if value in _JSON_INT_RANGE else float(text)


def encode_json(value: Any) -> str:
    """JSON/JSONB bind parameters as text: orjson, with the standard library for what orjson
    refuses (integers beyond 64 bits, which `decode_json` turns into floats anyway)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


def decode_json(text: str) -> Any:
    """JSON/JSONB column values as Python: integers beyond 64 bits become floats.

    orjson decodes everything else (it refuses only such integers), several times faster than
    the standard library on the documents every merged read loads."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text, parse_int=_json_int)


def build_engine(settings: HostSettings) -> AsyncEngine:
    return create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=settings.db_pool_pre_ping,
        json_serializer=encode_json,
        json_deserializer=decode_json,
    )


def build_redis(redis_url: str | None) -> RedisClient | None:
    """One server for redis://, rediss:// and unix://; a cluster for redis+cluster://."""
    if redis_url is None:
        return None
    scheme, sep, rest = redis_url.partition("://")
    if not sep:
        raise ValueError(f"not a Redis URL: {redis_url!r}")
    if scheme in CLUSTER_SCHEMES:
        return RedisCluster.from_url(
            f"{CLUSTER_SCHEMES[scheme]}://{rest}", max_connections=REDIS_MAX_CONNECTIONS
        )
    if scheme in ("redis", "rediss", "unix"):
        # A blocking pool: past its size, a request waits for a free connection (bounded by the
        # caller's own timeout) instead of failing with "Too many connections".
        pool = BlockingConnectionPool.from_url(
            redis_url, max_connections=REDIS_MAX_CONNECTIONS, timeout=None
        )
        return Redis.from_pool(pool)
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
