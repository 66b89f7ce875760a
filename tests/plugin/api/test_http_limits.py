"""Configured limits through the API: body size (413), nesting depth, document size, names per
request and items per request (400 naming the limit). Small limits come from the host config
(`HostSettings.plugin_config["scoped_app_config"]`)."""

from __future__ import annotations

import uuid
from typing import Any, Final

import pytest
from api_scenarios import Callers, callers_for
from api_support import ApiCaller, Registration, assert_ok, assert_problem, register, scope

# tests/ is on sys.path for pytest (tests/conftest.py); mypy sees this directory alone.
from plugin_host import (  # type: ignore[import-not-found, unused-ignore]
    CONFIGS,
    FRAGMENTS,
    Accounts,
    MakeClient,
)
from scoped_app_config.api.route_specs import ROUTES

SMALL_LIMITS: Final = {
    "max_body_bytes": 1024,
    "max_names_per_request": 3,
    "max_items_per_request": 2,
    "max_depth": 4,
    "max_fragment_bytes": 200,
}
LIMIT_CODE: Final = "app_config_request_limit_exceeded"


def nested(depth: int) -> dict[str, Any]:
    """An object `depth` levels deep: nested(1) == {"k": 1}, nested(2) == {"k": {"k": 1}}."""
    value: Any = 1
    for _ in range(depth):
        value = {"k": value}
    result: dict[str, Any] = value
    return result


@pytest.fixture
async def limited(make_client: MakeClient, accounts: Accounts) -> Callers:
    """Callers of a host whose plugin runs with SMALL_LIMITS; `theme` and `menu` registered
    everywhere, `a`, `b`, `c` too (for name and item counts)."""
    callers = callers_for(await make_client(plugin_config=SMALL_LIMITS), accounts)
    for name in ("theme", "menu", "a", "b", "c"):
        await register(callers.superadmin, name, {"public": None, "domain": None, "user": None})
    return callers


class TestBodySize:
    async def test_every_route_with_a_body_refuses_an_oversized_one(self, limited: Callers) -> None:
        oversized = b'{"config_names": ["' + b"x" * 1100 + b'"]}'
        statuses = {}
        for route in ROUTES:
            if route.request_model is None:
                continue
            path = route.path.replace("{fragment_id}", str(uuid.uuid4())).replace(
                "{allow_list_id}", str(uuid.uuid4())
            )
            response = await limited.superadmin.request(route.method, path, raw=oversized)
            statuses[route.operation_id] = response.status
            if response.status == 413:
                assert_problem(
                    response,
                    413,
                    "request-entity-too-large",
                    title="Request body too large",
                    error_code="app_config_request_too_large",
                    msg="The request body exceeds the limit of 1024 bytes.",
                )
        assert statuses == dict.fromkeys(statuses, 413)
        assert len(statuses) == len([r for r in ROUTES if r.request_model is not None])

    async def test_body_just_under_the_limit_is_read(self, limited: Callers) -> None:
        name = "x" * 100
        body = {"config_names": [name]}
        response = await limited.user.post(f"{CONFIGS}/my/get", body)
        assert assert_ok(response) == {"app_configs": [{"config_name": name, "config": {}}]}


class TestDepth:
    async def test_bulk_upsert_over_the_depth_limit_names_it(self, limited: Callers) -> None:
        response = await limited.user.post(
            f"{FRAGMENTS}/my/bulk-upsert",
            {"items": [{"config_name": "theme", "config": nested(5)}]},
        )
        assert_problem(
            response,
            400,
            "generic-bad-request",
            title="Invalid parameters",
            error_code=LIMIT_CODE,
            msg="App config 'theme': config nesting depth 5 exceeds the limit of 4",
        )

    async def test_depth_at_the_limit_is_accepted(self, limited: Callers) -> None:
        response = await limited.user.post(
            f"{FRAGMENTS}/my/bulk-upsert",
            {"items": [{"config_name": "theme", "config": nested(4)}]},
        )
        assert assert_ok(response)["items"][0]["config"] == nested(4)

    async def test_single_create_over_the_depth_limit(self, limited: Callers) -> None:
        response = await limited.superadmin.post(
            f"{FRAGMENTS}/",
            {"config_name": "theme", "scope": scope("public"), "config": nested(5)},
        )
        assert_problem(
            response, 400, "generic-bad-request", error_code=LIMIT_CODE, msg_contains="limit of 4"
        )

    async def test_patch_over_the_depth_limit(self, limited: Callers) -> None:
        created = await limited.user.post(
            f"{FRAGMENTS}/my/bulk-upsert", {"items": [{"config_name": "theme", "config": {}}]}
        )
        fragment_id = assert_ok(created)["items"][0]["id"]
        response = await limited.user.patch(f"{FRAGMENTS}/{fragment_id}", {"config": nested(5)})
        assert_problem(
            response, 400, "generic-bad-request", error_code=LIMIT_CODE, msg_contains="limit of 4"
        )

    async def test_default_depth_limit_is_32(
        self, callers: Callers, theme_registered_everywhere: Registration
    ) -> None:
        response = await callers.user.post(
            f"{FRAGMENTS}/my/bulk-upsert",
            {"items": [{"config_name": "theme", "config": nested(33)}]},
        )
        assert_problem(
            response,
            400,
            "generic-bad-request",
            error_code=LIMIT_CODE,
            msg="App config 'theme': config nesting depth 33 exceeds the limit of 32",
        )


