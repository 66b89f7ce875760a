"""The route table covers WIRE.md and issue 4, and the OpenAPI document describes all of it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from reference_host.contract import AuthRequirement
from scoped_app_config.api.openapi import build_openapi
from scoped_app_config.api.route_specs import ROUTES, ROUTES_BY_OPERATION_ID, RouteSpec

# WIRE.md §3, in table order, with its path placeholders.
WIRE_ROUTES = [
    ("POST", "/v2/app-config/my/get", AuthRequirement.AUTHENTICATED, 200),
    ("POST", "/v2/app-config/public/get", AuthRequirement.ANONYMOUS, 200),
    ("POST", "/v2/app-config-fragments/scoped/by-names", AuthRequirement.AUTHENTICATED, 200),
    ("POST", "/v2/app-config-fragments/scoped/bulk-upsert", AuthRequirement.AUTHENTICATED, 200),
    ("POST", "/v2/app-config-fragments/my/by-names", AuthRequirement.AUTHENTICATED, 200),
    ("POST", "/v2/app-config-fragments/my/bulk-upsert", AuthRequirement.AUTHENTICATED, 200),
    ("GET", "/v2/app-config-fragments/{id}", AuthRequirement.AUTHENTICATED, 200),
    ("DELETE", "/v2/app-config-fragments/{id}", AuthRequirement.AUTHENTICATED, 200),
    ("POST", "/v2/app-config-fragments/bulk-delete", AuthRequirement.AUTHENTICATED, 200),
    ("POST", "/v2/app-config-fragments/admin/search", AuthRequirement.SUPERADMIN, 200),
    ("POST", "/v2/app-config-definitions/", AuthRequirement.SUPERADMIN, 201),
    ("POST", "/v2/app-config-definitions/search", AuthRequirement.SUPERADMIN, 200),
    ("GET", "/v2/app-config-definitions/{id}", AuthRequirement.SUPERADMIN, 200),
    ("DELETE", "/v2/app-config-definitions/{id}", AuthRequirement.SUPERADMIN, 200),
    ("POST", "/v2/app-config-allow-list/", AuthRequirement.SUPERADMIN, 201),
    ("POST", "/v2/app-config-allow-list/search", AuthRequirement.SUPERADMIN, 200),
    ("GET", "/v2/app-config-allow-list/{id}", AuthRequirement.SUPERADMIN, 200),
    ("PATCH", "/v2/app-config-allow-list/{id}", AuthRequirement.SUPERADMIN, 200),
    ("DELETE", "/v2/app-config-allow-list/{id}", AuthRequirement.SUPERADMIN, 200),
]
ADDED_ROUTES = [
    ("POST", "/v2/app-config/admin/get", AuthRequirement.ADMIN, 200),
    ("POST", "/v2/app-config-fragments/", AuthRequirement.AUTHENTICATED, 201),
    ("PATCH", "/v2/app-config-fragments/{id}", AuthRequirement.AUTHENTICATED, 200),
    ("POST", "/v2/app-config-fragments/explain", AuthRequirement.AUTHENTICATED, 200),
    ("GET", "/v2/app-config/openapi.json", AuthRequirement.ANONYMOUS, 200),
]


def _normalized(route: RouteSpec) -> tuple[str, str]:
    return route.method, re.sub(r"\{[a-z_]+\}", "{id}", route.path)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_openapi()


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, child in value.items():
            if key == "$ref":
                assert isinstance(child, str)
                yield child
            else:
                yield from _refs(child)
    elif isinstance(value, list):
        for child in value:
            yield from _refs(child)


class TestRouteTable:
    @pytest.mark.parametrize(
        ("method", "path", "auth", "status"),
        WIRE_ROUTES + ADDED_ROUTES,
        ids=[f"{m} {p}" for m, p, _, _ in WIRE_ROUTES + ADDED_ROUTES],
    )
    def test_route_is_declared(
        self, method: str, path: str, auth: AuthRequirement, status: int
    ) -> None:
        by_key = {_normalized(route): route for route in ROUTES}
        route = by_key[(method, path)]
        assert route.auth is auth
        assert route.success_status == status

    def test_table_holds_exactly_these_routes(self) -> None:
        declared = {_normalized(route) for route in ROUTES}
        expected = {(m, p) for m, p, _, _ in WIRE_ROUTES + ADDED_ROUTES}
        assert declared == expected
        assert len(ROUTES) == len(expected)

    def test_operation_ids_are_unique_snake_case(self) -> None:
        ids = [route.operation_id for route in ROUTES]
        assert len(set(ids)) == len(ids)
        assert all(re.fullmatch(r"[a-z][a-z0-9_]*", op) for op in ids)
        assert set(ROUTES_BY_OPERATION_ID) == set(ids)

    def test_body_less_methods_have_no_request_model(self) -> None:
        for route in ROUTES:
            if route.method in ("GET", "DELETE"):
                assert route.request_model is None, route.operation_id
            else:
                assert route.request_model is not None, route.operation_id

    def test_auth_requirement_implies_error_statuses(self) -> None:
        for route in ROUTES:
            assert {400, 500} <= set(route.error_statuses)
            assert (401 in route.error_statuses) == (route.auth is not AuthRequirement.ANONYMOUS)
            if route.auth in (AuthRequirement.ADMIN, AuthRequirement.SUPERADMIN):
                assert 403 in route.error_statuses

    def test_by_id_routes_document_not_found(self) -> None:
        for route in ROUTES:
            if route.path_params:
                assert 404 in route.error_statuses, route.operation_id

    def test_aiohttp_path_restricts_parameters_to_uuids(self) -> None:
        route = ROUTES_BY_OPERATION_ID["get_fragment"]
        assert route.path_params == ("fragment_id",)
        pattern = re.sub(r"\{(\w+):([^{}]*(?:\{\d+\}[^{}]*)*)\}", r"(?P<\1>\2)", route.aiohttp_path)
        assert re.fullmatch(
            pattern, "/v2/app-config-fragments/0b7e4a7e-1111-2222-3333-444455556666"
        )
        assert not re.fullmatch(pattern, "/v2/app-config-fragments/explain")


class TestOpenApiDocument:
    def test_is_openapi_3_1(self, document: dict[str, Any]) -> None:
        assert document["openapi"].startswith("3.1.")
        assert {"title", "version"} <= set(document["info"])
        assert isinstance(document["paths"], dict)

    def test_is_json_serializable(self, document: dict[str, Any]) -> None:
        assert json.loads(json.dumps(document)) == document

    def test_every_route_is_under_paths_with_its_method(self, document: dict[str, Any]) -> None:
        for route in ROUTES:
            operation = document["paths"][route.path][route.method.lower()]
            assert operation["operationId"] == route.operation_id
            assert str(route.success_status) in operation["responses"]
            assert operation["x-auth-requirement"] == route.auth.value

    def test_every_ref_resolves_within_components(self, document: dict[str, Any]) -> None:
        schemas = document["components"]["schemas"]
        refs = set(_refs(document))
        assert refs
        for ref in refs:
            assert ref.startswith("#/components/schemas/"), ref
            assert ref.removeprefix("#/components/schemas/") in schemas, ref

    def test_errors_are_problem_json(self, document: dict[str, Any]) -> None:
        for route in ROUTES:
            responses = document["paths"][route.path][route.method.lower()]["responses"]
            for status in route.error_statuses:
                content = responses[str(status)]["content"]
                assert content == {
                    "application/problem+json": {
                        "schema": {"$ref": "#/components/schemas/ProblemDetail"}
                    }
                }

    def test_success_bodies_are_json(self, document: dict[str, Any]) -> None:
        for route in ROUTES:
            responses = document["paths"][route.path][route.method.lower()]["responses"]
            assert set(responses[str(route.success_status)]["content"]) == {"application/json"}

    def test_anonymous_routes_need_no_credentials(self, document: dict[str, Any]) -> None:
        for route in ROUTES:
            security = document["paths"][route.path][route.method.lower()]["security"]
            if route.auth is AuthRequirement.ANONYMOUS:
                assert security == []
            else:
                assert security == [{"BackendAIHMAC": []}]
        assert "BackendAIHMAC" in document["components"]["securitySchemes"]

    def test_path_parameters_are_declared(self, document: dict[str, Any]) -> None:
        for route in ROUTES:
            operation = document["paths"][route.path][route.method.lower()]
            declared = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
            assert declared == list(route.path_params)

    def test_by_names_response_is_an_array_of_nullable_nodes(
        self, document: dict[str, Any]
    ) -> None:
        schemas = document["components"]["schemas"]
        by_names = schemas["FragmentsByNamesPayload"]
        assert by_names["type"] == "array"
        assert by_names["items"]["anyOf"] == [
            {"$ref": "#/components/schemas/FragmentNode"},
            {"type": "null"},
        ]

    def test_node_schemas_require_entity_id(self, document: dict[str, Any]) -> None:
        schemas = document["components"]["schemas"]
        for name in ("FragmentNode", "DefinitionNode", "AllowListNode"):
            assert {"id", "entity_id", "created_at", "updated_at"} <= set(schemas[name]["required"])
