"""Allow-list routes (`/v2/app-config-allow-list/...`): the write gate and the merge rank."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from scoped_app_config.api.schemas.common import (
    ConfigName,
    NodeBase,
    Rank,
    RequestModel,
    ResponseModel,
    ScopeType,
    SearchPageInfo,
)


class CreateAllowListInput(RequestModel):
    """Without `rank` (or with null, as the SDK's model allows) the scope type's default."""

    config_name: ConfigName
    scope_type: ScopeType
    rank: Rank | None = None


class UpdateAllowListInput(RequestModel):
    """Only the rank can change. The SDK repeats the id in the body; the path id wins."""

    id: UUID | None = Field(default=None, description="Ignored: the id in the path wins.")
    rank: Rank | None = Field(default=None, description="Omit (or null) to leave unchanged.")


class AllowListNode(NodeBase):
    config_name: str
    scope_type: ScopeType
    rank: int


class AllowListWritePayload(ResponseModel):
    """Answer of an allow-list create (201) or update (200)."""

    app_config_allow_list: AllowListNode


class AllowListSearchPayload(SearchPageInfo):
    items: list[AllowListNode]
