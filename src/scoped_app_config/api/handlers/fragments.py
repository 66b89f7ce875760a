"""Fragment routes: by-names, bulk upsert, single create/get/update/delete, bulk delete,
admin search and explain."""

from __future__ import annotations

import uuid

from aiohttp import web

from reference_host.contract import current_caller
from scoped_app_config.api.from_wire import actor_of, query_of, scope_of
from scoped_app_config.api.keys import services_of
from scoped_app_config.api.problems import parse_body
from scoped_app_config.api.schemas.app_config import (
    Contributor,
    ExplainAppConfigInput,
    ExplainAppConfigPayload,
)
from scoped_app_config.api.schemas.common import PurgePayload
from scoped_app_config.api.schemas.common import ScopeType as WireScopeType
from scoped_app_config.api.schemas.fragments import (
    BulkDeleteFragmentsInput,
    BulkDeleteFragmentsPayload,
    CreateFragmentInput,
    FragmentDeleteFailure,
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
from scoped_app_config.api.schemas.search import FragmentSearchInput
from scoped_app_config.api.to_wire import fragment_node, model_response, search_response
from scoped_app_config.domain.models import FragmentData
from scoped_app_config.services.fragments import FragmentChange, FragmentService


def _fragment_id(request: web.Request) -> uuid.UUID:
    return uuid.UUID(request.match_info["fragment_id"])


def _by_names(found: list[FragmentData | None]) -> web.Response:
    payload = FragmentsByNamesPayload([None if f is None else fragment_node(f) for f in found])
    return model_response(payload)


def _upserted(items: list[FragmentData]) -> web.Response:
    payload = UpsertFragmentsPayload(items=[fragment_node(f) for f in items], failed=[])
    return model_response(payload)


async def get_scoped_fragments_by_names(request: web.Request) -> web.StreamResponse:
    services = services_of(request)
    body = await parse_body(request, ScopedFragmentsByNamesInput, services.config.max_body_bytes)
    actor = actor_of(current_caller(request))
    found = await services.fragments.find_by_names(actor, scope_of(body.scope), body.config_names)
    return _by_names(found)


async def get_my_fragments_by_names(request: web.Request) -> web.StreamResponse:
    services = services_of(request)
    body = await parse_body(request, MyFragmentsByNamesInput, services.config.max_body_bytes)
    actor = actor_of(current_caller(request))
    scope = FragmentService.own_scope(actor)
    return _by_names(await services.fragments.find_by_names(actor, scope, body.config_names))


async def bulk_upsert_scoped_fragments(request: web.Request) -> web.StreamResponse:
    services = services_of(request)
    body = await parse_body(request, ScopedUpsertFragmentsInput, services.config.max_body_bytes)
    actor = actor_of(current_caller(request))
    items = [(item.config_name, item.config) for item in body.items]
    return _upserted(await services.fragments.bulk_upsert(actor, scope_of(body.scope), items))


async def bulk_upsert_my_fragments(request: web.Request) -> web.StreamResponse:
    services = services_of(request)
    body = await parse_body(request, MyUpsertFragmentsInput, services.config.max_body_bytes)
    actor = actor_of(current_caller(request))
    items = [(item.config_name, item.config) for item in body.items]
    scope = FragmentService.own_scope(actor)
    return _upserted(await services.fragments.bulk_upsert(actor, scope, items))


async def create_fragment(request: web.Request) -> web.StreamResponse:
    services = services_of(request)
    body = await parse_body(request, CreateFragmentInput, services.config.max_body_bytes)
    actor = actor_of(current_caller(request))
    fragment = await services.fragments.create(
        actor, scope_of(body.scope), body.config_name, body.config
    )
    payload = FragmentWritePayload(app_config_fragment=fragment_node(fragment))
    return model_response(payload, status=201)


async def get_fragment(request: web.Request) -> web.StreamResponse:
    actor = actor_of(current_caller(request))
    fragment = await services_of(request).fragments.get(actor, _fragment_id(request))
    return model_response(fragment_node(fragment))


async def update_fragment(request: web.Request) -> web.StreamResponse:
    services = services_of(request)
    body = await parse_body(request, UpdateFragmentInput, services.config.max_body_bytes)
    actor = actor_of(current_caller(request))
    change = FragmentChange(config=body.config, rank=body.rank)
    fragment = await services.fragments.update(actor, _fragment_id(request), change)
    payload = FragmentWritePayload(app_config_fragment=fragment_node(fragment))
    return model_response(payload)


async def delete_fragment(request: web.Request) -> web.StreamResponse:
    actor = actor_of(current_caller(request))
    purged = await services_of(request).fragments.purge(actor, _fragment_id(request))
    return model_response(PurgePayload(id=purged.id))


async def bulk_delete_fragments(request: web.Request) -> web.StreamResponse:
    services = services_of(request)
    body = await parse_body(request, BulkDeleteFragmentsInput, services.config.max_body_bytes)
    actor = actor_of(current_caller(request))
    result = await services.fragments.bulk_purge(actor, body.ids)
    payload = BulkDeleteFragmentsPayload(
        items=[fragment.id for fragment in result.purged],
        failed=[FragmentDeleteFailure(id=f.id, message=f.message) for f in result.failed],
    )
    return model_response(payload)


async def search_fragments(request: web.Request) -> web.StreamResponse:
    services = services_of(request)
    body = await parse_body(request, FragmentSearchInput, services.config.max_body_bytes)
    result = await services.fragments.admin_search(query_of(body))
    return search_response(FragmentSearchPayload, result, fragment_node)


async def explain_app_config(request: web.Request) -> web.StreamResponse:
    services = services_of(request)
    body = await parse_body(request, ExplainAppConfigInput, services.config.max_body_bytes)
    actor = actor_of(current_caller(request))
    explanation = await services.fragments.explain(actor, body.config_name, body.user_id)
    payload = ExplainAppConfigPayload(
        config_name=body.config_name,
        config=explanation.config,
        provenance={
            pointer: Contributor(
                fragment_id=c.fragment_id,
                scope_type=WireScopeType(c.scope_type),
                scope_id=c.scope_id,
                allow_list_rank=c.allow_list_rank,
                rank=c.rank,
            )
            for pointer, c in explanation.provenance.items()
        },
    )
    return model_response(payload)
