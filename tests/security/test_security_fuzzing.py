"""API fuzzing (issue 6, point 1): generated and malformed requests through the real host.

Every example reseeds a fixed world (two registered names, fragments at every scope) and sends
one generated request to the route as each role (superadmin, domain admin, user, anonymous).
For every answer: no 5xx; a 4xx is problem+json with `type`, `title` and `error_code` and a
status the route documents; a 2xx has the route's success status and validates as its response
model. Examples are independent: the world is reseeded (and Redis flushed) before each one.
"""

from __future__ import annotations

import json
import os
from typing import Any, Final

import pytest
import redis.asyncio as aioredis
from fuzz_strategies import path_for, request_bodies
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from security_support import (
    NO_BODY,
    WORLD_NAMES,
    Callers,
    Reply,
    assert_problem,
    assert_well_formed,
    reseed_world,
    world_of,
)
from sqlalchemy.ext.asyncio import AsyncEngine

# tests/ is on sys.path for pytest (tests/conftest.py); mypy sees this directory alone.
from plugin_host import Accounts  # type: ignore[import-not-found, unused-ignore]
from scoped_app_config.api.route_specs import ROUTES, ROUTES_BY_OPERATION_ID, RouteSpec

EXAMPLES_PER_ROUTE: Final = int(os.environ.get("SECURITY_FUZZ_EXAMPLES", "40"))
"""Each example is four requests (one per role): 25 routes x 40 x 4 = 4000 requests by default;
set SECURITY_FUZZ_EXAMPLES for a deeper run."""

BODY_ROUTES: Final = [route for route in ROUTES if route.request_model is not None]

