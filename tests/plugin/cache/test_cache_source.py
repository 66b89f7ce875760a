"""The merged-view cache on a real Redis and on a Redis Cluster: lookups, expiry, invalidation.

Each test runs twice through `cache_client` (single server, then cluster). Views are opaque
JSON bytes here; each view names its viewer and config so a hit can be checked byte for byte.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterable

import pytest
from cache_support import Population

from reference_host.contract import RedisClient
from scoped_app_config.domain.types import ScopeType
from scoped_app_config.repositories.fragment.cache_source import (
    AppConfigFragmentCacheSource,
    Viewer,
    fragment_generation_key,
    keys,
)

NAMES = ("theme", "layout")


def view_bytes(label: str, name: str, version: int = 1) -> bytes:
    return f'{{"viewer":"{label}","name":"{name}","version":{version}}}'.encode()


async def cache_every_view(
    source: AppConfigFragmentCacheSource, population: Population, names: Iterable[str] = NAMES
) -> None:
    for label, viewer in population.viewers.items():
        lookup = await source.get_merged_configs(viewer, list(names))
        await source.set_merged_configs(lookup, {name: view_bytes(label, name) for name in names})


async def cached_views(
    source: AppConfigFragmentCacheSource, population: Population, names: Iterable[str] = NAMES
) -> set[tuple[str, str]]:
    """(viewer, name) of every view served from the cache; each hit must be that view's bytes."""
    served: set[tuple[str, str]] = set()
    for label, viewer in population.viewers.items():
        lookup = await source.get_merged_configs(viewer, list(names))
        for name, config_json in lookup.hits.items():
            assert config_json == view_bytes(label, name)
            served.add((label, name))
    return served


def every_view(population: Population, names: Iterable[str] = NAMES) -> set[tuple[str, str]]:
    return {(label, name) for label in population.viewers for name in names}


# --- hit, miss, set-then-hit, expiry -------------------------------------------------------------


async def test_an_uncached_view_is_a_miss_with_a_tag_to_store_it_under(
    cache_source: AppConfigFragmentCacheSource, two_domains_with_users: Population
) -> None:
    lookup = await cache_source.get_merged_configs(two_domains_with_users.alice, ["theme"])

    assert lookup.hits == {}
    assert lookup.misses == ["theme"]
    assert set(lookup.tags) == {"theme"}


async def test_a_stored_view_is_then_served_byte_for_byte(
    cache_source: AppConfigFragmentCacheSource, two_domains_with_users: Population
) -> None:
    alice = two_domains_with_users.alice
    config_json = '{"colour":"teal","nested":{"a":[1,2,"|"]},"emoji":"☕"}'.encode()
    miss = await cache_source.get_merged_config(alice, "theme")
    await cache_source.set_merged_config(miss, "theme", config_json)

    hit = await cache_source.get_merged_config(alice, "theme")

    assert hit.hits == {"theme": config_json}
    assert hit.misses == []


async def test_a_view_is_a_miss_again_once_its_ttl_has_passed(
    cache_client: RedisClient, two_domains_with_users: Population
) -> None:
    source = AppConfigFragmentCacheSource(cache_client, ttl_seconds=1)
    alice = two_domains_with_users.alice
    miss = await source.get_merged_config(alice, "theme")
    await source.set_merged_config(miss, "theme", b"{}")
    assert (await source.get_merged_config(alice, "theme")).hits == {"theme": b"{}"}

    await asyncio.sleep(1.1)

    assert (await source.get_merged_config(alice, "theme")).misses == ["theme"]


async def test_views_are_stored_with_the_configured_ttl(
    cache_client: RedisClient, two_domains_with_users: Population
) -> None:
    source = AppConfigFragmentCacheSource(cache_client, ttl_seconds=120)
    alice = two_domains_with_users.alice
    assert alice.user_id is not None
    await source.set_merged_config(await source.get_merged_config(alice, "theme"), "theme", b"{}")

    ttl = await cache_client.ttl(keys.merged_view_key(alice.user_id, "theme"))

    assert 110 <= ttl <= 120


