"""The authorization matrix: role x route (x scope), one exact status per cell.

The rules (services/access_policy.py):

    superadmin   every scope, definitions and the allow-list
    admin        domain and domain_user_defaults of their own domain, and the user scope of
                 users in their own domain (their own user scope included)
    user         their own user scope only
    anonymous    only the public merged read (401 everywhere else)

A fragment the caller may not manage answers 404 by id, exactly like a missing one; an explicit
scope the caller may not use is a 403. Scoped routes run one test per (route, role) that walks
the six scopes and compares the whole row, so a failure shows every differing cell at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Final

import attrs
import pytest
from api_scenarios import Callers, insert_rows
from api_support import ApiCaller, ApiResponse, Registration, register, scope
from sqlalchemy.ext.asyncio import AsyncEngine

# tests/ is on sys.path for pytest (tests/conftest.py); mypy sees this directory alone.
from plugin_host import (  # type: ignore[import-not-found, unused-ignore]
    ALLOW_LIST,
    CONFIGS,
    DEFINITIONS,
    FRAGMENTS,
    Accounts,
)
from scoped_app_config.api.route_specs import ROUTES
from scoped_app_config.domain.types import DEFAULT_ALLOW_LIST_RANKS, ScopeType
from scoped_app_config.models import AllowListRow, DefinitionRow, FragmentRow

ROLES: Final = (
    "anonymous",
    "user",
    "other_domain_user",
    "domain_admin",
    "other_domain_admin",
    "superadmin",
)
SCOPES: Final = ("public", "domain_a", "domain_user_defaults_a", "self", "other_user_a", "user_b")

# Who may manage fragments at which scope. "self" is the caller's own user scope; the other
# columns are fixed scopes (domain A's, another user of domain A, the user of domain B).
ACCESS_GRID: Final = """
                     public  domain_a  domain_user_defaults_a  self  other_user_a  user_b
anonymous            anon    anon      anon                    anon  anon          anon
user                 deny    deny      deny                    ok    deny          deny
other_domain_user    deny    deny      deny                    ok    deny          ok
domain_admin         deny    ok        ok                      ok    ok            deny
other_domain_admin   deny    deny      deny                    ok    deny          ok
superadmin           ok      ok        ok                      ok    ok            ok
"""


def _parse_grid(grid: str) -> dict[str, dict[str, str]]:
    header, *rows = (line.split() for line in grid.strip().splitlines())
    assert tuple(header) == SCOPES
    table = {row[0]: dict(zip(header, row[1:], strict=True)) for row in rows}
    assert tuple(table) == ROLES
    return table


ACCESS: Final = _parse_grid(ACCESS_GRID)

Outcome = tuple[int, str]
"""(status, problem type slug, or "" for a success)."""

UNAUTHENTICATED: Final[Outcome] = (401, "auth-failed")
FORBIDDEN: Final[Outcome] = (403, "generic-forbidden")
NOT_FOUND: Final[Outcome] = (404, "entity-not-found")

# Scoped routes: what "ok", "deny" and "anon" cells mean for each. Bulk delete always answers
# 200; a fragment the caller may not see is listed under `failed` ("200 failed").
SCOPED_ROUTE_OUTCOMES: Final[dict[str, dict[str, Outcome]]] = {
    "get_scoped_fragments_by_names": {"ok": (200, ""), "deny": FORBIDDEN},
    "bulk_upsert_scoped_fragments": {"ok": (200, ""), "deny": FORBIDDEN},
    "create_fragment": {"ok": (201, ""), "deny": FORBIDDEN},
    "get_fragment": {"ok": (200, ""), "deny": NOT_FOUND},
    "update_fragment": {"ok": (200, ""), "deny": NOT_FOUND},
    "delete_fragment": {"ok": (200, ""), "deny": NOT_FOUND},
    "bulk_delete_fragments": {"ok": (200, "deleted"), "deny": (200, "failed")},
}


def _cell_name(scope_label: str) -> str:
    return f"cell-{scope_label}"


@attrs.frozen
class MatrixWorld:
    """Every cell's config name registered at every scope type (inserted directly)."""

    accounts: Accounts
    callers: Callers

    def scope_of(self, caller: ApiCaller, label: str) -> dict[str, Any]:
        a = self.accounts
        targets: dict[str, tuple[str, uuid.UUID | None]] = {
            "public": ("public", None),
            "domain_a": ("domain", a.domain_a),
            "domain_user_defaults_a": ("domain_user_defaults", a.domain_a),
            # Anonymous has no user scope; any user id does (the request is refused first).
            "self": ("user", caller.user_id if caller.credentials else a.user["user_id"]),
            "other_user_a": ("user", a.other_user["user_id"]),
            "user_b": ("user", a.other_domain_user["user_id"]),
        }
        scope_type, scope_id = targets[label]
        return scope(scope_type, scope_id)


