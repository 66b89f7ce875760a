"""Definition and allow-list routes (superadmin only, enforced by the host's route decorator)."""

from __future__ import annotations

import uuid

from aiohttp import web

from scoped_app_config.api.from_wire import query_of
from scoped_app_config.api.keys import services_of
from scoped_app_config.api.problems import parse_body
from scoped_app_config.api.schemas.allow_list import (
    AllowListSearchPayload,
    AllowListWritePayload,
    CreateAllowListInput,
    UpdateAllowListInput,
)
from scoped_app_config.api.schemas.common import PurgePayload
from scoped_app_config.api.schemas.definitions import (
    CreateDefinitionInput,
    DefinitionSearchPayload,
    DefinitionWritePayload,
)
from scoped_app_config.api.schemas.search import AllowListSearchInput, DefinitionSearchInput
from scoped_app_config.api.to_wire import (
    allow_list_node,
    definition_node,
    model_response,
    search_response,
)
from scoped_app_config.domain.types import ScopeType


def _path_id(request: web.Request, name: str) -> uuid.UUID:
    return uuid.UUID(request.match_info[name])


async def create_definition(request: web.Request) -> web.StreamResponse:
    services = services_of(request)
    body = await parse_body(request, CreateDefinitionInput, services.config.max_body_bytes)
    definition = await services.policy_admin.register(body.config_name)
    payload = DefinitionWritePayload(app_config_definition=definition_node(definition))
    return model_response(payload, status=201)


async def search_definitions(request: web.Request) -> web.StreamResponse:
    services = services_of(request)
    body = await parse_body(request, DefinitionSearchInput, services.config.max_body_bytes)
    result = await services.policy_admin.search_definitions(query_of(body))
    return search_response(DefinitionSearchPayload, result, definition_node)


async def get_definition(request: web.Request) -> web.StreamResponse:
    services = services_of(request)
    definition = await services.policy_admin.get_definition(_path_id(request, "definition_id"))
    return model_response(definition_node(definition))


async def delete_definition(request: web.Request) -> web.StreamResponse:
    services = services_of(request)
    definition = await services.policy_admin.retire(_path_id(request, "definition_id"))
    return model_response(PurgePayload(id=definition.id))


async def create_allow_list_entry(request: web.Request) -> web.StreamResponse:
    services = services_of(request)
    body = await parse_body(request, CreateAllowListInput, services.config.max_body_bytes)
    entry = await services.policy_admin.allow(
        body.config_name, ScopeType(body.scope_type), body.rank
    )
    payload = AllowListWritePayload(app_config_allow_list=allow_list_node(entry))
    return model_response(payload, status=201)


async def search_allow_list(request: web.Request) -> web.StreamResponse:
    services = services_of(request)
    body = await parse_body(request, AllowListSearchInput, services.config.max_body_bytes)
    result = await services.policy_admin.search_entries(query_of(body))
    return search_response(AllowListSearchPayload, result, allow_list_node)


async def get_allow_list_entry(request: web.Request) -> web.StreamResponse:
    services = services_of(request)
    entry = await services.policy_admin.get_entry(_path_id(request, "allow_list_id"))
    return model_response(allow_list_node(entry))


async def update_allow_list_entry(request: web.Request) -> web.StreamResponse:
    services = services_of(request)
    body = await parse_body(request, UpdateAllowListInput, services.config.max_body_bytes)
    entry = await services.policy_admin.rerank(_path_id(request, "allow_list_id"), body.rank)
    payload = AllowListWritePayload(app_config_allow_list=allow_list_node(entry))
    return model_response(payload)


async def delete_allow_list_entry(request: web.Request) -> web.StreamResponse:
    services = services_of(request)
    entry = await services.policy_admin.disallow(_path_id(request, "allow_list_id"))
    return model_response(PurgePayload(id=entry.id))
