"""Fixtures for the merged-view cache tests: the single Redis, a local Redis Cluster, and both.

`cache_client` runs a test once against the suite's single Redis (`redis_client`, embedded unless
REFERENCE_HOST_REDIS_URL is given) and once against a three-master Redis Cluster started here.
When no cluster can be started the cluster half is skipped with the exact reason.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from cache_support import Population
from redis.asyncio.cluster import RedisCluster

from redis_cluster import ClusterUnavailable, LocalRedisCluster
from reference_host.contract import RedisClient
from reference_host.resources import build_redis
from scoped_app_config.repositories.fragment.cache_source import AppConfigFragmentCacheSource
from scoped_app_config.repositories.fragment.cache_source.multiplexed import MultiplexedConnection

DEFAULT_TTL_SECONDS = 300


@pytest.fixture(scope="session")
def redis_cluster(work_dir: Path) -> Iterator[LocalRedisCluster]:
    """A three-master Redis Cluster on 127.0.0.1 for the whole session (skip: says why not)."""
    cluster = LocalRedisCluster(work_dir / "redis-cluster")
    try:
        cluster.start()
    except ClusterUnavailable as exc:
        pytest.skip(f"cannot start a local Redis Cluster: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def redis_cluster_url(redis_cluster: LocalRedisCluster) -> str:
    """`redis+cluster://127.0.0.1:<first master>`: the host maps it to `RedisCluster`."""
    return redis_cluster.url


@pytest.fixture
async def cluster_client(redis_cluster_url: str) -> AsyncIterator[RedisCluster]:
    """A `RedisCluster` client built the way the host builds it; every master flushed after."""
    client = build_redis(redis_cluster_url)
    assert isinstance(client, RedisCluster)
    try:
        yield client
    finally:
        await client.flushall(target_nodes=RedisCluster.PRIMARIES)
        await client.aclose()


@pytest.fixture(params=["single", "cluster"])
def cache_client(request: pytest.FixtureRequest) -> RedisClient:
    """The test's Redis: the single server, then the cluster."""
    if request.param == "single":
        client: aioredis.Redis = request.getfixturevalue("redis_client")
        return client
    cluster: RedisCluster = request.getfixturevalue("cluster_client")
    return cluster


@pytest.fixture
async def cache_source(cache_client: RedisClient) -> AsyncIterator[AppConfigFragmentCacheSource]:
    """Built as the plugin builds it: lookups multiplexed on the single server."""
    source = AppConfigFragmentCacheSource(
        cache_client,
        ttl_seconds=DEFAULT_TTL_SECONDS,
        multiplexed=MultiplexedConnection.for_client(cache_client),
    )
    yield source
    await source.aclose()


@pytest.fixture
def two_domains_with_users() -> Population:
    return Population.fresh()
