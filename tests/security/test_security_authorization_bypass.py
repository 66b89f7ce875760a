"""Authorization bypass attempts (issue 6, point 3).

Not the role matrix (tests/plugin/api has it): here every test *tries* to reach data it must
not: another user's or another domain's fragments by id, by bulk-delete, by `scope_id`, by
search, through merged and cached views; replayed signatures; a deactivated keypair; secrets
in logs and error bodies; SQL and LIKE metacharacters in search input.

The world (security_support.reseed_world) holds `theme` and `menu` fragments at public, domain
A and B (both domain scope types) and at the user scope of every account, each config naming
its scope (`only_<label>`), so a merged view shows exactly which fragments it was made of.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Final

import pytest
import redis.asyncio as aioredis
from security_support import (
    Caller,
    Callers,
    assert_ok,
    assert_problem,
    leaked_labels,
    reseed_world,
    scope,
    world_config,
    world_fragment_id,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

# tests/ is on sys.path for pytest (tests/conftest.py); mypy sees this directory alone.
from plugin_host import (  # type: ignore[import-not-found, unused-ignore]
    CONFIGS,
    DEFINITIONS,
    FRAGMENTS,
    Accounts,
    HostClient,
)
from reference_host.accounts import service

ALL_LABELS: Final = (
    "public",
    "domain_a",
    "defaults_a",
    "domain_b",
    "defaults_b",
    "user",
    "other_user",
    "domain_admin",
    "other_domain_user",
    "other_domain_admin",
    "superadmin",
)
MANAGEABLE: Final = {
    "user": {"user"},
    "domain_admin": {"domain_a", "defaults_a", "user", "other_user", "domain_admin"},
    "other_domain_admin": {"domain_b", "defaults_b", "other_domain_user", "other_domain_admin"},
}
"""What each non-superadmin may manage (services/access_policy.py); everything else is off
limits."""

VISIBLE_IN_MERGED_VIEW: Final = {
    "user": {"public", "defaults_a", "domain_a", "user"},
    "other_user": {"public", "defaults_a", "domain_a", "other_user"},
    "domain_admin": {"public", "defaults_a", "domain_a", "domain_admin"},
    "other_domain_user": {"public", "defaults_b", "domain_b", "other_domain_user"},
    "anonymous": {"public"},
}


@pytest.fixture
async def seeded(callers: Callers, accounts: Accounts, db_engine: AsyncEngine) -> Callers:
    await reseed_world(db_engine, accounts)
    return callers


def _without(body: dict[str, Any], fragment_id: uuid.UUID) -> dict[str, Any]:
    """A problem body with the requested id blanked out, to compare two not-found answers."""
    return {k: v.replace(str(fragment_id), "<id>") if isinstance(v, str) else v
            for k, v in body.items()}  # fmt: skip


async def _not_found_body(caller: Caller, method: str, fragment_id: uuid.UUID) -> dict[str, Any]:
    path = f"{FRAGMENTS}/{fragment_id}"
    body = {"config": {"hijacked": True}} if method == "PATCH" else None
    reply = await caller.call(method, path, body)
    return _without(assert_problem(reply, 404, "entity-not-found"), fragment_id)


@pytest.mark.parametrize("attacker", sorted(MANAGEABLE))
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_another_scopes_fragment_by_id_is_indistinguishable_from_a_missing_one(
    attacker: str, method: str, seeded: Callers
) -> None:
    caller: Caller = getattr(seeded, attacker)
    missing = await _not_found_body(caller, method, uuid.uuid4())
    for label in ALL_LABELS:
        if label in MANAGEABLE[attacker]:
            continue
        fragment_id = world_fragment_id("theme", label)
        assert await _not_found_body(caller, method, fragment_id) == missing, label
        untouched = await seeded.superadmin.get(f"{FRAGMENTS}/{fragment_id}")
        assert assert_ok(untouched)["config"] == world_config(label), label


@pytest.mark.parametrize("attacker", sorted(MANAGEABLE))
async def test_bulk_delete_removes_only_the_callers_own_fragments_and_hides_the_rest(
    attacker: str, seeded: Callers, db_engine: AsyncEngine
) -> None:
    caller: Caller = getattr(seeded, attacker)
    mine = sorted(MANAGEABLE[attacker])
    theirs = [label for label in ALL_LABELS if label not in MANAGEABLE[attacker]]
    missing = uuid.uuid4()
    ids = [world_fragment_id("menu", label) for label in [*theirs, *mine]] + [missing]
    reply = await caller.post(f"{FRAGMENTS}/bulk-delete", {"ids": [str(i) for i in ids]})

    body = assert_ok(reply)
    assert sorted(body["items"]) == sorted(str(world_fragment_id("menu", m)) for m in mine)
    failed = {item["id"]: item["message"] for item in body["failed"]}
    assert set(failed) == {str(world_fragment_id("menu", t)) for t in theirs} | {str(missing)}
    # The message of another's fragment is the message of a missing one, id aside.
    assert {m.replace(i, "<id>") for i, m in failed.items()} == {
        failed[str(missing)].replace(str(missing), "<id>")
    }
    async with db_engine.connect() as connection:
        remaining = await connection.scalar(
            text("SELECT count(*) FROM app_config_fragments WHERE config_name = 'menu'")
        )
    assert remaining == len(theirs)


def _foreign_scopes(attacker: str, accounts: Accounts) -> list[dict[str, Any]]:
    other_users = {
        "user": [accounts.other_user, accounts.domain_admin, accounts.other_domain_user],
        "domain_admin": [accounts.other_domain_user, accounts.other_domain_admin],
        "other_domain_admin": [accounts.user, accounts.domain_admin],
    }[attacker]
    foreign_domains = {
        "user": [accounts.domain_a, accounts.domain_b],
        "domain_admin": [accounts.domain_b],
        "other_domain_admin": [accounts.domain_a],
    }[attacker]
    scopes = [scope("public"), scope("user", accounts.superadmin["user_id"])]
    scopes += [scope("user", u["user_id"]) for u in other_users]
    scopes += [scope(t, d) for d in foreign_domains for t in ("domain", "domain_user_defaults")]
    scopes += [scope("user", uuid.uuid4()), scope("domain", uuid.uuid4())]
    return scopes


@pytest.mark.parametrize("attacker", sorted(MANAGEABLE))
async def test_a_foreign_scope_id_in_scoped_routes_is_refused_and_changes_nothing(
    attacker: str, seeded: Callers, accounts: Accounts
) -> None:
    caller: Caller = getattr(seeded, attacker)
    for target in _foreign_scopes(attacker, accounts):
        attempts = [
            (f"{FRAGMENTS}/scoped/by-names", {"scope": target, "config_names": ["theme"]}),
            (
                f"{FRAGMENTS}/scoped/bulk-upsert",
                {"scope": target, "items": [{"config_name": "theme", "config": {"x": 1}}]},
            ),
            (f"{FRAGMENTS}/", {"config_name": "menu", "scope": target, "config": {"x": 1}}),
        ]
        for path, body in attempts:
            reply = await caller.post(path, body)
            assert_problem(reply, 403, "generic-forbidden")
    # Nothing changed anywhere: every seeded config reads back as seeded.
    search = await seeded.superadmin.post(f"{FRAGMENTS}/admin/search", {"limit": 1000})
    for node in assert_ok(search)["items"]:
        assert node["config"].get("x") is None, node


@pytest.mark.parametrize("attacker", ["domain_admin", "user", "other_domain_admin"])
async def test_search_routes_refuse_every_non_superadmin(attacker: str, seeded: Callers) -> None:
    caller: Caller = getattr(seeded, attacker)
    everything: dict[str, Any] = {"filter": {"config_name": {"contains": ""}}, "limit": 1000}
    for path in (
        f"{FRAGMENTS}/admin/search",
        f"{DEFINITIONS}/search",
        "/v2/app-config-allow-list/search",
    ):
        assert_problem(await caller.post(path, everything), 403, "generic-forbidden")
        assert_problem(await seeded.anonymous.post(path, everything), 401, "auth-failed")


async def _merged(caller: Caller, path: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = await caller.post(path, body)
    configs = assert_ok(reply)["app_configs"]
    return {item["config_name"]: item["config"] for item in configs}


@pytest.mark.parametrize("reader", sorted(VISIBLE_IN_MERGED_VIEW))
async def test_a_merged_read_holds_only_what_the_reader_may_see_even_from_a_warm_cache(
    reader: str, seeded: Callers, redis_client: aioredis.Redis
) -> None:
    """Every account warms its own view first; the reader's answer (cold, then from Redis)
    must be made of exactly its own fragments."""
    for warmer in ("user", "other_user", "domain_admin", "other_domain_user"):
        await _merged(getattr(seeded, warmer), f"{CONFIGS}/my/get", {"config_names": ["theme"]})
    await _merged(seeded.anonymous, f"{CONFIGS}/public/get", {"config_names": ["theme"]})
    assert await redis_client.dbsize() > 0, "the cache is not in use"

    caller: Caller = getattr(seeded, reader)
    path = f"{CONFIGS}/public/get" if reader == "anonymous" else f"{CONFIGS}/my/get"
    for _ in range(3):
        views = await _merged(caller, path, {"config_names": ["theme", "menu", "theme"]})
        for name in ("theme", "menu"):
            assert leaked_labels(views[name]) == VISIBLE_IN_MERGED_VIEW[reader], (name, views)


async def test_an_admin_read_of_a_user_never_warms_a_view_another_user_is_served(
    seeded: Callers, accounts: Accounts
) -> None:
    """admin/get computes the view of `user` (as the domain admin and the superadmin); then
    other_user's my/get and domain B's user's must still be their own."""
    names = {"config_names": ["theme"]}
    for admin in (seeded.domain_admin, seeded.superadmin):
        view = await _merged(
            admin, f"{CONFIGS}/admin/get", {**names, "user_id": str(accounts.user["user_id"])}
        )
        assert leaked_labels(view["theme"]) == VISIBLE_IN_MERGED_VIEW["user"]
    for reader in ("other_user", "other_domain_user", "domain_admin"):
        view = await _merged(getattr(seeded, reader), f"{CONFIGS}/my/get", names)
        assert leaked_labels(view["theme"]) == VISIBLE_IN_MERGED_VIEW[reader], reader


