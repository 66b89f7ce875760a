"""Search inputs (WIRE.md §4): filters with AND/OR/NOT, per-entity order fields, pagination.

`in` is a Python keyword, so the field is `in_` with the JSON alias `in`; both keys are accepted
(the SDK sends `in_`), and sending both at once is a 400.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Self

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from scoped_app_config.api.schemas.common import (
    MAX_LIST_ITEMS,
    OrderDirection,
    PaginationInput,
    RequestModel,
    ScopeType,
    refuse_nul,
)

MAX_FILTER_DEPTH: Final = 16
MAX_ORDER_KEYS: Final = 16
MAX_SUBFILTERS: Final = 100

FilterText = Annotated[str, Field(strict=True), AfterValidator(refuse_nul)]
FilterTexts = Annotated[list[FilterText], Field(max_length=MAX_LIST_ITEMS)]


def _refuse_non_string(value: Any) -> Any:
    # Lax datetime parsing would read a JSON number as a Unix timestamp.
    if not isinstance(value, str | datetime):
        raise ValueError("expected an ISO-8601 datetime string")
    return value


def _assume_utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


FilterDatetime = Annotated[
    datetime, BeforeValidator(_refuse_non_string), AfterValidator(_assume_utc)
]


class StringFilter(RequestModel):
    """Match operations on a string field; `i_` variants ignore case, `not_` variants negate."""

    equals: FilterText | None = None
    contains: FilterText | None = None
    starts_with: FilterText | None = None
    ends_with: FilterText | None = None
    not_equals: FilterText | None = None
    not_contains: FilterText | None = None
    not_starts_with: FilterText | None = None
    not_ends_with: FilterText | None = None
    i_equals: FilterText | None = None
    i_contains: FilterText | None = None
    i_starts_with: FilterText | None = None
    i_ends_with: FilterText | None = None
    i_not_equals: FilterText | None = None
    i_not_contains: FilterText | None = None
    i_not_starts_with: FilterText | None = None
    i_not_ends_with: FilterText | None = None
    in_: FilterTexts | None = Field(default=None, alias="in", description="Also accepted as in_.")
    not_in: FilterTexts | None = None
    i_in: FilterTexts | None = None
    i_not_in: FilterTexts | None = None


class ScopeTypeFilter(RequestModel):
    """Match operations on the `scope_type` enum field."""

    equals: ScopeType | None = None
    in_: list[ScopeType] | None = Field(
        default=None, alias="in", max_length=MAX_LIST_ITEMS, description="Also accepted as in_."
    )
    not_equals: ScopeType | None = None
    not_in: list[ScopeType] | None = Field(default=None, max_length=MAX_LIST_ITEMS)


class DateTimeFilter(RequestModel):
    """Comparisons on a timestamp; `before` and `after` are exclusive, naive values are UTC."""

    before: FilterDatetime | None = None
    after: FilterDatetime | None = None
    equals: FilterDatetime | None = None
    not_equals: FilterDatetime | None = None


class _FilterBase(RequestModel):
    """Fields every entity filters on, and the boolean combinators (each a list of filters)."""

    config_name: StringFilter | None = None
    created_at: DateTimeFilter | None = None
    updated_at: DateTimeFilter | None = None
    AND: list[Self] | None = Field(default=None, max_length=MAX_SUBFILTERS)
    OR: list[Self] | None = Field(default=None, max_length=MAX_SUBFILTERS)
    NOT: list[Self] | None = Field(default=None, max_length=MAX_SUBFILTERS)

    def depth(self) -> int:
        """Nesting depth: 1 for a filter without sub-filters."""
        children = [*(self.AND or ()), *(self.OR or ()), *(self.NOT or ())]
        return 1 + max((child.depth() for child in children), default=0)


class DefinitionFilter(_FilterBase):
    pass


class AllowListFilter(_FilterBase):
    scope_type: ScopeTypeFilter | None = None


class FragmentFilter(_FilterBase):
    scope_type: ScopeTypeFilter | None = None


class DefinitionOrderField(enum.StrEnum):
    CONFIG_NAME = "config_name"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


class AllowListOrderField(enum.StrEnum):
    CONFIG_NAME = "config_name"
    SCOPE_TYPE = "scope_type"
    RANK = "rank"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


class FragmentOrderField(enum.StrEnum):
    CONFIG_NAME = "config_name"
    SCOPE_TYPE = "scope_type"
    SCOPE_ID = "scope_id"
    RANK = "rank"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


class DefinitionOrder(RequestModel):
    field: DefinitionOrderField
    direction: OrderDirection = OrderDirection.ASC


class AllowListOrder(RequestModel):
    field: AllowListOrderField
    direction: OrderDirection = OrderDirection.ASC


class FragmentOrder(RequestModel):
    field: FragmentOrderField
    direction: OrderDirection = OrderDirection.ASC


class _SearchInputBase(PaginationInput):
    """Pagination plus the filter-depth bound; subclasses add `filter` and `order`."""

    @model_validator(mode="after")
    def _check_filter_depth(self) -> Self:
        search_filter = getattr(self, "filter", None)
        if isinstance(search_filter, _FilterBase) and search_filter.depth() > MAX_FILTER_DEPTH:
            raise ValueError(f"filter nesting deeper than {MAX_FILTER_DEPTH} levels")
        return self


class DefinitionSearchInput(_SearchInputBase):
    """Body of `POST /v2/app-config-definitions/search`; every key optional."""

    filter: DefinitionFilter | None = None
    order: list[DefinitionOrder] | None = Field(default=None, max_length=MAX_ORDER_KEYS)


class AllowListSearchInput(_SearchInputBase):
    """Body of `POST /v2/app-config-allow-list/search`; every key optional."""

    filter: AllowListFilter | None = None
    order: list[AllowListOrder] | None = Field(default=None, max_length=MAX_ORDER_KEYS)


class FragmentSearchInput(_SearchInputBase):
    """Body of `POST /v2/app-config-fragments/admin/search`; every key optional."""

    filter: FragmentFilter | None = None
    order: list[FragmentOrder] | None = Field(default=None, max_length=MAX_ORDER_KEYS)