FUZZ_SETTINGS: Final = settings(
    max_examples=EXAMPLES_PER_ROUTE,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _encode(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.operation_id)
@FUZZ_SETTINGS
@given(data=st.data())
async def test_generated_requests_as_every_role_never_fail_the_server_or_the_contract(
    route: RouteSpec,
    data: st.DataObject,
    callers: Callers,
    accounts: Accounts,
    db_engine: AsyncEngine,
    redis_client: aioredis.Redis,
) -> None:
    await redis_client.flushdb()
    world = await reseed_world(db_engine, accounts)
    path = data.draw(path_for(route, world.all_ids), label="path")
    raw = NO_BODY
    if route.request_model is not None:
        body = data.draw(request_bodies(route, names=WORLD_NAMES, ids=world.all_ids), label="body")
        raw = _encode(body)
    for caller in callers.by_role:
        reply = await caller.send(route.method, path, raw)
        assert_well_formed(route, reply)


# Malformed bodies -------------------------------------------------------------------------------

SYNTAX_ERRORS: Final[dict[str, bytes]] = {
    "empty": b"",
    "whitespace": b"  \n ",
    "truncated object": b'{"config_names": ["theme"',
    "not json": b"config_names=theme",
    "invalid utf-8": b'{"config_names": ["\xff\xfe"]}',
    "utf-8 bom": b'\xef\xbb\xbf{"config_names": ["theme"]}',
    "utf-16": '{"config_names": ["theme"]}'.encode("utf-16"),
    "NaN literal": b'{"config_names": ["theme"], "config": {"n": NaN}}',
    "Infinity literal": b'{"config": {"n": Infinity}}',
    "-Infinity literal": b'{"rank": -Infinity}',
    "1e400": b'{"config": {"n": 1e400}, "rank": 1e400}',
    "lone surrogate escape": b'{"config_names": ["\\ud800"]}',
    "nesting beyond the parser": b"[" * 5000 + b"]" * 5000,
    "trailing garbage": b'{"config_names": ["theme"]} x',
    "two documents": b'{"a": 1}{"b": 2}',
    "single quotes": b"{'config_names': ['theme']}",
    "trailing comma": b'{"config_names": ["theme",]}',
}

WRONG_SHAPES: Final[dict[str, Any]] = {
    "null": None,
    "number": 42,
    "string": "theme",
    "array": ["theme"],
    "empty object": {},
    "unknown key only": {"unknown": True},
}


def _path_in_world(route: RouteSpec, accounts: Accounts) -> str:
    world = world_of(accounts)
    path = route.path.replace("{fragment_id}", str(world.fragment_ids[0]))
    return path.replace("{allow_list_id}", str(world.allow_list_ids[0]))


@pytest.mark.parametrize("route", BODY_ROUTES, ids=lambda route: route.operation_id)
async def test_a_body_that_is_not_one_strict_json_value_is_a_400_problem(
    route: RouteSpec, callers: Callers, accounts: Accounts, db_engine: AsyncEngine
) -> None:
    await reseed_world(db_engine, accounts)
    path = _path_in_world(route, accounts)
    for case, raw in SYNTAX_ERRORS.items():
        for caller in (callers.superadmin, callers.user):
            reply = await caller.send(route.method, path, raw)
            assert_well_formed(route, reply)
            if reply.status not in (401, 403):  # the role check may come before the body
                assert reply.status == 400, (case, caller, reply)
                assert_problem(reply, 400, "generic-bad-request")


@pytest.mark.parametrize("route", BODY_ROUTES, ids=lambda route: route.operation_id)
async def test_a_body_of_the_wrong_json_type_is_answered_within_the_contract(
    route: RouteSpec, callers: Callers, accounts: Accounts, db_engine: AsyncEngine
) -> None:
    await reseed_world(db_engine, accounts)
    path = _path_in_world(route, accounts)
    for case, body in WRONG_SHAPES.items():
        for caller in (callers.superadmin, callers.user):
            reply = await caller.send(route.method, path, _encode(body))
            assert_well_formed(route, reply)
            if not isinstance(body, dict) and reply.status not in (401, 403):
                assert reply.status == 400, (case, caller, reply)
                assert_problem(reply, 400, "generic-bad-request")


# Valid-shaped write bodies with one hostile field ----------------------------------------------

HOSTILE_NAMES: Final[dict[str, Any]] = {
    "empty": "",
    "129 characters": "n" * 129,
    "128 characters": "n" * 128,
    "NUL byte": "the\x00me",
    "only NUL": "\x00",
    "unicode": "théme-設定-🎛️",
    "right-to-left override": "\u202etheme",
    "SQL": "theme'; DROP TABLE app_config_fragments; --",
    "LIKE wildcards": "%_%",
    "number": 7,
    "null": None,
    "list": ["theme"],
}

HOSTILE_CONFIGS: Final[dict[str, bytes]] = {
    "list": b"[1, 2]",
    "string": b'"{}"',
    "number": b"1",
    "null": b"null",
    "true": b"true",
    "2**70": b'{"n": 1180591620717411303424}',
    "-2**70": b'{"n": -1180591620717411303424}',
    "tiny float": b'{"n": 1e-400}',
    "duplicate keys": b'{"n": 1, "n": 2, "n": {"deep": true}}',
    "NUL in a value": b'{"n": "a\\u0000b"}',
    "NUL in a key": b'{"a\\u0000b": 1}',
    "unicode keys": '{"設定": "🎛️", "\u202e": "rtl"}'.encode(),
    "empty key": b'{"": 1}',
    "deep but legal": b'{"a":' * 30 + b"1" + b"}" * 30,
}


def _hostile_name_bodies(route: RouteSpec, accounts: Accounts, name: Any) -> list[Any]:
    scope_ref = {"scope_type": "domain", "scope_id": str(accounts.domain_a)}
    item = {"config_name": name, "config": {"k": 1}}
    bodies: dict[str, list[Any]] = {
        "get_my_app_configs": [{"config_names": [name]}],
        "get_public_app_configs": [{"config_names": [name]}],
        "get_user_app_configs": [
            {"user_id": str(accounts.user["user_id"]), "config_names": [name]}
        ],
        "get_scoped_fragments_by_names": [{"scope": scope_ref, "config_names": [name]}],
        "get_my_fragments_by_names": [{"config_names": [name]}],
        "bulk_upsert_scoped_fragments": [{"scope": scope_ref, "items": [item]}],
        "bulk_upsert_my_fragments": [{"items": [item]}],
        "create_fragment": [{"config_name": name, "scope": scope_ref, "config": {}}],
        "explain_app_config": [{"config_name": name}],
        "create_definition": [{"config_name": name}],
        "create_allow_list_entry": [{"config_name": name, "scope_type": "user"}],
        "search_definitions": [{"filter": {"config_name": {"contains": name}}}],
        "search_allow_list": [{"filter": {"config_name": {"i_contains": name}}}],
        "search_fragments": [{"filter": {"config_name": {"equals": name, "in": [name]}}}],
    }
    return bodies.get(route.operation_id, [])


NAME_ROUTES: Final = [
    ROUTES_BY_OPERATION_ID[operation_id]
    for operation_id in (
        "get_my_app_configs",
        "get_public_app_configs",
        "get_user_app_configs",
        "get_scoped_fragments_by_names",
        "get_my_fragments_by_names",
        "bulk_upsert_scoped_fragments",
        "bulk_upsert_my_fragments",
        "create_fragment",
        "explain_app_config",
        "create_definition",
        "create_allow_list_entry",
        "search_definitions",
        "search_allow_list",
        "search_fragments",
    )
]


MUST_BE_400: Final = ("empty", "129 characters", "NUL byte", "only NUL", "number", "null", "list")


@pytest.mark.parametrize("route", NAME_ROUTES, ids=lambda route: route.operation_id)
async def test_hostile_config_names_are_answered_within_the_contract(
    route: RouteSpec, callers: Callers, accounts: Accounts, db_engine: AsyncEngine
) -> None:
    await reseed_world(db_engine, accounts)
    for case, name in HOSTILE_NAMES.items():
        for body in _hostile_name_bodies(route, accounts, name):
            for caller in (callers.superadmin, callers.domain_admin):
                reply = await caller.send(route.method, route.path, _encode(body))
                assert_well_formed(route, reply)
                refused_by_schema = case in MUST_BE_400 and not (
                    "search" in route.operation_id and case in ("empty", "129 characters", "null")
                )
                if refused_by_schema and reply.status not in (401, 403):
                    assert reply.status == 400, (case, caller, reply)


CONFIG_ROUTES: Final = ("bulk_upsert_scoped_fragments", "create_fragment", "update_fragment")


async def _send_hostile_config(
    operation_id: str, config: bytes, callers: Callers, accounts: Accounts, db_engine: AsyncEngine
) -> Reply:
    world = await reseed_world(db_engine, accounts)
    route = ROUTES_BY_OPERATION_ID[operation_id]
    scope_ref = (
        b'{"scope_type": "user", "scope_id": "%s"}' % str(accounts.superadmin["user_id"]).encode()
    )
    if operation_id == "bulk_upsert_scoped_fragments":
        raw = b'{"scope": %s, "items": [{"config_name": "theme", "config": %s}]}' % (
            scope_ref,
            config,
        )
        path = route.path
    elif operation_id == "create_fragment":
        await callers.superadmin.delete(f"{route.path}{world.fragment_ids[-1]}")
        raw = b'{"config_name": "menu", "scope": %s, "config": %s}' % (scope_ref, config)
        path = route.path
    else:
        raw = b'{"config": %s}' % config
        path = route.path.replace("{fragment_id}", str(world.fragment_ids[0]))
    reply = await callers.superadmin.send(route.method, path, raw)
    assert_well_formed(route, reply)
    return reply


@pytest.mark.parametrize("operation_id", CONFIG_ROUTES)
async def test_hostile_config_documents_are_answered_within_the_contract(
    operation_id: str, callers: Callers, accounts: Accounts, db_engine: AsyncEngine
) -> None:
    for case, config in HOSTILE_CONFIGS.items():
        reply = await _send_hostile_config(operation_id, config, callers, accounts, db_engine)
        if case in ("list", "string", "number", "null", "true", "NUL in a value", "NUL in a key"):
            assert reply.status == 400, (case, reply)
            assert_problem(reply, 400, "generic-bad-request")
        else:
            # Accepted, and it reads back exactly as the write answered it.
            assert reply.status < 300, (case, reply)
            stored = reply.json_object()
            node = stored.get("app_config_fragment") or stored["items"][0]
            again = await callers.superadmin.get(f"/v2/app-config-fragments/{node['id']}")
            assert again.json_object()["config"] == node["config"], case


async def test_an_unknown_api_version_and_a_bad_date_are_problems_not_crashes(
    callers: Callers, accounts: Accounts, db_engine: AsyncEngine
) -> None:
    route = ROUTES_BY_OPERATION_ID["get_my_app_configs"]
    headers = callers.user.headers(route.method, route.path)
    for name, value in (
        ("X-BackendAI-Version", "v99.20990101"),
        ("Date", "yesterday"),
        ("Date", "2000-01-01T00:00:00+00:00"),
        ("Authorization", "BackendAI signMethod=HMAC-SHA256, credential=nothing"),
        ("Authorization", "BackendAI signMethod=HMAC-NOPE, credential=a:b"),
    ):
        raw = b'{"config_names": ["theme"]}'
        reply = await callers.user.send(
            route.method, route.path, raw, headers={**headers, name: value}
        )
        assert reply.status in (400, 401), (name, value, reply)
        assert_well_formed(route, reply)


async def test_a_number_beyond_64_bits_stored_in_a_shared_fragment_does_not_break_merged_reads(
    callers: Callers, accounts: Accounts, db_engine: AsyncEngine
) -> None:
    """Regression: PostgreSQL prints 1e21 as 1000000000000000000000; read back as a Python int
    it made every JSON response holding it a 500 (orjson serializes 64-bit integers only)."""
    await reseed_world(db_engine, accounts)
    raw = (
        b'{"scope": {"scope_type": "domain", "scope_id": "%s"}, "items": ['
        % str(accounts.domain_a).encode()
        + b'{"config_name": "theme", "config": {"n": 1e21, "m": -1180591620717411303424}}]}'
    )
    write = await callers.domain_admin.send(
        "POST", "/v2/app-config-fragments/scoped/bulk-upsert", raw
    )
    assert write.status == 200, write
    for _ in range(2):  # computed, then (with the cache on) served from Redis
        reply = await callers.user.post("/v2/app-config/my/get", {"config_names": ["theme"]})
        assert reply.status == 200, reply
        config = reply.json_object()["app_configs"][0]["config"]
        assert config["n"] == 1e21 and config["m"] == -1180591620717411303424