@pytest.fixture
async def every_cell_name_registered(
    db_engine: AsyncEngine, accounts: Accounts, callers: Callers
) -> MatrixWorld:
    """`cell-<scope>` for each scope column, each with an allow-list entry at every scope type."""
    rows: list[Any] = [DefinitionRow(config_name=_cell_name(label)) for label in SCOPES]
    await insert_rows(db_engine, *rows)
    await insert_rows(
        db_engine,
        *(
            AllowListRow(config_name=_cell_name(label), scope_type=scope_type, rank=rank)
            for label in SCOPES
            for scope_type, rank in DEFAULT_ALLOW_LIST_RANKS.items()
        ),
    )
    return MatrixWorld(accounts, callers)


async def _fragment_per_scope(
    engine: AsyncEngine, world: MatrixWorld, caller: ApiCaller
) -> dict[str, str]:
    """One fragment of `cell-<scope>` at each scope column (as seen by `caller`); ids by column."""
    rows = {}
    for rank, label in enumerate(SCOPES, start=1):
        target = world.scope_of(caller, label)
        scope_id = target.get("scope_id")
        rows[label] = FragmentRow(
            config_name=_cell_name(label),
            scope_type=ScopeType(target["scope_type"]),
            scope_id=uuid.UUID(scope_id) if scope_id else None,
            rank=rank * 100,
            config={"cell": label},
        )
    await insert_rows(engine, *rows.values())
    return {label: str(row.id) for label, row in rows.items()}


def _outcome(response: ApiResponse) -> Outcome:
    if response.status >= 400:
        body = response.json_object()
        assert body["type"].startswith("https://api.backend.ai/probs/"), body
        return response.status, body["type"].rsplit("/", 1)[1]
    return response.status, ""


def _expected_row(route: str, role: str) -> dict[str, Outcome]:
    meaning = {**SCOPED_ROUTE_OUTCOMES[route], "anon": UNAUTHENTICATED}
    return {label: meaning[ACCESS[role][label]] for label in SCOPES}


async def _scoped_cell(
    route: str, caller: ApiCaller, world: MatrixWorld, label: str, fragment_id: str | None
) -> Outcome:
    name = _cell_name(label)
    target = world.scope_of(caller, label)
    if route == "get_scoped_fragments_by_names":
        response = await caller.post(
            f"{FRAGMENTS}/scoped/by-names", {"scope": target, "config_names": [name]}
        )
        if response.status == 200:
            assert response.json_list() == [None]
    elif route == "bulk_upsert_scoped_fragments":
        response = await caller.post(
            f"{FRAGMENTS}/scoped/bulk-upsert",
            {"scope": target, "items": [{"config_name": name, "config": {"by": caller.label}}]},
        )
        if response.status == 200:
            [item] = response.json_object()["items"]
            assert (item["scope_type"], item["scope_id"]) == (
                target["scope_type"],
                target.get("scope_id"),
            )
    elif route == "create_fragment":
        response = await caller.post(
            f"{FRAGMENTS}/", {"config_name": name, "scope": target, "config": {"k": 1}}
        )
        if response.status == 201:
            assert response.json_object()["app_config_fragment"]["config"] == {"k": 1}
    elif route == "get_fragment":
        response = await caller.get(f"{FRAGMENTS}/{fragment_id}")
        if response.status == 200:
            assert response.json_object()["id"] == fragment_id
    elif route == "update_fragment":
        response = await caller.patch(f"{FRAGMENTS}/{fragment_id}", {"config": {"new": True}})
        if response.status == 200:
            assert response.json_object()["app_config_fragment"]["config"] == {"new": True}
    elif route == "delete_fragment":
        response = await caller.delete(f"{FRAGMENTS}/{fragment_id}")
        if response.status == 200:
            assert response.json_object() == {"id": fragment_id}
    else:
        assert route == "bulk_delete_fragments"
        response = await caller.post(f"{FRAGMENTS}/bulk-delete", {"ids": [fragment_id]})
        if response.status == 200:
            body = response.json_object()
            if body["items"] == [fragment_id] and body["failed"] == []:
                return 200, "deleted"
            assert body["items"] == [], body
            [failure] = body["failed"]
            assert failure["id"] == fragment_id
            assert failure["message"] == f"App config fragment {fragment_id} not found."
            return 200, "failed"
    return _outcome(response)


