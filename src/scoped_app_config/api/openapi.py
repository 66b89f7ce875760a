"""The OpenAPI 3.1 document of the plugin, generated from `ROUTES` and the wire models."""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus
from importlib import metadata
from typing import Any, Final

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from scoped_app_config.api.route_specs import ANONYMOUS, ROUTES, UUID_PATTERN, RouteSpec
from scoped_app_config.api.schemas.common import ProblemDetail

REF_TEMPLATE: Final = "#/components/schemas/{model}"
JSON: Final = "application/json"
PROBLEM_JSON: Final = "application/problem+json"
SECURITY_SCHEME: Final = "BackendAIHMAC"

_ERROR_DESCRIPTIONS: Final[dict[int, str]] = {
    400: "Invalid request body, headers, date or API version",
    401: "Missing or invalid credentials",
    403: "Insufficient privileges, or writing this name at this scope is not allowed",
    404: "No such entity (or not visible to the caller), or missing names in a strict read",
    409: "The entity already exists",
    413: "Request body too large",
    500: "Internal server error",
}


def build_openapi(routes: Iterable[RouteSpec] = ROUTES) -> dict[str, Any]:
    """The document for `routes`; every `$ref` points into `components.schemas`."""
    routes = tuple(routes)
    refs, schemas = _component_schemas(routes)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Scoped App Config",
            "version": _package_version(),
            "description": "Scoped application configuration, wire-compatible with the "
            "Backend.AI manager REST v2 app-config API.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`BackendAI signMethod=HMAC-SHA256, credential=<access key>:"
                    "<signature>`, signed over method, path, Date, Host, content type and "
                    "X-BackendAI-Version.",
                }
            },
        },
    }


_Refs = dict[tuple[object, str], dict[str, Any]]


def _component_schemas(routes: tuple[RouteSpec, ...]) -> tuple[_Refs, dict[str, Any]]:
    inputs: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ProblemDetail, "serialization")]
    for route in routes:
        if route.request_model is not None:
            inputs.append((route.request_model, "validation"))
        inputs.append((route.response_model, "serialization"))
    unique = list(dict.fromkeys(inputs))
    refs, top = models_json_schema(unique, ref_template=REF_TEMPLATE)
    return {key: ref for key, ref in refs.items()}, dict(top.get("$defs", {}))


def _operation(route: RouteSpec, refs: _Refs) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "tags": [route.tag],
        "x-auth-requirement": route.auth.value,
        "security": [] if route.auth is ANONYMOUS else [{SECURITY_SCHEME: []}],
    }
    if route.path_params:
        operation["parameters"] = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "string", "format": "uuid", "pattern": f"^{UUID_PATTERN}$"},
            }
            for name in route.path_params
        ]
    if route.request_model is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {JSON: {"schema": refs[(route.request_model, "validation")]}},
        }
    responses: dict[str, Any] = {
        str(route.success_status): {
            "description": HTTPStatus(route.success_status).phrase,
            "content": {JSON: {"schema": refs[(route.response_model, "serialization")]}},
        }
    }
    problem = refs[(ProblemDetail, "serialization")]
    for status in route.error_statuses:
        responses[str(status)] = {
            "description": _ERROR_DESCRIPTIONS.get(status, HTTPStatus(status).phrase),
            "content": {PROBLEM_JSON: {"schema": problem}},
        }
    operation["responses"] = responses
    return operation


def _package_version() -> str:
    try:
        return metadata.version("scoped-app-config")
    except metadata.PackageNotFoundError:
        return "0.0.0"
