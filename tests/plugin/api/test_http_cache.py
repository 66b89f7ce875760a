"""Cache correctness through the API: after every kind of write, the next my/get shows it.

Each case reads the user's merged view twice first (with Redis, the second read is a cache hit:
the test checks that views are stored), then writes, then reads once more. The same cases run
against a host whose Redis URL points at a closed port: reads and writes still succeed from
the database and stay correct.

World: `theme` with entries public 100, domain_user_defaults 200, domain 200 and user 300 (the
two domain entries share a rank so fragment ranks decide between them), and fragments at
public, domain_user_defaults and domain of domain A (created in that order, so domain wins).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

import attrs
import pytest
import redis.asyncio as aioredis
from api_scenarios import UNREACHABLE_REDIS_URL, Callers, callers_for
from api_support import Registration, assert_ok, register, scope, upsert
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

# tests/ is on sys.path for pytest (tests/conftest.py); mypy sees this directory alone.
from plugin_host import (  # type: ignore[import-not-found, unused-ignore]
    ALLOW_LIST,
    DEFINITIONS,
    FRAGMENTS,
    Accounts,
    MakeClient,
)

BASE_VIEW: Final = {"v": "domain", "public": 1, "defaults": 1, "domain": 1}


@attrs.frozen
class World:
    callers: Callers
    accounts: Accounts
    registration: Registration
    fragments: dict[str, dict[str, Any]]

    def fragment_id(self, key: str) -> str:
        fragment_id: str = self.fragments[key]["id"]
        return fragment_id

    def scope_of(self, key: str) -> dict[str, Any]:
        return {
            "public": scope("public"),
            "domain_user_defaults": scope("domain_user_defaults", self.accounts.domain_a),
            "domain": scope("domain", self.accounts.domain_a),
            "user": scope("user", self.accounts.user["user_id"]),
        }[key]


Write = Callable[[World], Awaitable[dict[str, Any]]]
"""Performs one write and returns the merged view of `theme` the user must see next."""


async def upsert_public(w: World) -> dict[str, Any]:
    await upsert(w.callers.superadmin, w.scope_of("public"), {"theme": {"public": 2}})
    return {**BASE_VIEW, "public": 2}


async def upsert_domain_user_defaults(w: World) -> dict[str, Any]:
    scope_ref = w.scope_of("domain_user_defaults")
    await upsert(w.callers.domain_admin, scope_ref, {"theme": {"v": "defaults", "defaults": 2}})
    return {**BASE_VIEW, "defaults": 2}


async def upsert_domain(w: World) -> dict[str, Any]:
    await upsert(w.callers.domain_admin, w.scope_of("domain"), {"theme": {"v": "domain2"}})
    return {"v": "domain2", "public": 1, "defaults": 1}


async def upsert_user_scope(w: World) -> dict[str, Any]:
    await upsert(w.callers.domain_admin, w.scope_of("user"), {"theme": {"v": "user"}})
    return {**BASE_VIEW, "v": "user"}


async def upsert_my_fragments(w: World) -> dict[str, Any]:
    response = await w.callers.user.post(
        f"{FRAGMENTS}/my/bulk-upsert", {"items": [{"config_name": "theme", "config": {"u": 1}}]}
    )
    assert_ok(response)
    return {**BASE_VIEW, "u": 1}


async def create_single_fragment(w: World) -> dict[str, Any]:
    response = await w.callers.user.post(
        f"{FRAGMENTS}/",
        {"config_name": "theme", "scope": w.scope_of("user"), "config": {"v": "mine"}},
    )
    assert_ok(response, 201)
    return {**BASE_VIEW, "v": "mine"}


async def patch_fragment_config(w: World) -> dict[str, Any]:
    response = await w.callers.domain_admin.patch(
        f"{FRAGMENTS}/{w.fragment_id('domain')}", {"config": {"v": "patched"}}
    )
    assert_ok(response)
    return {"v": "patched", "public": 1, "defaults": 1}


async def patch_fragment_rank(w: World) -> dict[str, Any]:
    response = await w.callers.superadmin.patch(
        f"{FRAGMENTS}/{w.fragment_id('domain_user_defaults')}", {"rank": 10_000}
    )
    assert_ok(response)
    return {**BASE_VIEW, "v": "defaults"}


async def delete_fragment(w: World) -> dict[str, Any]:
    response = await w.callers.domain_admin.delete(f"{FRAGMENTS}/{w.fragment_id('domain')}")
    assert_ok(response)
    return {"v": "defaults", "public": 1, "defaults": 1}


async def bulk_delete_fragments(w: World) -> dict[str, Any]:
    ids = [w.fragment_id("domain"), w.fragment_id("public")]
    response = await w.callers.superadmin.post(f"{FRAGMENTS}/bulk-delete", {"ids": ids})
    assert assert_ok(response) == {"items": ids, "failed": []}
    return {"v": "defaults", "defaults": 1}


async def create_allow_list_entry(w: World) -> dict[str, Any]:
    # The world's public entry is purged before the warm-up reads (see PREPARE); granting it
    # again admits no fragment by itself, so the view must stay as it was, then follow a write.
    response = await w.callers.superadmin.post(
        f"{ALLOW_LIST}/", {"config_name": "theme", "scope_type": "public", "rank": 1000}
    )
    assert_ok(response, 201)
    assert await w.callers.user.merged_config("theme") == {
        "v": "domain",
        "defaults": 1,
        "domain": 1,
    }
    await upsert(w.callers.superadmin, w.scope_of("public"), {"theme": {"v": "public"}})
    return {"v": "public", "defaults": 1, "domain": 1}


async def patch_allow_list_rank(w: World) -> dict[str, Any]:
    entry_id = w.registration.entry_id("public")
    response = await w.callers.superadmin.patch(
        f"{ALLOW_LIST}/{entry_id}", {"id": entry_id, "rank": 1000}
    )
    assert_ok(response)
    return {**BASE_VIEW, "v": "public"}


async def delete_allow_list_entry(w: World) -> dict[str, Any]:
    entry_id = w.registration.entry_id("domain")
    assert_ok(await w.callers.superadmin.delete(f"{ALLOW_LIST}/{entry_id}"))
    return {"v": "defaults", "public": 1, "defaults": 1}


async def delete_definition(w: World) -> dict[str, Any]:
    definition_id = w.registration.definition["id"]
    assert_ok(await w.callers.superadmin.delete(f"{DEFINITIONS}/{definition_id}"))
    return {}


WRITES: Final[dict[str, Write]] = {
    "bulk-upsert-public": upsert_public,
    "bulk-upsert-domain-user-defaults": upsert_domain_user_defaults,
    "bulk-upsert-domain": upsert_domain,
    "bulk-upsert-user": upsert_user_scope,
    "my-bulk-upsert": upsert_my_fragments,
    "single-create": create_single_fragment,
    "patch-fragment-config": patch_fragment_config,
    "patch-fragment-rank": patch_fragment_rank,
    "delete-fragment": delete_fragment,
    "bulk-delete": bulk_delete_fragments,
    "allow-list-create": create_allow_list_entry,
    "allow-list-patch-rank": patch_allow_list_rank,
    "allow-list-delete": delete_allow_list_entry,
    "definition-delete": delete_definition,
}


async def _purge_public_entry(w: World) -> None:
    assert_ok(
        await w.callers.superadmin.delete(f"{ALLOW_LIST}/{w.registration.entry_id('public')}")
    )


PREPARE: Final[dict[str, Callable[[World], Awaitable[None]]]] = {
    "allow-list-create": _purge_public_entry,
}


async def _build_world(callers: Callers, accounts: Accounts) -> World:
    registration = await register(
        callers.superadmin,
        "theme",
        {"public": None, "domain_user_defaults": 200, "domain": 200, "user": None},
    )
    fragments = {}
    for key, config in (
        ("public", {"v": "public", "public": 1}),
        ("domain_user_defaults", {"v": "defaults", "defaults": 1}),
        ("domain", {"v": "domain", "domain": 1}),
    ):
        world = World(callers, accounts, registration, {})
        [fragments[key]] = await upsert(callers.superadmin, world.scope_of(key), {"theme": config})
    return World(callers, accounts, registration, fragments)


@pytest.mark.parametrize("redis_state", ["redis", "redis-unavailable"])
@pytest.mark.parametrize("write", list(WRITES))
async def test_next_read_shows_the_write(
    write: str,
    redis_state: str,
    make_client: MakeClient,
    accounts: Accounts,
    redis_client: aioredis.Redis,
) -> None:
    redis_url = UNREACHABLE_REDIS_URL if redis_state == "redis-unavailable" else None
    client = await (make_client() if redis_url is None else make_client(redis_url=redis_url))
    world = await _build_world(callers_for(client, accounts), accounts)
    if write in PREPARE:
        await PREPARE[write](world)
    user = world.callers.user

    before = await user.merged_config("theme")
    assert await user.merged_config("theme") == before
    if redis_url is None:
        assert await redis_client.dbsize() > 0, "the merged view should be cached"
    else:
        assert await redis_client.dbsize() == 0
    if write not in PREPARE:
        assert before == BASE_VIEW

    expected = await WRITES[write](world)

    assert await user.merged_config("theme") == expected
    assert await user.merged_config("theme") == expected


async def test_views_are_served_from_the_cache(
    callers: Callers, accounts: Accounts, db_engine: AsyncEngine
) -> None:
    """The premise of this module: a second read is a cache hit. A change made behind the
    plugin's back (plain SQL, no invalidation) is therefore not seen until a write through the
    API invalidates the view."""
    world = await _build_world(callers, accounts)
    assert await callers.user.merged_config("theme") == BASE_VIEW
    async with db_engine.begin() as conn:
        await conn.execute(
            text('UPDATE app_config_fragments SET config = \'{"v": "sql"}\' WHERE id = :id'),
            {"id": world.fragment_id("domain")},
        )
    assert await callers.user.merged_config("theme") == BASE_VIEW
    await upsert(callers.superadmin, world.scope_of("public"), {"theme": {"public": 1}})
    assert await callers.user.merged_config("theme") == {"v": "sql", "public": 1, "defaults": 1}


async def test_other_viewers_cached_views_are_invalidated_too(
    callers: Callers, accounts: Accounts
) -> None:
    world = await _build_world(callers, accounts)
    viewers = (callers.user, callers.other_user, callers.domain_admin)
    for viewer in viewers:
        assert await viewer.merged_config("theme") == BASE_VIEW
        assert await viewer.merged_config("theme") == BASE_VIEW
    await upsert(callers.domain_admin, world.scope_of("domain"), {"theme": {"v": "new"}})
    for viewer in viewers:
        assert await viewer.merged_config("theme") == {"v": "new", "public": 1, "defaults": 1}
    assert await callers.other_domain_user.merged_config("theme") == {"v": "public", "public": 1}


async def test_unavailable_redis_still_serves_every_read_route(
    make_client: MakeClient, accounts: Accounts
) -> None:
    client = await make_client(redis_url=UNREACHABLE_REDIS_URL)
    callers = callers_for(client, accounts)
    await _build_world(callers, accounts)
    assert await callers.user.merged_config("theme") == BASE_VIEW
    assert await callers.anonymous.merged("theme", path="/v2/app-config/public/get") == {
        "theme": {"v": "public", "public": 1}
    }
    admin_get = await callers.superadmin.post(
        "/v2/app-config/admin/get",
        {"user_id": str(accounts.user["user_id"]), "config_names": ["theme"]},
    )
    assert assert_ok(admin_get) == {"app_configs": [{"config_name": "theme", "config": BASE_VIEW}]}


async def test_public_read_follows_a_public_write(callers: Callers, accounts: Accounts) -> None:
    world = await _build_world(callers, accounts)
    path = "/v2/app-config/public/get"
    for _ in range(2):
        assert await callers.anonymous.merged("theme", path=path) == {
            "theme": {"v": "public", "public": 1}
        }
    await upsert(callers.superadmin, world.scope_of("public"), {"theme": {"v": "public2"}})
    assert await callers.anonymous.merged("theme", path=path) == {"theme": {"v": "public2"}}


async def test_admin_read_of_a_user_follows_that_users_write(
    callers: Callers, accounts: Accounts
) -> None:
    await _build_world(callers, accounts)
    body = {"user_id": str(accounts.user["user_id"]), "config_names": ["theme"]}
    for _ in range(2):
        response = await callers.domain_admin.post("/v2/app-config/admin/get", body)
        assert assert_ok(response)["app_configs"][0]["config"] == BASE_VIEW
    written = await callers.user.post(
        f"{FRAGMENTS}/my/bulk-upsert", {"items": [{"config_name": "theme", "config": {"v": "u"}}]}
    )
    assert_ok(written)
    response = await callers.domain_admin.post("/v2/app-config/admin/get", body)
    assert assert_ok(response)["app_configs"][0]["config"] == {**BASE_VIEW, "v": "u"}