async def test_the_anonymous_public_view_is_cached_apart_from_users_views(
    cache_source: AppConfigFragmentCacheSource, two_domains_with_users: Population
) -> None:
    anonymous, alice = two_domains_with_users.anonymous, two_domains_with_users.alice
    lookup = await cache_source.get_merged_config(anonymous, "theme")
    await cache_source.set_merged_config(lookup, "theme", b'{"public":true}')

    assert (await cache_source.get_merged_config(anonymous, "theme")).hits == {
        "theme": b'{"public":true}'
    }
    assert (await cache_source.get_merged_config(alice, "theme")).misses == ["theme"]


async def test_users_never_see_each_others_views(
    cache_source: AppConfigFragmentCacheSource, two_domains_with_users: Population
) -> None:
    alice, arthur = two_domains_with_users.alice, two_domains_with_users.arthur
    lookup = await cache_source.get_merged_config(alice, "theme")
    await cache_source.set_merged_config(lookup, "theme", b'{"owner":"alice"}')

    assert (await cache_source.get_merged_config(arthur, "theme")).misses == ["theme"]
    assert (await cache_source.get_merged_config(Viewer(), "theme")).misses == ["theme"]


async def test_one_lookup_serves_several_names_and_counts_a_repeated_name_once(
    cache_source: AppConfigFragmentCacheSource, two_domains_with_users: Population
) -> None:
    bob = two_domains_with_users.bob
    first = await cache_source.get_merged_configs(bob, ["theme", "layout", "theme", "menu"])
    assert first.misses == ["theme", "layout", "menu"]
    await cache_source.set_merged_configs(first, {"theme": b'{"t":1}', "menu": b'{"m":1}'})

    second = await cache_source.get_merged_configs(bob, ["menu", "theme", "layout", "menu"])

    assert second.hits == {"theme": b'{"t":1}', "menu": b'{"m":1}'}
    assert second.misses == ["layout"]


async def test_a_lookup_of_no_names_is_an_empty_answer(
    cache_source: AppConfigFragmentCacheSource, two_domains_with_users: Population
) -> None:
    lookup = await cache_source.get_merged_configs(two_domains_with_users.alice, [])

    assert lookup.hits == {}
    assert lookup.misses == []
    await cache_source.set_merged_configs(lookup, {})


async def test_an_undecodable_value_under_a_view_key_reads_as_a_miss(
    cache_client: RedisClient,
    cache_source: AppConfigFragmentCacheSource,
    two_domains_with_users: Population,
) -> None:
    alice = two_domains_with_users.alice
    assert alice.user_id is not None
    await cache_client.set(keys.merged_view_key(alice.user_id, "theme"), b"\xff not a view")

    assert (await cache_source.get_merged_config(alice, "theme")).misses == ["theme"]


# --- invalidation: exactly the affected views change, the others stay cached ---------------------


async def test_public_write_invalidates_every_users_and_the_anonymous_view(
    cache_source: AppConfigFragmentCacheSource, two_domains_with_users: Population
) -> None:
    population = two_domains_with_users
    await cache_every_view(cache_source, population)
    assert await cached_views(cache_source, population) == every_view(population)

    await cache_source.invalidate_for_scope(ScopeType.PUBLIC, None)

    assert await cached_views(cache_source, population) == set()


@pytest.mark.parametrize("scope_type", [ScopeType.DOMAIN, ScopeType.DOMAIN_USER_DEFAULTS])
async def test_domain_write_invalidates_the_views_of_that_domains_users_only(
    cache_source: AppConfigFragmentCacheSource,
    two_domains_with_users: Population,
    scope_type: ScopeType,
) -> None:
    population = two_domains_with_users
    await cache_every_view(cache_source, population)

    await cache_source.invalidate_for_scope(scope_type, population.domain_a)

    assert await cached_views(cache_source, population) == {
        (label, name) for label in ("bob", "anonymous") for name in NAMES
    }


