"""Helpers of the security suite: signed callers, a seeded world with fixed ids, and the
response invariants every fuzzed request must satisfy.

Requests are signed exactly like the official SDK (WIRE.md §1-§2, tests/signing.py). The body
is not part of the signature, so raw (malformed) bodies are signed like any other request.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs
from pydantic import ValidationError
from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

# tests/ is on sys.path for pytest (tests/conftest.py); mypy sees this directory alone.
from plugin_host import (  # type: ignore[import-not-found, unused-ignore]
    JSON_CONTENT_TYPE,
    PROBLEM_BASE,
    PROBLEM_CONTENT_TYPE,
    Accounts,
    HostClient,
    SignedCaller,
    callers_by_label,
)
from scoped_app_config.api.route_specs import RouteSpec
from scoped_app_config.models import AllowListRow, DefinitionRow, FragmentRow

NO_BODY: Final = b""


@attrs.frozen
class Reply:
    """One HTTP answer: status, bare content type, raw body and (when JSON) the parsed body."""

    status: int
    content_type: str
    raw: bytes
    body: Any

    def json_object(self) -> dict[str, Any]:
        assert isinstance(self.body, dict), self
        return self.body

    def json_list(self) -> list[Any]:
        assert isinstance(self.body, list), self
        return self.body


class Caller(SignedCaller):
    """One account (or nobody) talking to the test server like the SDK does.

    `Caller.requests_sent` counts every request any caller sent in this session (reported in
    the terminal summary)."""

    async def send(
        self,
        method: str,
        path: str,
        raw: bytes = NO_BODY,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """Send `raw` as the body (nothing when empty), signed for `method` and `path`."""
        return await reply_of(*await self.transmit(method, path, raw, headers=headers))

    async def call(self, method: str, path: str, body: object = None) -> Reply:
        """`body` as JSON (UUIDs as strings); None sends no body."""
        raw = NO_BODY if body is None else json.dumps(body, default=str).encode()
        return await self.send(method, path, raw)

    async def post(self, path: str, body: object) -> Reply:
        return await self.call("POST", path, body)

    async def get(self, path: str) -> Reply:
        return await self.call("GET", path)

    async def delete(self, path: str) -> Reply:
        return await self.call("DELETE", path)

    async def patch(self, path: str, body: object) -> Reply:
        return await self.call("PATCH", path, body)


async def reply_of(status: int, content_type: str, raw: bytes) -> Reply:
    try:
        parsed: Any = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return Reply(status, content_type, raw, parsed)


def scope(scope_type: str, scope_id: uuid.UUID | None = None) -> dict[str, Any]:
    """A ScopeRef as the SDK sends it: no `scope_id` key for public."""
    if scope_id is None:
        return {"scope_type": scope_type}
    return {"scope_type": scope_type, "scope_id": str(scope_id)}


# Response invariants ---------------------------------------------------------------------------


def assert_problem_shape(reply: Reply) -> dict[str, Any]:
    """A 4xx answer is problem+json with a non-empty `type`, `title` and `error_code`."""
    assert reply.content_type == PROBLEM_CONTENT_TYPE, reply
    body = reply.json_object()
    assert isinstance(body.get("type"), str) and body["type"].startswith(PROBLEM_BASE), body
    assert isinstance(body.get("title"), str) and body["title"], body
    assert isinstance(body.get("error_code"), str) and body["error_code"], body
    return body


def assert_well_formed(route: RouteSpec, reply: Reply) -> None:
    """No 5xx; every 4xx is a problem (with a status the route documents, or 404/405 of the
    router); every 2xx is the route's success status and validates as its response model."""
    assert reply.status < 500, (route.operation_id, reply)
    assert reply.status >= 200, (route.operation_id, reply)
    if reply.status >= 400:
        assert_problem_shape(reply)
        assert reply.status in {*route.error_statuses, 404, 405}, (route.operation_id, reply)
        return
    assert reply.status == route.success_status, (route.operation_id, reply)
    assert reply.content_type == JSON_CONTENT_TYPE, (route.operation_id, reply)
    try:
        route.response_model.model_validate(reply.body)
    except ValidationError as error:  # pragma: no cover - reported by the assertion
        raise AssertionError(f"{route.operation_id}: {error}\n{reply.body!r}") from error


def assert_problem(reply: Reply, status: int, slug: str | None = None) -> dict[str, Any]:
    assert reply.status == status, reply
    body = assert_problem_shape(reply)
    if slug is not None:
        assert body["type"] == PROBLEM_BASE + slug, body
    return body


def assert_ok(reply: Reply, status: int = 200) -> Any:
    assert reply.status == status, reply
    assert reply.content_type == JSON_CONTENT_TYPE, reply
    return reply.body


# A world with fixed ids, reseeded by SQL ----------------------------------------------------------


def fixed_id(label: str) -> uuid.UUID:
    """A stable id per label, so strategies can name rows before they exist."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"scoped-app-config-security/{label}")


WORLD_NAMES: Final = ("theme", "menu")
WORLD_SCOPE_TYPES: Final = ("public", "domain_user_defaults", "domain", "user")
DEFAULT_RANKS: Final = {"public": 100, "domain_user_defaults": 150, "domain": 200, "user": 300}


@attrs.frozen
class World:
    """Definitions `theme` and `menu`, allow-listed at every scope type, and a fragment of each
    at public, domain A and B (both domain scope types) and every user's scope."""

    definition_ids: tuple[uuid.UUID, ...]
    allow_list_ids: tuple[uuid.UUID, ...]
    fragment_ids: tuple[uuid.UUID, ...]
    user_ids: tuple[uuid.UUID, ...]
    domain_ids: tuple[uuid.UUID, ...]

    @property
    def all_ids(self) -> tuple[uuid.UUID, ...]:
        return (
            *self.definition_ids,
            *self.allow_list_ids,
            *self.fragment_ids,
            *self.user_ids,
            *self.domain_ids,
        )