class TestDocumentSize:
    async def test_fragment_over_the_size_limit_names_it(self, limited: Callers) -> None:
        response = await limited.user.post(
            f"{FRAGMENTS}/my/bulk-upsert",
            {"items": [{"config_name": "theme", "config": {"text": "x" * 300}}]},
        )
        assert_problem(
            response,
            400,
            "generic-bad-request",
            error_code=LIMIT_CODE,
            msg_contains="exceeds the limit of 200 bytes",
        )


class TestNamesPerRequest:
    @pytest.mark.parametrize(
        ("caller_label", "path", "extra"),
        [
            ("user", f"{CONFIGS}/my/get", {}),
            ("anonymous", f"{CONFIGS}/public/get", {}),
            ("superadmin", f"{CONFIGS}/admin/get", {"user_id": "<user>"}),
            ("user", f"{FRAGMENTS}/my/by-names", {}),
            ("user", f"{FRAGMENTS}/scoped/by-names", {"scope": "<own scope>"}),
        ],
        ids=["my-get", "public-get", "admin-get", "my-by-names", "scoped-by-names"],
    )
    async def test_over_the_limit_is_bad_request_naming_it(
        self, limited: Callers, caller_label: str, path: str, extra: dict[str, Any]
    ) -> None:
        caller = limited.by_label(caller_label)
        user_id = str(limited.user.user_id)
        body: dict[str, Any] = {"config_names": ["a", "b", "c", "a"]}
        if "user_id" in extra:
            body["user_id"] = user_id
        if "scope" in extra:
            body["scope"] = scope("user", limited.user.user_id)
        response = await caller.post(path, body)
        assert_problem(
            response,
            400,
            "generic-bad-request",
            title="Invalid parameters",
            error_code=LIMIT_CODE,
            msg="4 config names exceed the limit of 3 names per request.",
        )
        body["config_names"] = ["a", "b", "c"]
        assert_ok(await caller.post(path, body))


class TestItemsPerRequest:
    async def test_bulk_upsert_over_the_limit_is_bad_request(self, limited: Callers) -> None:
        items: list[dict[str, Any]] = [{"config_name": n, "config": {}} for n in ("a", "b", "c")]
        for caller, path, body in _upserts(limited.user, items):
            response = await caller.post(path, body)
            assert_problem(
                response,
                400,
                "generic-bad-request",
                error_code=LIMIT_CODE,
                msg="3 items exceed the limit of 2 items per request.",
            )
        for caller, path, body in _upserts(limited.user, items[:2]):
            assert len(assert_ok(await caller.post(path, body))["items"]) == 2

    async def test_bulk_delete_over_the_limit_is_bad_request(self, limited: Callers) -> None:
        ids = [str(uuid.uuid4()) for _ in range(3)]
        response = await limited.user.post(f"{FRAGMENTS}/bulk-delete", {"ids": ids})
        assert_problem(
            response,
            400,
            "generic-bad-request",
            error_code=LIMIT_CODE,
            msg="3 items exceed the limit of 2 items per request.",
        )


def _upserts(
    user: ApiCaller, items: list[dict[str, Any]]
) -> list[tuple[ApiCaller, str, dict[str, Any]]]:
    own = scope("user", user.user_id)
    return [
        (user, f"{FRAGMENTS}/my/bulk-upsert", {"items": items}),
        (user, f"{FRAGMENTS}/scoped/bulk-upsert", {"scope": own, "items": items}),
    ]