async def test_user_write_invalidates_only_that_users_views(
    cache_source: AppConfigFragmentCacheSource, two_domains_with_users: Population
) -> None:
    population = two_domains_with_users
    await cache_every_view(cache_source, population)

    await cache_source.invalidate_for_scope(ScopeType.USER, population.alice.user_id)

    assert await cached_views(cache_source, population) == every_view(population) - {
        ("alice", name) for name in NAMES
    }


async def test_policy_change_invalidates_every_view_of_that_name_only(
    cache_source: AppConfigFragmentCacheSource, two_domains_with_users: Population
) -> None:
    population = two_domains_with_users
    await cache_every_view(cache_source, population)

    await cache_source.invalidate_for_policy("theme")

    assert await cached_views(cache_source, population) == every_view(population, ["layout"])


async def test_views_stored_after_an_invalidation_are_served_again(
    cache_source: AppConfigFragmentCacheSource, two_domains_with_users: Population
) -> None:
    population = two_domains_with_users
    await cache_every_view(cache_source, population)
    await cache_source.invalidate_for_scope(ScopeType.PUBLIC, None)
    await cache_source.invalidate_for_policy("theme")

    await cache_every_view(cache_source, population)

    assert await cached_views(cache_source, population) == every_view(population)


async def test_invalidating_several_generations_at_once_drops_each_slice(
    cache_source: AppConfigFragmentCacheSource, two_domains_with_users: Population
) -> None:
    population = two_domains_with_users
    assert population.bob.user_id is not None
    await cache_every_view(cache_source, population)

    await cache_source.invalidate_keys(
        [keys.user_generation_key(population.bob.user_id), keys.name_generation_key("layout")]
    )

    assert await cached_views(cache_source, population) == {
        (label, "theme") for label in ("alice", "arthur", "anonymous")
    }


FRAGMENT_WRITES: dict[str, tuple[ScopeType, Callable[[Population], uuid.UUID | None], set[str]]] = {
    "public": (ScopeType.PUBLIC, lambda p: None, {"alice", "arthur", "bob", "anonymous"}),
    "domain": (ScopeType.DOMAIN, lambda p: p.domain_a, {"alice", "arthur"}),
    "domain_user_defaults": (
        ScopeType.DOMAIN_USER_DEFAULTS,
        lambda p: p.domain_a,
        {"alice", "arthur"},
    ),
    "user": (ScopeType.USER, lambda p: p.alice.user_id, {"alice"}),
}


@pytest.mark.parametrize("scope", FRAGMENT_WRITES.values(), ids=FRAGMENT_WRITES)
async def test_a_fragment_write_drops_only_its_names_views_of_the_viewers_it_reaches(
    cache_source: AppConfigFragmentCacheSource,
    two_domains_with_users: Population,
    scope: tuple[ScopeType, Callable[[Population], uuid.UUID | None], set[str]],
) -> None:
    population = two_domains_with_users
    scope_type, scope_id_of, reached = scope
    await cache_every_view(cache_source, population)

    await cache_source.invalidate_keys(
        [fragment_generation_key(scope_type, scope_id_of(population), "theme")]
    )

    assert await cached_views(cache_source, population) == every_view(population) - {
        (label, "theme") for label in reached
    }


# --- the seed's race: a reader stores a view computed before a write it did not see -------------

Write = Callable[[AppConfigFragmentCacheSource, Population], Awaitable[None]]



def fragment_write(
    scope_type: ScopeType, scope_id_of: Callable[[Population], uuid.UUID | None]
) -> Write:
    """What a write of alice's visible "theme" fragment at this scope invalidates."""

    async def write(source: AppConfigFragmentCacheSource, population: Population) -> None:
        key = fragment_generation_key(scope_type, scope_id_of(population), "theme")
        await source.invalidate_keys([key])

    return write