async def test_reading_another_users_merged_view_across_the_boundary_is_refused(
    seeded: Callers, accounts: Accounts
) -> None:
    names: dict[str, Any] = {"config_names": ["theme"]}
    foreign = [
        (seeded.domain_admin, accounts.other_domain_user),
        (seeded.domain_admin, accounts.superadmin),
        (seeded.other_domain_admin, accounts.user),
        (seeded.user, accounts.other_user),
        (seeded.user, accounts.other_domain_user),
    ]
    for caller, target in foreign:
        user_id = str(target["user_id"])
        admin_get = await caller.post(f"{CONFIGS}/admin/get", {**names, "user_id": user_id})
        explain = await caller.post(
            f"{FRAGMENTS}/explain", {"config_name": "theme", "user_id": user_id}
        )
        for reply in (admin_get, explain):
            assert reply.status == 403, (caller, target["email"], reply)
            assert_problem(reply, 403, "generic-forbidden")
            assert "secret" not in reply.raw.decode(), reply


async def test_a_user_cannot_re_rank_even_a_fragment_they_own(
    seeded: Callers, accounts: Accounts
) -> None:
    for caller, label in (
        (seeded.user, "user"),
        (seeded.domain_admin, "domain_a"),
        (seeded.domain_admin, "user"),
    ):
        fragment_id = world_fragment_id("theme", label)
        before = assert_ok(await seeded.superadmin.get(f"{FRAGMENTS}/{fragment_id}"))
        for body in ({"rank": -1}, {"rank": -1, "config": {"x": 1}}):
            reply = await caller.patch(f"{FRAGMENTS}/{fragment_id}", body)
            assert_problem(reply, 403, "generic-forbidden")
        after = assert_ok(await seeded.superadmin.get(f"{FRAGMENTS}/{fragment_id}"))
        assert (after["rank"], after["config"]) == (before["rank"], before["config"])


