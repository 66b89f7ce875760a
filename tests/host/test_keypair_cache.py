"""The keypair cache: TTL bound, process-wide invalidation, no stale re-insert after a race."""

from __future__ import annotations

import asyncio
import uuid

from reference_host.auth import keypair_cache
from reference_host.auth.keypair_cache import CachedCredentials, KeypairCache
from reference_host.contract import Caller, Role


def credentials(
    access_key: str = "AKIATEST", user_id: uuid.UUID | None = None
) -> CachedCredentials:
    caller = Caller(
        user_id=user_id or uuid.uuid4(),
        email="u@example.com",
        role=Role.USER,
        domain_id=uuid.uuid4(),
        domain_name="default",
        access_key=access_key,
        is_admin=False,
    )
    return CachedCredentials(secret_key="s" * 40, caller=caller)


class CountingLoader:
    def __init__(self, result: CachedCredentials | None) -> None:
        self.result = result
        self.calls = 0

    async def __call__(self, access_key: str) -> CachedCredentials | None:
        self.calls += 1
        return self.result


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_hit_within_ttl_does_not_reload() -> None:
    clock, load = FakeClock(), CountingLoader(credentials())
    cache = KeypairCache(ttl=5, clock=clock)
    await cache.get("AKIATEST", load)
    clock.now += 4.9
    await cache.get("AKIATEST", load)
    assert load.calls == 1


async def test_entry_expires_after_ttl() -> None:
    clock, load = FakeClock(), CountingLoader(credentials())
    cache = KeypairCache(ttl=5, clock=clock)
    await cache.get("AKIATEST", load)
    clock.now += 5.1
    await cache.get("AKIATEST", load)
    assert load.calls == 2


async def test_unknown_keys_are_not_cached() -> None:
    load = CountingLoader(None)
    cache = KeypairCache()
    assert await cache.get("AKIANONE", load) is None
    assert await cache.get("AKIANONE", load) is None
    assert load.calls == 2


async def test_module_invalidation_reaches_every_cache_of_the_process() -> None:
    user_id = uuid.uuid4()
    first, second = KeypairCache(), KeypairCache()
    for cache in (first, second):
        await cache.get("AKIAONE", CountingLoader(credentials("AKIAONE", user_id)))
        await cache.get("AKIATWO", CountingLoader(credentials("AKIATWO")))
    keypair_cache.invalidate_user(user_id)
    keypair_cache.invalidate_keypair("AKIATWO")
    assert (len(first), len(second)) == (0, 0)


async def test_load_racing_an_invalidation_is_not_stored() -> None:
    cache = KeypairCache()
    started, release = asyncio.Event(), asyncio.Event()

    async def slow_load(access_key: str) -> CachedCredentials | None:
        started.set()
        await release.wait()
        return credentials(access_key)  # read before the deactivation committed

    reader = asyncio.create_task(cache.get("AKIARACE", slow_load))
    await started.wait()
    cache.invalidate_keypair("AKIARACE")
    release.set()
    await reader
    assert len(cache) == 0


async def test_cache_is_bounded() -> None:
    cache = KeypairCache(max_entries=2)
    for key in ("A", "B", "C"):
        await cache.get(key, CountingLoader(credentials(key)))
    assert len(cache) == 2