WRITES_THAT_AFFECT_ALICE: dict[str, Write] = {
    "public": lambda source, p: source.invalidate_for_scope(ScopeType.PUBLIC, None),
    "domain": lambda source, p: source.invalidate_for_scope(ScopeType.DOMAIN, p.domain_a),
    "domain_user_defaults": lambda source, p: source.invalidate_for_scope(
        ScopeType.DOMAIN_USER_DEFAULTS, p.domain_a
    ),
    "user": lambda source, p: source.invalidate_for_scope(ScopeType.USER, p.alice.user_id),
    "policy": lambda source, p: source.invalidate_for_policy("theme"),
    **{
        f"{label}-fragment": fragment_write(scope_type, scope_id_of)
        for label, (scope_type, scope_id_of, _) in FRAGMENT_WRITES.items()
    },
}


@pytest.mark.parametrize("write", WRITES_THAT_AFFECT_ALICE.values(), ids=WRITES_THAT_AFFECT_ALICE)
async def test_a_view_computed_before_a_write_and_stored_after_it_is_never_served(
    cache_source: AppConfigFragmentCacheSource, two_domains_with_users: Population, write: Write
) -> None:
    alice = two_domains_with_users.alice
    reader_lookup = await cache_source.get_merged_config(alice, "theme")  # miss; reads old rows
    await write(cache_source, two_domains_with_users)  # the writer commits, invalidates, answers
    await cache_source.set_merged_config(reader_lookup, "theme", b'{"stale":true}')

    after_write = await cache_source.get_merged_config(alice, "theme")

    assert after_write.hits == {}
    assert after_write.misses == ["theme"]


async def test_a_late_stale_store_cannot_replace_a_fresh_view_with_a_servable_one(
    cache_source: AppConfigFragmentCacheSource, two_domains_with_users: Population
) -> None:
    alice = two_domains_with_users.alice
    slow_reader = await cache_source.get_merged_config(alice, "theme")
    await cache_source.invalidate_for_scope(ScopeType.DOMAIN, two_domains_with_users.domain_a)
    fast_reader = await cache_source.get_merged_config(alice, "theme")
    await cache_source.set_merged_config(fast_reader, "theme", b'{"fresh":true}')
    assert (await cache_source.get_merged_config(alice, "theme")).hits == {
        "theme": b'{"fresh":true}'
    }

    await cache_source.set_merged_config(slow_reader, "theme", b'{"stale":true}')

    # The fresh view was overwritten (a wasted entry), but the stale one is never served.
    assert (await cache_source.get_merged_config(alice, "theme")).hits == {}


async def test_concurrent_readers_and_writers_never_serve_a_view_older_than_the_last_write(
    cache_source: AppConfigFragmentCacheSource,
) -> None:
    """Interleaved tasks. Readers read the "database" after their lookup (as the repository
    does) and yield before storing, so writes land between a reader's database read and its
    store; a hit must never be older than the last write acknowledged before the lookup."""
    viewer = Viewer(user_id=uuid.uuid4(), domain_id=uuid.uuid4())
    assert viewer.domain_id is not None
    domain_id = viewer.domain_id
    database_version = 0
    acknowledged_version = 0
    stale_reads: list[tuple[int, int]] = []
    hits = 0

    async def writer() -> None:
        nonlocal database_version, acknowledged_version
        for _ in range(50):
            database_version += 1
            version = database_version
            await asyncio.sleep(0)
            await cache_source.invalidate_for_scope(ScopeType.DOMAIN, domain_id)
            acknowledged_version = version

    async def reader() -> None:
        nonlocal hits
        for _ in range(60):
            acknowledged_before_lookup = acknowledged_version
            lookup = await cache_source.get_merged_config(viewer, "theme")
            if "theme" in lookup.hits:
                hits += 1
                seen = int(lookup.hits["theme"])
                if seen < acknowledged_before_lookup:
                    stale_reads.append((seen, acknowledged_before_lookup))
                continue
            computed = database_version
            await asyncio.sleep(0)
            await cache_source.set_merged_config(lookup, "theme", str(computed).encode())

    await asyncio.gather(writer(), *(reader() for _ in range(4)))

    assert stale_reads == []
    assert hits > 0  # the cache did serve views, so the check above checked something
