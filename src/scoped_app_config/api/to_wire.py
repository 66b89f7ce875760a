"""Domain values → response models, and response models → responses (never exclude_none)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel

from scoped_app_config.api.schemas.allow_list import AllowListNode
from scoped_app_config.api.schemas.common import ScopeType, SearchPageInfo
from scoped_app_config.api.schemas.definitions import DefinitionNode
from scoped_app_config.api.schemas.fragments import FragmentNode
from scoped_app_config.domain.models import (
    AllowListEntryData,
    DefinitionData,
    FragmentData,
    SearchResult,
)

T = TypeVar("T")


def model_response(model: BaseModel, *, status: int = 200) -> web.Response:
    """`model` as an application/json response, serialised by pydantic straight to JSON (no
    intermediate Python objects: a fragment's config is not rebuilt as dicts to be encoded)."""
    return web.Response(
        body=model.model_dump_json().encode(), status=status, content_type="application/json"
    )


def fragment_node(fragment: FragmentData) -> FragmentNode:
    return FragmentNode(
        id=fragment.id,
        config_name=fragment.config_name,
        scope_type=ScopeType(fragment.scope_type),
        scope_id=fragment.scope_id,
        config=dict(fragment.config),
        rank=fragment.rank,
        allow_list_rank=fragment.allow_list_rank,
        created_at=fragment.created_at,
        updated_at=fragment.updated_at,
    )


def definition_node(definition: DefinitionData) -> DefinitionNode:
    return DefinitionNode(
        id=definition.id,
        config_name=definition.config_name,
        created_at=definition.created_at,
        updated_at=definition.updated_at,
    )


def allow_list_node(entry: AllowListEntryData) -> AllowListNode:
    return AllowListNode(
        id=entry.id,
        config_name=entry.config_name,
        scope_type=ScopeType(entry.scope_type),
        rank=entry.rank,
        created_at=entry.created_at,
        updated_at=entry.updated_at,
    )


def search_response(
    payload: type[SearchPageInfo], result: SearchResult[T], node: Callable[[T], BaseModel]
) -> web.Response:
    """A search page as `payload` (`{"items", "total_count", "has_*_page"}`)."""
    page = payload.model_validate(
        {
            "items": [node(item) for item in result.items],
            "total_count": result.total_count,
            "has_next_page": result.has_next_page,
            "has_previous_page": result.has_previous_page,
        }
    )
    return model_response(page)
