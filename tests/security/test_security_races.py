"""Races on real PostgreSQL (issue 6, point 4), through the API with asyncio.gather.

upserts of one natural key        no 5xx, exactly one row, final config is one of the writes
single creates of one key         exactly one 201, the rest 409
upsert vs allow-list purge        the write is refused (403) or its fragment is cascaded away;
                                  never an orphan fragment
creates vs rank re-ordering       ranks stay unique within a config name
bulk upserts creating one name    each new fragment gets its own rank
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any, Final

import pytest
from security_support import (
    Caller,
    Callers,
    Reply,
    assert_ok,
    fixed_id,
    orphan_fragments,
    reseed_world,
    scope,
)
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

# tests/ is on sys.path for pytest (tests/conftest.py); mypy sees this directory alone.
from plugin_host import (  # type: ignore[import-not-found, unused-ignore]
    ALLOW_LIST,
    FRAGMENTS,
    Accounts,
)
from scoped_app_config.models import AllowListRow, DefinitionRow, FragmentRow

pytestmark = pytest.mark.heavy

WRITERS: Final = 20
PURGE_ITERATIONS: Final = 40
RACE: Final = "race"


async def _register_race(engine: AsyncEngine, *scope_types: str) -> dict[str, uuid.UUID]:
    """(Re)register `race` with an allow-list entry per scope type (fixed ids, by SQL)."""
    entries = {t: fixed_id(f"allow/{RACE}/{t}") for t in scope_types}
    async with engine.begin() as connection:
        await connection.execute(delete(DefinitionRow).where(DefinitionRow.config_name == RACE))
        await connection.execute(insert(DefinitionRow).values(config_name=RACE))
        await connection.execute(
            insert(AllowListRow),
            [
                {"id": i, "config_name": RACE, "scope_type": t, "rank": 100}
                for t, i in entries.items()
            ],
        )
    return entries


async def _fragments_of(engine: AsyncEngine, name: str) -> list[FragmentRow]:
    async with engine.connect() as connection:
        result = await connection.execute(
            select(FragmentRow).where(FragmentRow.config_name == name)
        )
        return list(result.all())  # type: ignore[arg-type]


def _one_writer_per_scope(
    callers: Callers, accounts: Accounts
) -> list[tuple[Caller, dict[str, Any]]]:
    """Ten (caller, scope) pairs, each caller allowed to write its scope, no scope twice."""
    return [
        (callers.user, scope("user", accounts.user["user_id"])),
        (callers.other_user, scope("user", accounts.other_user["user_id"])),
        (callers.domain_admin, scope("user", accounts.domain_admin["user_id"])),
        (callers.other_domain_user, scope("user", accounts.other_domain_user["user_id"])),
        (callers.other_domain_admin, scope("user", accounts.other_domain_admin["user_id"])),
        (callers.domain_admin, scope("domain", accounts.domain_a)),
        (callers.domain_admin, scope("domain_user_defaults", accounts.domain_a)),
        (callers.other_domain_admin, scope("domain", accounts.domain_b)),
        (callers.superadmin, scope("public")),
        (callers.superadmin, scope("user", accounts.superadmin["user_id"])),
    ]


def _statuses(replies: list[Reply]) -> Counter[int]:
    return Counter(reply.status for reply in replies)


@pytest.mark.parametrize("existing", [False, True], ids=["insert race", "update race"])
async def test_concurrent_upserts_of_one_key_leave_one_row_holding_one_of_the_writes(
    existing: bool, callers: Callers, accounts: Accounts, db_engine: AsyncEngine
) -> None:
    await reseed_world(db_engine, accounts)
    await _register_race(db_engine, "user", "domain")
    target = scope("domain", accounts.domain_a)
    if existing:
        await callers.domain_admin.post(
            f"{FRAGMENTS}/scoped/bulk-upsert",
            {"scope": target, "items": [{"config_name": RACE, "config": {"writer": -1}}]},
        )
    writes: list[dict[str, Any]] = [{"writer": i, "payload": "x" * i} for i in range(WRITERS)]

    replies = await asyncio.gather(
        *(
            callers.domain_admin.post(
                f"{FRAGMENTS}/scoped/bulk-upsert",
                {"scope": target, "items": [{"config_name": RACE, "config": config}]},
            )
            for config in writes[: WRITERS // 2]
        ),
        *(
            callers.user.post(
                f"{FRAGMENTS}/my/bulk-upsert",
                {"items": [{"config_name": RACE, "config": config}]},
            )
            for config in writes[WRITERS // 2 :]
        ),
    )

    assert _statuses(list(replies)) == {200: WRITERS}, [r for r in replies if r.status != 200]
    rows = await _fragments_of(db_engine, RACE)
    by_scope = Counter((row.scope_type, row.scope_id) for row in rows)
    assert by_scope == {("domain", accounts.domain_a): 1, ("user", accounts.user["user_id"]): 1}
    for row in rows:
        assert row.config in writes, row.config
    # Each writer's answer held its own write, on the one row of its scope.
    ids = {reply.json_object()["items"][0]["id"] for reply in replies}
    assert ids == {str(row.id) for row in rows}


async def test_concurrent_single_creates_of_one_key_give_one_201_and_409s(
    callers: Callers, accounts: Accounts, db_engine: AsyncEngine
) -> None:
    await reseed_world(db_engine, accounts)
    await _register_race(db_engine, "user")
    body = {
        "config_name": RACE,
        "scope": scope("user", accounts.user["user_id"]),
        "config": {"v": 1},
    }

    replies = list(
        await asyncio.gather(
            *(callers.user.post(f"{FRAGMENTS}/", body) for _ in range(WRITERS // 2)),
            *(callers.domain_admin.post(f"{FRAGMENTS}/", body) for _ in range(WRITERS // 2)),
        )
    )

    assert _statuses(replies) == {201: 1, 409: WRITERS - 1}
    for reply in replies:
        if reply.status == 409:
            assert reply.json_object()["type"].endswith("/unique-constraint-violation")
    assert len(await _fragments_of(db_engine, RACE)) == 1


async def test_an_upsert_racing_the_purge_of_its_allow_list_entry_never_leaves_an_orphan(
    callers: Callers, accounts: Accounts, db_engine: AsyncEngine
) -> None:
    await reseed_world(db_engine, accounts)
    outcomes: Counter[str] = Counter()
    for iteration in range(PURGE_ITERATIONS):
        entries = await _register_race(db_engine, "user", "domain")
        upserts = [
            callers.user.post(
                f"{FRAGMENTS}/my/bulk-upsert",
                {"items": [{"config_name": RACE, "config": {"i": iteration}}]},
            ),
            callers.other_user.post(
                f"{FRAGMENTS}/my/bulk-upsert",
                {"items": [{"config_name": RACE, "config": {"i": iteration}}]},
            ),
            callers.domain_admin.post(
                f"{FRAGMENTS}/scoped/bulk-upsert",
                {
                    "scope": scope("domain", accounts.domain_a),
                    "items": [{"config_name": RACE, "config": {"i": iteration}}],
                },
            ),
        ]
        purge = callers.superadmin.delete(f"{ALLOW_LIST}/{entries['user']}")
        if iteration % 2:
            replies = await asyncio.gather(purge, *upserts)
        else:
            replies = await asyncio.gather(*upserts, purge)
        for reply in replies:
            assert reply.status in (200, 403), reply
        for reply in replies:
            outcomes[str(reply.status)] += 1

        assert await orphan_fragments(db_engine) == 0, iteration
        rows = await _fragments_of(db_engine, RACE)
        assert {row.scope_type for row in rows} <= {"domain"}, rows
    # Both outcomes of the race happened at least once (else the test raced nothing).
    assert outcomes["200"] and outcomes["403"], outcomes


async def test_concurrent_creates_of_one_name_get_unique_ranks(
    callers: Callers, accounts: Accounts, db_engine: AsyncEngine
) -> None:
    await reseed_world(db_engine, accounts)
    await _register_race(db_engine, "user", "domain", "domain_user_defaults", "public")
    creators = _one_writer_per_scope(callers, accounts)

    replies = await asyncio.gather(
        *(
            caller.post(f"{FRAGMENTS}/", {"config_name": RACE, "scope": target, "config": {}})
            for caller, target in creators
        )
    )

    assert _statuses(list(replies)) == {201: len(creators)}
    ranks = [row.rank for row in await _fragments_of(db_engine, RACE)]
    assert len(set(ranks)) == len(ranks) == len(creators), sorted(ranks)


async def test_concurrent_bulk_upserts_creating_one_name_get_unique_ranks(
    callers: Callers, accounts: Accounts, db_engine: AsyncEngine
) -> None:
    """The upsert computes a new fragment's rank inside its INSERT, after the definition lock:
    ten scopes creating the same name at once must still get ten different ranks."""
    await reseed_world(db_engine, accounts)
    await _register_race(db_engine, "user", "domain", "domain_user_defaults", "public")
    writers = _one_writer_per_scope(callers, accounts)
    item = {"config_name": RACE, "config": {"set": True}}

    replies = await asyncio.gather(
        *(
            caller.post(f"{FRAGMENTS}/scoped/bulk-upsert", {"scope": target, "items": [item]})
            for caller, target in writers
        )
    )

    assert _statuses(list(replies)) == {200: len(writers)}, [r for r in replies if r.status != 200]
    ranks = [row.rank for row in await _fragments_of(db_engine, RACE)]
    assert len(set(ranks)) == len(ranks) == len(writers), sorted(ranks)
    answered = sorted(reply.json_object()["items"][0]["rank"] for reply in replies)
    assert answered == sorted(ranks)


async def test_a_rank_patch_cannot_duplicate_a_rank_held_in_the_same_name(
    callers: Callers, accounts: Accounts, db_engine: AsyncEngine
) -> None:
    await reseed_world(db_engine, accounts)
    nodes = {str(row.id): row.rank for row in await _fragments_of(db_engine, "theme")}
    first, second = sorted(nodes)[:2]

    reply = await callers.superadmin.patch(f"{FRAGMENTS}/{first}", {"rank": nodes[second]})

    assert reply.status == 409, reply


ROUNDS: Final = 20


async def _move_to_top(callers: Callers, db_engine: AsyncEngine, fragment_id: str) -> Reply:
    """What a client re-ordering by hand does: read the highest rank, then PATCH above it."""
    top = max(row.rank for row in await _fragments_of(db_engine, RACE))
    return await callers.superadmin.patch(f"{FRAGMENTS}/{fragment_id}", {"rank": top + 100})


async def test_move_to_top_rank_patches_racing_creates_keep_ranks_unique(
    callers: Callers, accounts: Accounts, db_engine: AsyncEngine
) -> None:
    await reseed_world(db_engine, accounts)
    await _register_race(db_engine, "user", "domain", "domain_user_defaults")
    creators = [
        (callers.user, scope("user", accounts.user["user_id"])),
        (callers.other_user, scope("user", accounts.other_user["user_id"])),
        (callers.other_domain_user, scope("user", accounts.other_domain_user["user_id"])),
        (callers.other_domain_admin, scope("domain", accounts.domain_b)),
        (callers.domain_admin, scope("domain", accounts.domain_a)),
    ]
    seeded = await callers.superadmin.post(
        f"{FRAGMENTS}/",
        {"config_name": RACE, "scope": scope("domain_user_defaults", accounts.domain_a),
         "config": {}},
    )  # fmt: skip
    moved_id = assert_ok(seeded, 201)["app_config_fragment"]["id"]

    for _ in range(ROUNDS):
        async with db_engine.begin() as connection:
            await connection.execute(
                delete(FragmentRow).where(
                    FragmentRow.config_name == RACE, FragmentRow.id != uuid.UUID(moved_id)
                )
            )
        await asyncio.gather(
            *(
                caller.post(f"{FRAGMENTS}/", {"config_name": RACE, "scope": target, "config": {}})
                for caller, target in creators
            ),
            *(_move_to_top(callers, db_engine, moved_id) for _ in range(len(creators))),
        )
        ranks = [row.rank for row in await _fragments_of(db_engine, RACE)]
        if len(set(ranks)) != len(ranks):
            break
    ranks = [row.rank for row in await _fragments_of(db_engine, RACE)]
    assert len(set(ranks)) == len(ranks), sorted(ranks)