async def test_a_signature_replayed_on_another_path_or_method_is_refused(
    seeded: Callers, client: HostClient
) -> None:
    fragment_path = f"{FRAGMENTS}/{world_fragment_id('theme', 'user')}"
    signed_get = seeded.user.headers("GET", fragment_path)
    signed_my_get = seeded.user.headers("POST", f"{CONFIGS}/my/get")
    replays = [
        ("DELETE", fragment_path, signed_get, b""),
        ("PATCH", fragment_path, signed_get, b'{"config": {"x": 1}}'),
        ("GET", f"{FRAGMENTS}/{world_fragment_id('menu', 'user')}", signed_get, b""),
        ("GET", fragment_path + "?x=1", signed_get, b""),
        ("POST", f"{FRAGMENTS}/my/bulk-upsert", signed_my_get, b'{"items": []}'),
        ("POST", f"{CONFIGS}/public/get/../my/get", signed_my_get, b'{"config_names": ["a"]}'),
        ("POST", f"{CONFIGS}/my/get/", signed_my_get, b'{"config_names": ["theme"]}'),
        ("POST", f"{CONFIGS}//my/get", signed_my_get, b'{"config_names": ["theme"]}'),
    ]
    for method, path, headers, raw in replays:
        reply = await seeded.user.send(method, path, raw, headers=headers)
        assert reply.status in (401, 404), (method, path, reply)
        assert_problem(reply, reply.status)
    # The original requests still work, and nothing was changed by the replays.
    fragment = assert_ok(await seeded.user.send("GET", fragment_path, headers=signed_get))
    assert fragment["config"] == world_config("user")
    for method, path, headers, raw in replays[:2]:
        reply = await seeded.user.send(method, path, raw, headers=headers)
        assert_problem(reply, 401, "auth-failed")


async def test_a_signature_for_another_host_or_date_is_refused(seeded: Callers) -> None:
    path = f"{CONFIGS}/my/get"
    headers = seeded.user.headers("POST", path)
    forged = [
        {**headers, "Host": "evil.example:80"},
        {**headers, "X-BackendAI-Version": "v8.20240915"},
        {**headers, "Content-Type": "text/plain"},
    ]
    for variant in forged:
        reply = await seeded.user.send(
            "POST", path, b'{"config_names": ["theme"]}', headers=variant
        )
        assert reply.status in (400, 401), (variant, reply)
        assert_problem(reply, reply.status)


