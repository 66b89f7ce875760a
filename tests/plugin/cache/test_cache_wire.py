"""What the cache sends to Redis: invalidation cost independent of cache size, cluster-safe keys.

Commands are recorded client-side by wrapping the client's pipeline (`cache_support`), on the
single server and on the cluster.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable

import pytest
from cache_support import CommandRecorder, Population, record_commands
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot

from reference_host.contract import RedisClient
from scoped_app_config.domain.types import ScopeType
from scoped_app_config.repositories.fragment.cache_source import (
    AppConfigFragmentCacheSource,
    Viewer,
    keys,
)

Invalidation = Callable[[], Awaitable[None]]


def invalidations(
    source: AppConfigFragmentCacheSource, population: Population
) -> dict[str, Invalidation]:
    return {
        "public": lambda: source.invalidate_for_scope(ScopeType.PUBLIC, None),
        "domain": lambda: source.invalidate_for_scope(ScopeType.DOMAIN, population.domain_a),
        "domain_user_defaults": lambda: source.invalidate_for_scope(
            ScopeType.DOMAIN_USER_DEFAULTS, population.domain_a
        ),
        "user": lambda: source.invalidate_for_scope(ScopeType.USER, population.alice.user_id),
        "policy": lambda: source.invalidate_for_policy("name-0"),
    }


async def cache_views(
    source: AppConfigFragmentCacheSource, viewers: list[Viewer], names: list[str]
) -> None:
    for viewer in viewers:
        lookup = await source.get_merged_configs(viewer, names)
        await source.set_merged_configs(lookup, {name: b'{"k":1}' for name in lookup.misses})


async def cached_view_count(client: RedisClient) -> int:
    count = 0
    for pattern in ("app_config:merged:*", "app_config:public:*"):
        async for _ in client.scan_iter(match=pattern, count=1000):
            count += 1
    return count


@pytest.fixture
def recorded_client(cache_client: RedisClient, monkeypatch: pytest.MonkeyPatch) -> CommandRecorder:
    return record_commands(cache_client, monkeypatch)


async def test_invalidation_costs_one_command_whether_10_or_5000_views_are_cached(
    cache_client: RedisClient,
    cache_source: AppConfigFragmentCacheSource,
    recorded_client: CommandRecorder,
    two_domains_with_users: Population,
) -> None:
    population = two_domains_with_users
    domain_a_users = [population.alice, population.arthur]
    domain_a_users += [Viewer(uuid.uuid4(), population.domain_a) for _ in range(23)]
    domain_b_users = [population.bob] + [
        Viewer(uuid.uuid4(), population.domain_b) for _ in range(23)
    ]
    viewers = [*domain_a_users, *domain_b_users, population.anonymous]  # 50 viewers
    names = [f"name-{i}" for i in range(100)]
    kinds = invalidations(cache_source, population)

    await cache_views(cache_source, [population.alice, population.anonymous], names[:5])
    assert await cached_view_count(cache_client) == 10
    cost_with_10 = {kind: await recorded_client.cost_of(run) for kind, run in kinds.items()}

    await cache_views(cache_source, viewers, names)
    assert await cached_view_count(cache_client) == 5000
    cost_with_5000 = {kind: await recorded_client.cost_of(run) for kind, run in kinds.items()}

    assert cost_with_5000 == cost_with_10
    assert set(cost_with_10.values()) == {(("SET",), 1)}  # one SET of a generation, one round trip
    # Nothing was deleted inline: the old views stay until their TTL, unreachable.
    assert await cached_view_count(cache_client) == 5000
    for viewer in (population.alice, population.bob, population.anonymous, viewers[-2]):
        assert (await cache_source.get_merged_configs(viewer, names)).hits == {}


def lookup_commands(client: RedisClient) -> tuple[str, ...]:
    """One MGET on a single server; on a cluster one per slot: the user's views with the
    user's token, the public and name tokens, and the domain's token."""
    return ("MGET",) * (3 if isinstance(client, RedisCluster) else 1)


async def test_a_lookup_costs_one_round_trip_for_any_number_of_names(
    cache_client: RedisClient,
    cache_source: AppConfigFragmentCacheSource,
    recorded_client: CommandRecorder,
    two_domains_with_users: Population,
) -> None:
    alice = two_domains_with_users.alice
    for names in (["theme"], [f"name-{i}" for i in range(50)]):
        await cache_source.get_merged_configs(alice, names)  # issues the generation tokens
        commands, round_trips = await recorded_client.cost_of(
            functools.partial(cache_source.get_merged_configs, alice, names)
        )
        assert round_trips == 1
        assert commands == lookup_commands(cache_client)  # however many names are asked for


async def test_the_first_lookup_issues_missing_generation_tokens_in_one_more_round_trip(
    cache_client: RedisClient,
    cache_source: AppConfigFragmentCacheSource,
    recorded_client: CommandRecorder,
    two_domains_with_users: Population,
) -> None:
    names = ["theme", "menu"]
    commands, round_trips = await recorded_client.cost_of(
        functools.partial(cache_source.get_merged_configs, two_domains_with_users.alice, names)
    )
    assert round_trips == 2
    generations = 3 + 3 * len(names)  # three scopes, and each scope per name
    assert commands == lookup_commands(cache_client) + ("SET", "GET") * generations


async def test_a_lost_generation_token_invalidates_views_instead_of_reviving_them(
    cache_source: AppConfigFragmentCacheSource,
    cache_client: RedisClient,
    two_domains_with_users: Population,
) -> None:
    alice = two_domains_with_users.alice
    before = await cache_source.get_merged_configs(alice, ["theme"])
    await cache_source.set_merged_configs(before, {"theme": b'{"v":1}'})
    assert (await cache_source.get_merged_configs(alice, ["theme"])).hits == {"theme": b'{"v":1}'}
    await cache_client.delete(keys.public_generation_key())  # as eviction or expiry would
    assert (await cache_source.get_merged_configs(alice, ["theme"])).hits == {}


async def test_on_a_cluster_every_command_touches_a_single_hash_slot(
    cache_client: RedisClient,
    cache_source: AppConfigFragmentCacheSource,
    recorded_client: CommandRecorder,
    two_domains_with_users: Population,
) -> None:
    population = two_domains_with_users
    names = ["theme", "layout", "menu"]
    for viewer in population.viewers.values():
        lookup = await cache_source.get_merged_configs(viewer, [*names, "theme"])
        await cache_source.set_merged_configs(lookup, {name: b"{}" for name in names})
        await cache_source.get_merged_config(viewer, "theme")
    for invalidate in invalidations(cache_source, population).values():
        await invalidate()
    await cache_source.invalidate_keys(
        [keys.public_generation_key(), keys.name_generation_key("x")]
    )

    assert recorded_client.commands
    for command in recorded_client.commands:
        assert not command.walks_the_keyspace
        if isinstance(cache_client, RedisCluster):  # a single server reads across slots
            assert len(command.slots) == 1, f"{command.args} spans slots {command.slots}"


def test_a_users_views_share_the_hash_slot_of_the_users_generation() -> None:
    user_id = uuid.uuid4()
    user_slot = key_slot(keys.user_generation_key(user_id).encode())

    assert {key_slot(keys.merged_view_key(user_id, name).encode()) for name in ("a", "b{x}")} == {
        user_slot
    }


def test_public_views_and_global_generations_share_one_hash_slot() -> None:
    global_keys = [
        keys.public_generation_key(),
        keys.name_generation_key("theme"),
        keys.name_generation_key("{tricky}"),
        keys.public_view_key("theme"),
        keys.public_view_key("{tricky}"),
    ]

    assert len({key_slot(key.encode()) for key in global_keys}) == 1


def test_keys_keep_the_documented_readable_shape() -> None:
    user_id = uuid.uuid4()

    assert keys.merged_view_key(user_id, "theme") == f"app_config:merged:{{{user_id}}}:theme"
