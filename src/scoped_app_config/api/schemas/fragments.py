"""Fragment routes (`/v2/app-config-fragments/...`): by-names reads, upserts, by-id, purge."""

from __future__ import annotations

from typing import Annotated, Any, Self
from uuid import UUID

from pydantic import Field, RootModel, field_validator, model_validator

from scoped_app_config.api.schemas.common import (
    MAX_LIST_ITEMS,
    ConfigDocument,
    ConfigName,
    ConfigNames,
    NodeBase,
    Rank,
    RequestModel,
    ResponseModel,
    ScopeRef,
    ScopeType,
    SearchPageInfo,
)


class ScopedFragmentsByNamesInput(RequestModel):
    scope: ScopeRef
    config_names: ConfigNames


class MyFragmentsByNamesInput(RequestModel):
    config_names: ConfigNames


class FragmentUpsertItem(RequestModel):
    config_name: ConfigName
    config: ConfigDocument


UpsertItems = Annotated[list[FragmentUpsertItem], Field(min_length=1, max_length=MAX_LIST_ITEMS)]


class ScopedUpsertFragmentsInput(RequestModel):
    """All-or-nothing upsert of many fragments at one scope."""

    scope: ScopeRef
    items: UpsertItems


class MyUpsertFragmentsInput(RequestModel):
    """All-or-nothing upsert at the caller's own user scope."""

    items: UpsertItems


class BulkDeleteFragmentsInput(RequestModel):
    ids: Annotated[list[UUID], Field(min_length=1, max_length=MAX_LIST_ITEMS)]


class CreateFragmentInput(RequestModel):
    """Body of `POST /v2/app-config-fragments/`; the fragment rank is assigned by the server."""

    config_name: ConfigName
    scope: ScopeRef
    config: ConfigDocument


class UpdateFragmentInput(RequestModel):
    """Body of `PATCH /v2/app-config-fragments/{fragment_id}`: at least one key.

    `config` replaces the whole document; `rank` is superadmin-only. Neither can be cleared,
    so an explicit null is refused; `None` here means "not sent".
    """

    config: ConfigDocument | None = None
    rank: Rank | None = None

    @field_validator("config", "rank", mode="before")
    @classmethod
    def _refuse_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("omit the key instead of sending null")
        return value

    @model_validator(mode="after")
    def _require_change(self) -> Self:
        if self.config is None and self.rank is None:
            raise ValueError("give at least one of config, rank")
        return self


class FragmentNode(NodeBase):
    """A fragment; `rank` and `allow_list_rank` are additions the SDK ignores.

    SDK 26.9.6 rejects a whole response holding a `domain_user_defaults` node, so such nodes go
    only to requests that asked for that scope (the service filters, not this model).
    """

    config_name: str
    scope_type: ScopeType
    scope_id: UUID | None = Field(description="Null exactly for the public scope.")
    config: dict[str, Any]
    rank: int = Field(description="Tie-breaker within entries of equal allow-list rank.")
    allow_list_rank: int = Field(description="Rank of the allow-list entry that admits it.")

    @model_validator(mode="after")
    def _check_scope_id(self) -> Self:
        if (self.scope_type is ScopeType.PUBLIC) != (self.scope_id is None):
            raise ValueError("scope_id must be null exactly for the public scope")
        return self


class FragmentsByNamesPayload(RootModel[list[FragmentNode | None]]):
    """A bare array: one element per requested name, null where the scope holds none."""


class FragmentUpsertFailure(ResponseModel):
    config_name: str
    message: str


class UpsertFragmentsPayload(ResponseModel):
    """Upserted fragments in request order; `failed` is empty on success."""

    items: list[FragmentNode]
    failed: list[FragmentUpsertFailure] = Field(default_factory=list)


class FragmentDeleteFailure(ResponseModel):
    id: UUID
    message: str


class BulkDeleteFragmentsPayload(ResponseModel):
    """Per-item result of a bulk delete."""

    items: list[UUID]
    failed: list[FragmentDeleteFailure] = Field(default_factory=list)


class FragmentWritePayload(ResponseModel):
    """Answer of a single-fragment create (201) or update (200)."""

    app_config_fragment: FragmentNode


class FragmentSearchPayload(SearchPageInfo):
    items: list[FragmentNode]