BY_ID_ROUTES: Final = frozenset(
    {"get_fragment", "update_fragment", "delete_fragment", "bulk_delete_fragments"}
)


@pytest.mark.parametrize("role", ROLES, ids=[f"as-{r}" for r in ROLES])
@pytest.mark.parametrize("route", list(SCOPED_ROUTE_OUTCOMES))
async def test_scoped_route_by_scope(
    route: str,
    role: str,
    every_cell_name_registered: MatrixWorld,
    db_engine: AsyncEngine,
) -> None:
    world = every_cell_name_registered
    caller = world.callers.by_label(role)
    fragment_ids: Mapping[str, str | None] = dict.fromkeys(SCOPES)
    if route in BY_ID_ROUTES:
        fragment_ids = await _fragment_per_scope(db_engine, world, caller)
    actual = {
        label: await _scoped_cell(route, caller, world, label, fragment_ids[label])
        for label in SCOPES
    }
    assert actual == _expected_row(route, role)


# Routes without a scope: one row of statuses per route, over the roles. -----------------------

# user_a is the user of domain A, user_b the other-domain user; admin_a/admin_b likewise.
ROLE_GRID: Final = """
                             anon  user_a  user_b  admin_a  admin_b  super
get_my_app_configs           401   200     200     200      200      200
get_public_app_configs       200   200     200     200      200      200
get_user_app_configs:user_a  401   403     403     200      403      200
get_user_app_configs:user_b  401   403     403     403      200      200
get_openapi_document         200   200     200     200      200      200
get_my_fragments_by_names    401   200     200     200      200      200
bulk_upsert_my_fragments     401   200     200     200      200      200
search_fragments             401   403     403     403      403      200
explain_app_config:own       401   200     200     200      200      200
explain_app_config:user_a    401   200     403     200      403      200
create_definition            401   403     403     403      403      201
search_definitions           401   403     403     403      403      200
get_definition               401   403     403     403      403      200
delete_definition            401   403     403     403      403      200
create_allow_list_entry      401   403     403     403      403      201
search_allow_list            401   403     403     403      403      200
get_allow_list_entry         401   403     403     403      403      200
update_allow_list_entry      401   403     403     403      403      200
delete_allow_list_entry      401   403     403     403      403      200
"""


# Column headings of ROLE_GRID, in ROLES order (short, so a row fits on one line).
ROLE_COLUMNS: Final = dict(
    zip(("anon", "user_a", "user_b", "admin_a", "admin_b", "super"), ROLES, strict=True)
)


def _parse_role_grid(grid: str) -> dict[str, dict[str, int]]:
    header, *rows = (line.split() for line in grid.strip().splitlines())
    roles = [ROLE_COLUMNS[column] for column in header]
    assert tuple(roles) == ROLES
    return {row[0]: dict(zip(roles, map(int, row[1:]), strict=True)) for row in rows}


ROLE_STATUSES: Final = _parse_role_grid(ROLE_GRID)


