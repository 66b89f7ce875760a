"""The served OpenAPI document (anonymous GET) lists every route of ROUTES, and nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from api_scenarios import Callers
from api_support import assert_ok

# tests/ is on sys.path for pytest (tests/conftest.py); mypy sees this directory alone.
from plugin_host import (  # type: ignore[import-not-found, unused-ignore]
    CONFIGS,
)
from scoped_app_config.api.route_specs import ANONYMOUS, ROUTES


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


async def _document(callers: Callers) -> dict[str, Any]:
    document = assert_ok(await callers.anonymous.get(f"{CONFIGS}/openapi.json"))
    assert isinstance(document, dict)
    return document


async def test_lists_every_route_with_its_operation(callers: Callers) -> None:
    document = await _document(callers)
    assert document["openapi"] == "3.1.0"
    paths: dict[str, dict[str, Any]] = document["paths"]
    listed = {(path, method.upper()) for path, item in paths.items() for method in item}
    assert listed == {(route.path, route.method) for route in ROUTES}
    for route in ROUTES:
        operation = paths[route.path][route.method.lower()]
        assert operation["operationId"] == route.operation_id
        assert str(route.success_status) in operation["responses"]
        assert {str(s) for s in route.error_statuses} <= set(operation["responses"])
        assert ("requestBody" in operation) == (route.request_model is not None)
        assert (operation["security"] == []) == (route.auth is ANONYMOUS)


async def test_wire_paths_and_create_statuses(callers: Callers) -> None:
    paths = (await _document(callers))["paths"]
    assert "201" in paths["/v2/app-config-definitions/"]["post"]["responses"]
    assert "201" in paths["/v2/app-config-allow-list/"]["post"]["responses"]
    assert "201" in paths["/v2/app-config-fragments/"]["post"]["responses"]
    assert "/v2/app-config-fragments/{fragment_id}" in paths
    assert set(paths["/v2/app-config-fragments/{fragment_id}"]) == {"get", "patch", "delete"}


async def test_every_reference_resolves(callers: Callers) -> None:
    document = await _document(callers)
    schemas = document["components"]["schemas"]
    prefix = "#/components/schemas/"
    for ref in set(_refs(document["paths"])) | set(_refs(schemas)):
        assert ref.startswith(prefix), ref
        assert ref.removeprefix(prefix) in schemas, ref


async def test_signed_callers_get_the_same_document(callers: Callers) -> None:
    assert await _document(callers) == assert_ok(await callers.user.get(f"{CONFIGS}/openapi.json"))
