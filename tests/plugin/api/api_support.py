"""Helpers for the HTTP API tests: a signed caller per account and problem-JSON assertions.

`ApiCaller` sends requests the way the official SDK does (WIRE.md §1-§2; the signing is
`plugin_host.SignedCaller`, shared with the security suite) and parses every answer as JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from typing import Any, Final

import attrs

# tests/ is on sys.path for pytest (tests/conftest.py); mypy sees this directory alone.
from plugin_host import (  # type: ignore[import-not-found, unused-ignore]
    ALLOW_LIST,
    CONFIGS,
    DEFINITIONS,
    FRAGMENTS,
    JSON_CONTENT_TYPE,
    PROBLEM_BASE,
    PROBLEM_CONTENT_TYPE,
    SDK_API_VERSION,
    SignedCaller,
)

_NO_BODY: Final = object()


@attrs.frozen
class ApiResponse:
    status: int
    content_type: str
    body: Any
    """The parsed JSON body (None when the body is empty or not JSON)."""

    def json_object(self) -> dict[str, Any]:
        assert isinstance(self.body, dict), self.body
        return self.body

    def json_list(self) -> list[Any]:
        assert isinstance(self.body, list), self.body
        return self.body


class ApiCaller(SignedCaller):
    """One account (or nobody) talking to the test server like the SDK does."""

    async def request(
        self,
        method: str,
        path: str,
        body: object = _NO_BODY,
        *,
        raw: bytes | None = None,
        version: str = SDK_API_VERSION,
    ) -> ApiResponse:
        """`body` is sent as JSON (UUIDs as strings); `raw` is sent as is (malformed bodies).

        `version` is the X-BackendAI-Version header (signed, like the SDK signs it)."""
        data = raw
        if body is not _NO_BODY:
            data = json.dumps(body, default=str).encode()
        reply = await self.transmit(method, path, data, version=version)
        parsed: Any = json.loads(reply.raw) if reply.raw else None
        return ApiResponse(reply.status, reply.content_type, parsed)

    async def get(self, path: str) -> ApiResponse:
        return await self.request("GET", path)

    async def delete(self, path: str) -> ApiResponse:
        return await self.request("DELETE", path)

    async def post(
        self, path: str, body: object = _NO_BODY, *, raw: bytes | None = None
    ) -> ApiResponse:
        return await self.request("POST", path, body, raw=raw)

    async def patch(self, path: str, body: object = _NO_BODY) -> ApiResponse:
        return await self.request("PATCH", path, body)

    # Typed shortcuts for the calls most tests make.

    async def merged(self, *names: str, path: str = f"{CONFIGS}/my/get") -> dict[str, Any]:
        """my/get (or another merged read) of `names`, as {name: config}; asserts 200."""
        response = await self.post(path, {"config_names": list(names)})
        assert response.status == 200, response
        return {
            item["config_name"]: item["config"] for item in response.json_object()["app_configs"]
        }

    async def merged_config(self, name: str) -> Any:
        return (await self.merged(name))[name]


def scope(scope_type: str, scope_id: uuid.UUID | None = None) -> dict[str, Any]:
    """A ScopeRef as the SDK sends it: no `scope_id` key for public."""
    if scope_id is None:
        return {"scope_type": scope_type}
    return {"scope_type": scope_type, "scope_id": str(scope_id)}


def assert_problem(
    response: ApiResponse,
    status: int,
    slug: str,
    *,
    title: str | None = None,
    error_code: str | None = None,
    msg: str | None = None,
    msg_contains: str | None = None,
) -> dict[str, Any]:
    """A problem+json error with this status and type slug (and title/code/msg when given)."""
    assert response.status == status, response
    assert response.content_type == PROBLEM_CONTENT_TYPE, response
    body = response.json_object()
    assert body["type"] == PROBLEM_BASE + slug, body
    assert isinstance(body["title"], str) and body["title"], body
    assert isinstance(body["error_code"], str) and body["error_code"], body
    if title is not None:
        assert body["title"] == title, body
    if error_code is not None:
        assert body["error_code"] == error_code, body
    if msg is not None:
        assert body.get("msg") == msg, body
    if msg_contains is not None:
        assert msg_contains in body.get("msg", ""), body
    return body


def assert_ok(response: ApiResponse, status: int = 200) -> Any:
    """A JSON success with this status; returns the parsed body."""
    assert response.status == status, response
    assert response.content_type == JSON_CONTENT_TYPE, response
    assert response.body is not None, response
    return response.body


def assert_iso_datetime(value: object) -> None:
    assert isinstance(value, str), value
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None, value


NODE_BASE_KEYS: Final = frozenset({"id", "entity_id", "created_at", "updated_at"})
FRAGMENT_KEYS: Final = NODE_BASE_KEYS | {
    "config_name",
    "scope_type",
    "scope_id",
    "config",
    "rank",
    "allow_list_rank",
}
DEFINITION_KEYS: Final = NODE_BASE_KEYS | {"config_name"}
ALLOW_LIST_KEYS: Final = NODE_BASE_KEYS | {"config_name", "scope_type", "rank"}


def _assert_node(node: Mapping[str, Any], keys: frozenset[str]) -> None:
    assert set(node) == keys, sorted(node)
    uuid.UUID(node["id"])
    assert node["entity_id"] == node["id"]
    assert_iso_datetime(node["created_at"])
    assert_iso_datetime(node["updated_at"])


def assert_fragment_node(
    node: Mapping[str, Any],
    *,
    config_name: str,
    scope_type: str,
    scope_id: uuid.UUID | None,
    config: Mapping[str, Any],
) -> None:
    """Exact FragmentNode shape; `scope_id` present and null exactly for public."""
    _assert_node(node, FRAGMENT_KEYS)
    assert node["config_name"] == config_name
    assert node["scope_type"] == scope_type
    assert "scope_id" in node
    assert node["scope_id"] == (None if scope_id is None else str(scope_id))
    assert node["config"] == config
    assert isinstance(node["rank"], int)
    assert isinstance(node["allow_list_rank"], int)


def assert_definition_node(node: Mapping[str, Any], *, config_name: str) -> None:
    _assert_node(node, DEFINITION_KEYS)
    assert node["config_name"] == config_name


def assert_allow_list_node(
    node: Mapping[str, Any], *, config_name: str, scope_type: str, rank: int
) -> None:
    _assert_node(node, ALLOW_LIST_KEYS)
    assert node["config_name"] == config_name
    assert node["scope_type"] == scope_type
    assert node["rank"] == rank


def assert_search_page(
    body: Any, *, total_count: int, has_next: bool, has_previous: bool
) -> list[dict[str, Any]]:
    assert set(body) == {"items", "total_count", "has_next_page", "has_previous_page"}, body
    assert body["total_count"] == total_count, body
    assert body["has_next_page"] is has_next, body
    assert body["has_previous_page"] is has_previous, body
    items: list[dict[str, Any]] = body["items"]
    return items


ALL_SCOPE_TYPES: Final = ("public", "domain_user_defaults", "domain", "user")
DEFAULT_RANKS: Final = {"public": 100, "domain_user_defaults": 150, "domain": 200, "user": 300}


@attrs.frozen
class Registration:
    """A definition registered through the API, with its allow-list entries by scope type."""

    definition: dict[str, Any]
    entries: dict[str, dict[str, Any]]

    @property
    def config_name(self) -> str:
        name: str = self.definition["config_name"]
        return name

    def entry_id(self, scope_type: str) -> str:
        entry_id: str = self.entries[scope_type]["id"]
        return entry_id


async def register(
    superadmin: ApiCaller, config_name: str, scope_types: Mapping[str, int | None]
) -> Registration:
    """Create the definition and one allow-list entry per scope type (rank None: default)."""
    definition = assert_ok(
        await superadmin.post(f"{DEFINITIONS}/", {"config_name": config_name}), 201
    )["app_config_definition"]
    entries: dict[str, dict[str, Any]] = {}
    for scope_type, rank in scope_types.items():
        body: dict[str, Any] = {"config_name": config_name, "scope_type": scope_type}
        if rank is not None:
            body["rank"] = rank
        response = await superadmin.post(f"{ALLOW_LIST}/", body)
        entries[scope_type] = assert_ok(response, 201)["app_config_allow_list"]
    return Registration(definition, entries)


async def upsert(
    caller: ApiCaller,
    scope_ref: Mapping[str, Any],
    items: Mapping[str, Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """scoped/bulk-upsert of {config_name: config} at `scope_ref`; asserts 200, returns items."""
    body = {
        "scope": dict(scope_ref),
        "items": [{"config_name": n, "config": dict(c)} for n, c in items.items()],
    }
    payload = assert_ok(await caller.post(f"{FRAGMENTS}/scoped/bulk-upsert", body))
    assert payload["failed"] == []
    nodes: list[dict[str, Any]] = payload["items"]
    return nodes
