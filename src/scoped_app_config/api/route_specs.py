"""The route table: one `RouteSpec` per HTTP operation, as data.

The handler module registers a handler per `operation_id`; `openapi.py` documents the same
table, so the two cannot drift. Paths use OpenAPI templates (`{fragment_id}`); `aiohttp_path`
adds a UUID pattern to each path parameter for aiohttp's router.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import attrs
from pydantic import BaseModel

from reference_host.contract import AuthRequirement
from scoped_app_config.api.schemas.allow_list import (
    AllowListNode,
    AllowListSearchPayload,
    AllowListWritePayload,
    CreateAllowListInput,
    UpdateAllowListInput,
)
from scoped_app_config.api.schemas.app_config import (
    AdminGetAppConfigsInput,
    ExplainAppConfigInput,
    ExplainAppConfigPayload,
    GetAppConfigsInput,
    GetAppConfigsPayload,
)
from scoped_app_config.api.schemas.common import OpenAPIDocument, PurgePayload
from scoped_app_config.api.schemas.definitions import (
    CreateDefinitionInput,
    DefinitionNode,
    DefinitionSearchPayload,
    DefinitionWritePayload,
)
from scoped_app_config.api.schemas.fragments import (
    BulkDeleteFragmentsInput,
    BulkDeleteFragmentsPayload,
    CreateFragmentInput,
    FragmentNode,
    FragmentsByNamesPayload,
    FragmentSearchPayload,
    FragmentWritePayload,
    MyFragmentsByNamesInput,
    MyUpsertFragmentsInput,
    ScopedFragmentsByNamesInput,
    ScopedUpsertFragmentsInput,
    UpdateFragmentInput,
    UpsertFragmentsPayload,
)
from scoped_app_config.api.schemas.search import (
    AllowListSearchInput,
    DefinitionSearchInput,
    FragmentSearchInput,
)

UUID_PATTERN: Final = (
    "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)
_PATH_PARAM = re.compile(r"\{([a-z_]+)\}")

ANONYMOUS: Final = AuthRequirement.ANONYMOUS
AUTHENTICATED: Final = AuthRequirement.AUTHENTICATED
ADMIN: Final = AuthRequirement.ADMIN
SUPERADMIN: Final = AuthRequirement.SUPERADMIN


@attrs.frozen
class RouteSpec:
    """One operation. `request_model` is None for routes without a body (GET, DELETE)."""

    operation_id: str
    method: str
    path: str
    auth: AuthRequirement
    request_model: type[BaseModel] | None
    success_status: int
    response_model: type[BaseModel]
    summary: str
    error_statuses: tuple[int, ...]
    tag: str

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(_PATH_PARAM.findall(self.path))

    @property
    def aiohttp_path(self) -> str:
        """`path` with every parameter restricted to a UUID, e.g. `{fragment_id:<uuid re>}`."""
        return _PATH_PARAM.sub(lambda m: "{" + m.group(1) + ":" + UUID_PATTERN + "}", self.path)


def _route(
    operation_id: str,
    method: str,
    path: str,
    auth: AuthRequirement,
    request_model: type[BaseModel] | None,
    response_model: type[BaseModel],
    summary: str,
    *,
    tag: str,
    success_status: int = 200,
    errors: tuple[int, ...] = (),
) -> RouteSpec:
    # Every route can fail validation of its headers (400), the server (500) and the database
    # (503, api/problems.py); the auth requirement and a request body add their own statuses.
    statuses = {400, 500, 503, *errors}
    if auth is not ANONYMOUS:
        statuses.add(401)
    if auth in (ADMIN, SUPERADMIN):
        statuses.add(403)
    if request_model is not None:
        statuses.add(413)
    return RouteSpec(
        operation_id=operation_id,
        method=method,
        path=path,
        auth=auth,
        request_model=request_model,
        success_status=success_status,
        response_model=response_model,
        summary=summary,
        error_statuses=tuple(sorted(statuses)),
        tag=tag,
    )


_CONFIGS = "/v2/app-config"
_FRAGMENTS = "/v2/app-config-fragments"
_DEFINITIONS = "/v2/app-config-definitions"
_ALLOW_LIST = "/v2/app-config-allow-list"

ROUTES: Final[tuple[RouteSpec, ...]] = (
    # Merged reads (WIRE.md #1, #2) and additions.
    _route("get_my_app_configs", "POST", f"{_CONFIGS}/my/get", AUTHENTICATED,
           GetAppConfigsInput, GetAppConfigsPayload,
           "Merged configs of the caller (public, domain defaults, domain, own user)",
           tag="app-config", errors=(404,)),
    _route("get_public_app_configs", "POST", f"{_CONFIGS}/public/get", ANONYMOUS,
           GetAppConfigsInput, GetAppConfigsPayload,
           "Merged public configs, for callers that are not logged in",
           tag="app-config", errors=(404,)),
    _route("get_user_app_configs", "POST", f"{_CONFIGS}/admin/get", ADMIN,
           AdminGetAppConfigsInput, GetAppConfigsPayload,
           "Merged configs a given user sees (superadmin, or admin of the user's domain)",
           tag="app-config", errors=(404,)),
    _route("get_openapi_document", "GET", f"{_CONFIGS}/openapi.json", ANONYMOUS,
           None, OpenAPIDocument, "This OpenAPI 3.1 document", tag="app-config"),
    # Fragments (WIRE.md #3-#10) and additions.
    _route("get_scoped_fragments_by_names", "POST", f"{_FRAGMENTS}/scoped/by-names",
           AUTHENTICATED, ScopedFragmentsByNamesInput, FragmentsByNamesPayload,
           "Fragments of one scope by config name, null where the scope holds none",
           tag="fragments", errors=(403,)),
    _route("bulk_upsert_scoped_fragments", "POST", f"{_FRAGMENTS}/scoped/bulk-upsert",
           AUTHENTICATED, ScopedUpsertFragmentsInput, UpsertFragmentsPayload,
           "Upsert fragments at one scope, all or nothing",
           tag="fragments", errors=(403,)),
    _route("get_my_fragments_by_names", "POST", f"{_FRAGMENTS}/my/by-names", AUTHENTICATED,
           MyFragmentsByNamesInput, FragmentsByNamesPayload,
           "The caller's own user-scope fragments by config name",
           tag="fragments"),
    _route("bulk_upsert_my_fragments", "POST", f"{_FRAGMENTS}/my/bulk-upsert", AUTHENTICATED,
           MyUpsertFragmentsInput, UpsertFragmentsPayload,
           "Upsert fragments at the caller's own user scope, all or nothing",
           tag="fragments", errors=(403,)),
    _route("create_fragment", "POST", f"{_FRAGMENTS}/", AUTHENTICATED,
           CreateFragmentInput, FragmentWritePayload,
           "Create one fragment at a scope; the server assigns its rank",
           tag="fragments", success_status=201, errors=(403, 409)),
    _route("bulk_delete_fragments", "POST", f"{_FRAGMENTS}/bulk-delete", AUTHENTICATED,
           BulkDeleteFragmentsInput, BulkDeleteFragmentsPayload,
           "Delete fragments by id, with a result per id",
           tag="fragments"),
    _route("search_fragments", "POST", f"{_FRAGMENTS}/admin/search", SUPERADMIN,
           FragmentSearchInput, FragmentSearchPayload,
           "Search fragments across every scope",
           tag="fragments"),
    _route("explain_app_config", "POST", f"{_FRAGMENTS}/explain", AUTHENTICATED,
           ExplainAppConfigInput, ExplainAppConfigPayload,
           "A merged config with the fragment behind each leaf",
           tag="fragments", errors=(403, 404)),
    _route("get_fragment", "GET", f"{_FRAGMENTS}/{{fragment_id}}", AUTHENTICATED,
           None, FragmentNode, "One fragment by id",
           tag="fragments", errors=(404,)),
    _route("update_fragment", "PATCH", f"{_FRAGMENTS}/{{fragment_id}}", AUTHENTICATED,
           UpdateFragmentInput, FragmentWritePayload,
           "Replace a fragment's config, or (superadmin) set its rank",
           tag="fragments", errors=(403, 404)),
    _route("delete_fragment", "DELETE", f"{_FRAGMENTS}/{{fragment_id}}", AUTHENTICATED,
           None, PurgePayload, "Delete one fragment by id",
           tag="fragments", errors=(404,)),
    # Definitions (WIRE.md #11-#14).
    _route("create_definition", "POST", f"{_DEFINITIONS}/", SUPERADMIN,
           CreateDefinitionInput, DefinitionWritePayload, "Register a config name",
           tag="definitions", success_status=201, errors=(409,)),
    _route("search_definitions", "POST", f"{_DEFINITIONS}/search", SUPERADMIN,
           DefinitionSearchInput, DefinitionSearchPayload, "Search config definitions",
           tag="definitions"),
    _route("get_definition", "GET", f"{_DEFINITIONS}/{{definition_id}}", SUPERADMIN,
           None, DefinitionNode, "One config definition by id",
           tag="definitions", errors=(404,)),
    _route("delete_definition", "DELETE", f"{_DEFINITIONS}/{{definition_id}}", SUPERADMIN,
           None, PurgePayload,
           "Purge a config definition with its allow-list entries and fragments",
           tag="definitions", errors=(404,)),
    # Allow-list (WIRE.md #15-#19).
    _route("create_allow_list_entry", "POST", f"{_ALLOW_LIST}/", SUPERADMIN,
           CreateAllowListInput, AllowListWritePayload,
           "Allow writes of a config name at a scope type, with a merge rank",
           tag="allow-list", success_status=201, errors=(404, 409)),
    _route("search_allow_list", "POST", f"{_ALLOW_LIST}/search", SUPERADMIN,
           AllowListSearchInput, AllowListSearchPayload, "Search allow-list entries",
           tag="allow-list"),
    _route("get_allow_list_entry", "GET", f"{_ALLOW_LIST}/{{allow_list_id}}", SUPERADMIN,
           None, AllowListNode, "One allow-list entry by id",
           tag="allow-list", errors=(404,)),
    _route("update_allow_list_entry", "PATCH", f"{_ALLOW_LIST}/{{allow_list_id}}", SUPERADMIN,
           UpdateAllowListInput, AllowListWritePayload,
           "Change an allow-list entry's rank (the id in the path wins over the body's)",
           tag="allow-list", errors=(404,)),
    _route("delete_allow_list_entry", "DELETE", f"{_ALLOW_LIST}/{{allow_list_id}}", SUPERADMIN,
           None, PurgePayload,
           "Purge an allow-list entry and the fragments it admits",
           tag="allow-list", errors=(404,)),
)  # fmt: skip

ROUTES_BY_OPERATION_ID: Final[Mapping[str, RouteSpec]] = MappingProxyType(
    {route.operation_id: route for route in ROUTES}
)