@pytest.fixture
async def policy_to_act_on(superadmin: ApiCaller) -> Registration:
    """`theme` registered with a user entry: targets of the definition/allow-list cells."""
    return await register(superadmin, "theme", {"public": None, "user": None})


async def _unscoped_cell(
    case: str, caller: ApiCaller, accounts: Accounts, superadmin: ApiCaller
) -> ApiResponse:
    """One request of `case` by `caller`; each call gets fresh targets where it would consume."""
    route, _, variant = case.partition(":")
    names = {"config_names": ["theme"]}
    if route == "get_my_app_configs":
        return await caller.post(f"{CONFIGS}/my/get", names)
    if route == "get_public_app_configs":
        return await caller.post(f"{CONFIGS}/public/get", names)
    if route == "get_user_app_configs":
        target = accounts.user if variant == "user_a" else accounts.other_domain_user
        return await caller.post(
            f"{CONFIGS}/admin/get", {**names, "user_id": str(target["user_id"])}
        )
    if route == "get_openapi_document":
        return await caller.get(f"{CONFIGS}/openapi.json")
    if route == "get_my_fragments_by_names":
        return await caller.post(f"{FRAGMENTS}/my/by-names", names)
    if route == "bulk_upsert_my_fragments":
        return await caller.post(
            f"{FRAGMENTS}/my/bulk-upsert", {"items": [{"config_name": "theme", "config": {}}]}
        )
    if route == "search_fragments":
        return await caller.post(f"{FRAGMENTS}/admin/search", {})
    if route == "explain_app_config":
        body: dict[str, Any] = {"config_name": "theme"}
        if variant == "user_a":
            body["user_id"] = str(accounts.user["user_id"])
        return await caller.post(f"{FRAGMENTS}/explain", body)
    if route == "search_definitions":
        return await caller.post(f"{DEFINITIONS}/search", {})
    if route == "search_allow_list":
        return await caller.post(f"{ALLOW_LIST}/search", {})
    if route == "create_definition":
        return await caller.post(f"{DEFINITIONS}/", {"config_name": f"new-{caller.label}"})
    if route == "create_allow_list_entry":
        await superadmin.post(f"{DEFINITIONS}/", {"config_name": f"new-{caller.label}"})
        return await caller.post(
            f"{ALLOW_LIST}/", {"config_name": f"new-{caller.label}", "scope_type": "public"}
        )
    # By-id policy routes act on a registration of their own per caller.
    target_registration = await register(superadmin, f"target-{caller.label}", {"public": None})
    definition_id = target_registration.definition["id"]
    entry_id = target_registration.entry_id("public")
    if route == "get_definition":
        return await caller.get(f"{DEFINITIONS}/{definition_id}")
    if route == "delete_definition":
        return await caller.delete(f"{DEFINITIONS}/{definition_id}")
    if route == "get_allow_list_entry":
        return await caller.get(f"{ALLOW_LIST}/{entry_id}")
    if route == "update_allow_list_entry":
        return await caller.patch(f"{ALLOW_LIST}/{entry_id}", {"id": entry_id, "rank": 7})
    assert route == "delete_allow_list_entry", route
    return await caller.delete(f"{ALLOW_LIST}/{entry_id}")


def _expected_outcome(status: int) -> Outcome:
    slug = {401: "auth-failed", 403: "generic-forbidden"}.get(status, "")
    return status, slug


@pytest.mark.parametrize("case", list(ROLE_STATUSES))
async def test_route_by_role(
    case: str,
    callers: Callers,
    accounts: Accounts,
    policy_to_act_on: Registration,
) -> None:
    actual = {
        role: _outcome(
            await _unscoped_cell(case, callers.by_label(role), accounts, callers.superadmin)
        )
        for role in ROLES
    }
    assert actual == {role: _expected_outcome(s) for role, s in ROLE_STATUSES[case].items()}


def test_matrix_covers_every_route() -> None:
    covered = set(SCOPED_ROUTE_OUTCOMES) | {case.partition(":")[0] for case in ROLE_STATUSES}
    assert covered == {route.operation_id for route in ROUTES}
