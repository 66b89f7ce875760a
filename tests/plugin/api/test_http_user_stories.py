"""The BEP-1052 user stories end to end, through the API with the cache on.

Each merged read that matters is made twice before a policy change (the second one is served by
Redis), so a story passing also proves the change invalidated the cached view.
"""

from __future__ import annotations

import redis.asyncio as aioredis
from api_scenarios import Callers
from api_support import ApiCaller, Registration, assert_ok, assert_problem, register, scope, upsert

# tests/ is on sys.path for pytest (tests/conftest.py); mypy sees this directory alone.
from plugin_host import (  # type: ignore[import-not-found, unused-ignore]
    ALLOW_LIST,
    CONFIGS,
    DEFINITIONS,
    FRAGMENTS,
    Accounts,
)

USER_WRITE_REFUSED = "Writing app config 'theme' at scope 'user' is not allowed."


async def read_twice(caller: ApiCaller, name: str) -> object:
    """my/get twice (the second read is a cache hit); both must agree."""
    first = await caller.merged_config(name)
    assert await caller.merged_config(name) == first
    return first


async def write_own(caller: ApiCaller, name: str, config: dict[str, object]) -> int:
    response = await caller.post(
        f"{FRAGMENTS}/my/bulk-upsert", {"items": [{"config_name": name, "config": config}]}
    )
    return response.status


async def test_pre_login_public_value(callers: Callers) -> None:
    await register(callers.superadmin, "login_page", {"public": None})
    await upsert(callers.superadmin, scope("public"), {"login_page": {"banner": "Welcome"}})
    response = await callers.anonymous.post(
        f"{CONFIGS}/public/get", {"config_names": ["login_page"]}
    )
    assert assert_ok(response) == {
        "app_configs": [{"config_name": "login_page", "config": {"banner": "Welcome"}}]
    }
    assert await callers.user.merged_config("login_page") == {"banner": "Welcome"}


async def test_domain_value_the_user_cannot_change(
    callers: Callers, domain_value_locked: Registration
) -> None:
    assert await read_twice(callers.user, "theme") == {"color": "navy"}
    response = await callers.user.post(
        f"{FRAGMENTS}/my/bulk-upsert",
        {"items": [{"config_name": "theme", "config": {"color": "pink"}}]},
    )
    assert_problem(
        response,
        403,
        "app-config-fragment-write-not-allowed",
        error_code="app_config_fragment_write_not_allowed",
        msg=USER_WRITE_REFUSED,
    )
    assert await callers.user.merged_config("theme") == {"color": "navy"}
    assert await callers.other_domain_user.merged_config("theme") == {}


async def test_overridable_domain_default(callers: Callers, accounts: Accounts) -> None:
    await register(callers.superadmin, "theme", {"domain_user_defaults": None, "user": None})
    await upsert(
        callers.domain_admin,
        scope("domain_user_defaults", accounts.domain_a),
        {"theme": {"color": "blue", "font": "serif"}},
    )
    assert await read_twice(callers.user, "theme") == {"color": "blue", "font": "serif"}
    assert await write_own(callers.user, "theme", {"color": "red"}) == 200
    assert await callers.user.merged_config("theme") == {"color": "red", "font": "serif"}
    assert await callers.other_user.merged_config("theme") == {"color": "blue", "font": "serif"}
    assert await callers.other_domain_user.merged_config("theme") == {}


async def test_user_only_value(callers: Callers, accounts: Accounts) -> None:
    await register(callers.superadmin, "shortcuts", {"user": None})
    assert await write_own(callers.user, "shortcuts", {"save": "ctrl+s"}) == 200
    assert await callers.user.merged_config("shortcuts") == {"save": "ctrl+s"}
    assert await callers.other_user.merged_config("shortcuts") == {}
    assert await callers.anonymous.merged("shortcuts", path=f"{CONFIGS}/public/get") == {
        "shortcuts": {}
    }
    response = await callers.domain_admin.post(
        f"{FRAGMENTS}/scoped/bulk-upsert",
        {
            "scope": scope("domain", accounts.domain_a),
            "items": [{"config_name": "shortcuts", "config": {"save": "F2"}}],
        },
    )
    assert_problem(
        response,
        403,
        "app-config-fragment-write-not-allowed",
        msg="Writing app config 'shortcuts' at scope 'domain' is not allowed.",
    )


async def test_promoting_a_fixed_value_to_user_customizable(
    callers: Callers, domain_value_locked: Registration
) -> None:
    assert await write_own(callers.user, "theme", {"color": "pink"}) == 403
    assert await read_twice(callers.user, "theme") == {"color": "navy"}
    grant = await callers.superadmin.post(
        f"{ALLOW_LIST}/", {"config_name": "theme", "scope_type": "user"}
    )
    assert assert_ok(grant, 201)["app_config_allow_list"]["rank"] == 300
    assert await write_own(callers.user, "theme", {"color": "pink"}) == 200
    assert await callers.user.merged_config("theme") == {"color": "pink"}
    assert await callers.other_user.merged_config("theme") == {"color": "navy"}