def _world_scopes(accounts: Accounts) -> list[tuple[str, uuid.UUID | None, str]]:
    users = {
        "user": accounts.user,
        "other_user": accounts.other_user,
        "domain_admin": accounts.domain_admin,
        "other_domain_user": accounts.other_domain_user,
        "other_domain_admin": accounts.other_domain_admin,
        "superadmin": accounts.superadmin,
    }
    scopes: list[tuple[str, uuid.UUID | None, str]] = [("public", None, "public")]
    for label, domain_id in (("a", accounts.domain_a), ("b", accounts.domain_b)):
        scopes.append(("domain", domain_id, f"domain_{label}"))
        scopes.append(("domain_user_defaults", domain_id, f"defaults_{label}"))
    scopes.extend(("user", credentials["user_id"], label) for label, credentials in users.items())
    return scopes


def world_of(accounts: Accounts) -> World:
    scopes = _world_scopes(accounts)
    return World(
        definition_ids=tuple(fixed_id(f"definition/{n}") for n in WORLD_NAMES),
        allow_list_ids=tuple(
            fixed_id(f"allow/{n}/{s}") for n in WORLD_NAMES for s in WORLD_SCOPE_TYPES
        ),
        fragment_ids=tuple(fixed_id(f"fragment/{n}/{s[2]}") for n in WORLD_NAMES for s in scopes),
        user_ids=tuple(
            c["user_id"]
            for c in (
                accounts.superadmin,
                accounts.domain_admin,
                accounts.other_domain_admin,
                accounts.user,
                accounts.other_user,
                accounts.other_domain_user,
            )
        ),
        domain_ids=(accounts.domain_a, accounts.domain_b),
    )


def world_config(label: str) -> dict[str, Any]:
    """A seeded fragment's config: `only_<label>` shows exactly which fragments a view merged."""
    return {"owner": label, f"only_{label}": f"{label}-secret"}


def leaked_labels(config: Mapping[str, Any]) -> set[str]:
    """The labels of the seeded fragments a merged config was made of."""
    return {key.removeprefix("only_") for key in config if key.startswith("only_")}


def world_fragment_id(config_name: str, label: str) -> uuid.UUID:
    """The seeded fragment of `config_name` at the scope labelled `label` (see _world_scopes)."""
    return fixed_id(f"fragment/{config_name}/{label}")


async def reseed_world(engine: AsyncEngine, accounts: Accounts) -> World:
    """Empty the plugin's tables and insert the world (one transaction, fixed ids)."""
    scopes = _world_scopes(accounts)
    async with engine.begin() as connection:
        await connection.execute(delete(FragmentRow))
        await connection.execute(delete(AllowListRow))
        await connection.execute(delete(DefinitionRow))
        await connection.execute(
            insert(DefinitionRow),
            [{"id": fixed_id(f"definition/{n}"), "config_name": n} for n in WORLD_NAMES],
        )
        await connection.execute(
            insert(AllowListRow),
            [
                {
                    "id": fixed_id(f"allow/{n}/{s}"),
                    "config_name": n,
                    "scope_type": s,
                    "rank": DEFAULT_RANKS[s],
                }
                for n in WORLD_NAMES
                for s in WORLD_SCOPE_TYPES
            ],
        )
        await connection.execute(
            insert(FragmentRow),
            [
                {
                    "id": fixed_id(f"fragment/{n}/{label}"),
                    "config_name": n,
                    "scope_type": scope_type,
                    "scope_id": scope_id,
                    "rank": 100 * (index + 1),
                    "config": world_config(label),
                }
                for n in WORLD_NAMES
                for index, (scope_type, scope_id, label) in enumerate(scopes)
            ],
        )
    return world_of(accounts)


async def count_rows(engine: AsyncEngine) -> dict[str, int]:
    """Rows per plugin table."""
    counts: dict[str, int] = {}
    async with engine.connect() as connection:
        for table in (DefinitionRow, AllowListRow, FragmentRow):
            counts[table.__tablename__] = int(
                await connection.scalar(select(func.count()).select_from(table)) or 0
            )
    return counts


async def orphan_fragments(engine: AsyncEngine) -> int:
    """Fragments whose (config_name, scope_type) has no allow-list entry (must always be 0)."""
    statement = (
        select(func.count())
        .select_from(FragmentRow)
        .outerjoin(
            AllowListRow,
            (AllowListRow.config_name == FragmentRow.config_name)
            & (AllowListRow.scope_type == FragmentRow.scope_type),
        )
        .where(AllowListRow.id.is_(None))
    )
    async with engine.connect() as connection:
        return int(await connection.scalar(statement) or 0)


def names_in(body: object) -> set[str]:
    """Every string anywhere in a JSON value (keys and values)."""
    found: set[str] = set()
    stack: list[object] = [body]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.add(item)
        elif isinstance(item, Mapping):
            found.update(str(k) for k in item)
            stack.extend(item.values())
        elif isinstance(item, Sequence) and not isinstance(item, bytes):
            stack.extend(item)
    return found


@attrs.frozen
class Callers:
    anonymous: Caller
    superadmin: Caller
    domain_admin: Caller
    other_domain_admin: Caller
    user: Caller
    other_user: Caller
    other_domain_user: Caller

    @property
    def by_role(self) -> tuple[Caller, ...]:
        """One caller of each role: superadmin, domain admin, user, anonymous."""
        return (self.superadmin, self.domain_admin, self.user, self.anonymous)


def callers_for(client: HostClient, accounts: Accounts) -> Callers:
    return Callers(**callers_by_label(Caller, client, accounts))