async def test_a_deactivated_keypair_is_refused_from_the_next_request_on(
    seeded: Callers, accounts: Accounts, db_engine: AsyncEngine
) -> None:
    names = {"config_names": ["theme"]}
    assert_ok(await seeded.user.post(f"{CONFIGS}/my/get", names))
    signed_before = seeded.user.headers("POST", f"{CONFIGS}/my/get")

    await service.deactivate_keypair(db_engine, accounts.user["access_key"])

    reply = await seeded.user.post(f"{CONFIGS}/my/get", names)
    assert_problem(reply, 401, "auth-failed")
    replay = await seeded.user.send(
        "POST", f"{CONFIGS}/my/get", b'{"config_names": ["theme"]}', headers=signed_before
    )
    assert_problem(replay, 401, "auth-failed")
    upsert = await seeded.user.post(
        f"{FRAGMENTS}/my/bulk-upsert", {"items": [{"config_name": "theme", "config": {}}]}
    )
    assert_problem(upsert, 401, "auth-failed")


async def test_secrets_never_reach_logs_or_error_bodies(
    seeded: Callers, accounts: Accounts, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from scoped_app_config.services.merged_configs import MergedConfigService

    secret = accounts.user["secret_key"]
    caplog.set_level(logging.DEBUG)
    path = f"{CONFIGS}/my/get"
    good = seeded.user.headers("POST", path)
    wrong_signature = {**good, "Authorization": good["Authorization"][:-8] + "00000000"}
    replies = [
        await seeded.user.send("POST", path, b"{", headers=wrong_signature),
        await seeded.user.send("POST", f"{FRAGMENTS}/my/by-names", b"{}", headers=good),
    ]

    async def explode(*args: object, **kwargs: object) -> object:
        raise RuntimeError("the merge blew up")

    monkeypatch.setattr(MergedConfigService, "get_for_actor", explode)
    crashed = await seeded.user.post(path, {"config_names": ["theme"]})
    replies.append(crashed)

    assert_problem(crashed, 500, "internal-server-error")
    assert crashed.json_object().keys() == {"type", "title", "error_code"}
    assert replies[0].status == 401 and replies[1].status == 401
    signature = good["Authorization"].rsplit(":", 1)[-1]
    for reply in replies:
        assert secret not in reply.raw.decode(), reply
        assert signature not in reply.raw.decode(), reply
    assert "the merge blew up" in caplog.text  # the 500 was logged, with its traceback
    assert secret not in caplog.text, "secret key logged"
    assert signature not in caplog.text, "signature logged"


HOSTILE_NAMES: Final = (
    "plain",
    "100%",
    "100x",
    "a_b",
    "axb",
    "'; DROP TABLE app_config_fragments; --",
    "\\",
    "back\\slash",
    "quote'd",
)


async def test_search_input_is_bound_and_like_wildcards_match_literally(
    seeded: Callers, db_engine: AsyncEngine
) -> None:
    superadmin = seeded.superadmin
    for name in HOSTILE_NAMES:
        assert_ok(await superadmin.post(f"{DEFINITIONS}/", {"config_name": name}), 201)

    async def names_matching(operation: str, value: Any) -> set[str]:
        body = {"filter": {"config_name": {operation: value}}, "limit": 1000}
        found = assert_ok(await superadmin.post(f"{DEFINITIONS}/search", body))["items"]
        return {item["config_name"] for item in found}

    assert await names_matching("contains", "%") == {"100%"}
    assert await names_matching("i_contains", "%") == {"100%"}
    assert await names_matching("ends_with", "0%") == {"100%"}
    assert await names_matching("contains", "_") == {"a_b", HOSTILE_NAMES[5]}
    assert await names_matching("i_starts_with", "A_") == {"a_b"}
    assert await names_matching("contains", "\\") == {"\\", "back\\slash"}
    assert await names_matching("equals", HOSTILE_NAMES[5]) == {HOSTILE_NAMES[5]}
    assert await names_matching("contains", "'") == {HOSTILE_NAMES[5], "quote'd"}
    assert await names_matching("in", ["a_b", "x' OR '1'='1"]) == {"a_b"}
    assert await names_matching("not_contains", "%") >= {"plain", "100x", "theme", "menu"}
    assert "100%" not in await names_matching("not_contains", "%")
    # Every table is still there and still holds the seeded rows.
    async with db_engine.connect() as connection:
        fragments = await connection.scalar(text("SELECT count(*) FROM app_config_fragments"))
    assert fragments == 2 * len(ALL_LABELS)