async def test_locking_it_back_down_removes_the_users_fragments(
    callers: Callers, domain_value_locked: Registration, redis_client: aioredis.Redis
) -> None:
    grant = await callers.superadmin.post(
        f"{ALLOW_LIST}/", {"config_name": "theme", "scope_type": "user"}
    )
    entry_id = assert_ok(grant, 201)["app_config_allow_list"]["id"]
    written = await callers.user.post(
        f"{FRAGMENTS}/my/bulk-upsert",
        {"items": [{"config_name": "theme", "config": {"color": "pink"}}]},
    )
    [fragment] = assert_ok(written)["items"]
    assert await read_twice(callers.user, "theme") == {"color": "pink"}
    assert await redis_client.dbsize() > 0, "the merged view should be cached"

    assert assert_ok(await callers.superadmin.delete(f"{ALLOW_LIST}/{entry_id}")) == {
        "id": entry_id
    }

    assert await callers.user.merged_config("theme") == {"color": "navy"}
    assert assert_ok(
        await callers.user.post(f"{FRAGMENTS}/my/by-names", {"config_names": ["theme"]})
    ) == [None]
    assert_problem(
        await callers.superadmin.get(f"{FRAGMENTS}/{fragment['id']}"), 404, "entity-not-found"
    )
    assert await write_own(callers.user, "theme", {"color": "pink"}) == 403


async def test_reordering_by_allow_list_rank(
    callers: Callers, accounts: Accounts, redis_client: aioredis.Redis
) -> None:
    registration = await register(callers.superadmin, "theme", {"domain": None, "user": None})
    await upsert(callers.domain_admin, scope("domain", accounts.domain_a), {"theme": {"c": "navy"}})
    assert await write_own(callers.user, "theme", {"c": "pink"}) == 200
    assert await read_twice(callers.user, "theme") == {"c": "pink"}
    assert await redis_client.dbsize() > 0

    domain_entry = registration.entry_id("domain")
    response = await callers.superadmin.patch(
        f"{ALLOW_LIST}/{domain_entry}", {"id": domain_entry, "rank": 400}
    )
    assert assert_ok(response)["app_config_allow_list"]["rank"] == 400
    assert await callers.user.merged_config("theme") == {"c": "navy"}


async def test_mandatory_domain_and_recommended_domain_user_defaults(
    callers: Callers, accounts: Accounts
) -> None:
    await register(
        callers.superadmin,
        "workspace",
        {"domain_user_defaults": None, "domain": 400, "user": None},
    )
    await upsert(
        callers.domain_admin,
        scope("domain_user_defaults", accounts.domain_a),
        {"workspace": {"layout": "wide", "color": "blue"}},
    )
    await upsert(
        callers.domain_admin,
        scope("domain", accounts.domain_a),
        {"workspace": {"policy": {"upload_mb": 10}}},
    )
    assert (
        await write_own(
            callers.user, "workspace", {"layout": "narrow", "policy": {"upload_mb": 999}}
        )
        == 200
    )
    assert await callers.user.merged_config("workspace") == {
        "layout": "narrow",
        "color": "blue",
        "policy": {"upload_mb": 10},
    }
    assert await callers.other_user.merged_config("workspace") == {
        "layout": "wide",
        "color": "blue",
        "policy": {"upload_mb": 10},
    }


async def test_retiring_a_definition(
    callers: Callers, accounts: Accounts, redis_client: aioredis.Redis
) -> None:
    registration = await register(
        callers.superadmin, "theme", {"public": None, "domain": None, "user": None}
    )
    await upsert(callers.superadmin, scope("public"), {"theme": {"p": 1}})
    await upsert(callers.domain_admin, scope("domain", accounts.domain_a), {"theme": {"d": 1}})
    assert await write_own(callers.user, "theme", {"u": 1}) == 200
    assert await read_twice(callers.user, "theme") == {"p": 1, "d": 1, "u": 1}
    assert await redis_client.dbsize() > 0

    definition_id = registration.definition["id"]
    response = await callers.superadmin.delete(f"{DEFINITIONS}/{definition_id}")
    assert assert_ok(response) == {"id": definition_id}

    assert await callers.user.merged("theme", "theme") == {"theme": {}}
    strict = await callers.user.post(
        f"{CONFIGS}/my/get", {"config_names": ["theme"], "strict": True}
    )
    assert_problem(strict, 404, "app-config-not-found", msg_contains="'theme'")
    search = await callers.superadmin.post(f"{FRAGMENTS}/admin/search", {})
    assert assert_ok(search)["total_count"] == 0
    refused = await callers.user.post(
        f"{FRAGMENTS}/my/bulk-upsert", {"items": [{"config_name": "theme", "config": {}}]}
    )
    assert_problem(refused, 403, "app-config-fragment-write-not-allowed", msg=USER_WRITE_REFUSED)
