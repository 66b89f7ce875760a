"""Wire models → domain values (the only place that knows both)."""

from __future__ import annotations

from collections.abc import Sequence

from reference_host.contract import Caller
from scoped_app_config.api.schemas import common, search
from scoped_app_config.domain.types import ScopeRef, ScopeType
from scoped_app_config.query import (
    DateTimeFilter,
    Direction,
    EnumFilter,
    Order,
    OrderField,
    SearchFilter,
    SearchQuery,
    StringFilter,
)
from scoped_app_config.services.actor import Actor, ActorRole

AnySearchInput = (
    search.DefinitionSearchInput | search.AllowListSearchInput | search.FragmentSearchInput
)
AnyFilter = search.DefinitionFilter | search.AllowListFilter | search.FragmentFilter
AnyOrder = search.DefinitionOrder | search.AllowListOrder | search.FragmentOrder


def actor_of(caller: Caller) -> Actor:
    return Actor(user_id=caller.user_id, domain_id=caller.domain_id, role=ActorRole(caller.role))


def scope_of(scope: common.ScopeRef) -> ScopeRef:
    return ScopeRef(ScopeType(scope.scope_type), scope.scope_id)


def _string_filter(wire: search.StringFilter | None) -> StringFilter | None:
    if wire is None:
        return None
    return StringFilter(**wire.model_dump(exclude_none=True, by_alias=False))


def _scope_type_filter(wire: search.ScopeTypeFilter | None) -> EnumFilter | None:
    if wire is None:
        return None
    return EnumFilter(
        equals=wire.equals,
        in_=list(wire.in_) if wire.in_ is not None else None,
        not_equals=wire.not_equals,
        not_in=list(wire.not_in) if wire.not_in is not None else None,
    )


def _datetime_filter(wire: search.DateTimeFilter | None) -> DateTimeFilter | None:
    if wire is None:
        return None
    return DateTimeFilter(**wire.model_dump(exclude_none=True))


def _filters(wires: Sequence[AnyFilter] | None) -> tuple[SearchFilter, ...]:
    return tuple(filter_of(wire) for wire in wires or ())


def filter_of(wire: AnyFilter) -> SearchFilter:
    scope_type = getattr(wire, "scope_type", None)
    return SearchFilter(
        config_name=_string_filter(wire.config_name),
        scope_type=_scope_type_filter(scope_type),
        created_at=_datetime_filter(wire.created_at),
        updated_at=_datetime_filter(wire.updated_at),
        and_=_filters(wire.AND),
        or_=_filters(wire.OR),
        not_=_filters(wire.NOT),
    )


def _order_of(wire: AnyOrder) -> Order:
    return Order(OrderField(wire.field.value), Direction(wire.direction.value))


def query_of(wire: AnySearchInput) -> SearchQuery:
    """The search as asked, except for one compatibility rule: SDK 26.9.6 rejects a whole page
    that holds a scope type it does not know, so `domain_user_defaults` rows are returned only
    to a filter that names that scope type (a request that could have asked for them)."""
    search_filter = filter_of(wire.filter) if wire.filter is not None else None
    if not isinstance(wire, search.DefinitionSearchInput) and not mentions_scope_type(
        wire.filter, ScopeType.DOMAIN_USER_DEFAULTS
    ):
        search_filter = SearchFilter(
            scope_type=EnumFilter(not_equals=ScopeType.DOMAIN_USER_DEFAULTS),
            and_=(search_filter,) if search_filter is not None else (),
        )
    return SearchQuery.build(
        filter=search_filter,
        orders=[_order_of(order) for order in wire.order or ()],
        first=wire.first,
        after=wire.after,
        last=wire.last,
        before=wire.before,
        limit=wire.limit,
        offset=wire.offset,
    )


def mentions_scope_type(wire: AnyFilter | None, scope_type: ScopeType) -> bool:
    """Whether a filter names `scope_type` anywhere (it could then have asked for such rows)."""
    if wire is None:
        return False
    named = getattr(wire, "scope_type", None)
    if named is not None:
        values = [named.equals, named.not_equals, *(named.in_ or ()), *(named.not_in or ())]
        if scope_type in values:
            return True
    children = [*(wire.AND or ()), *(wire.OR or ()), *(wire.NOT or ())]
    return any(mentions_scope_type(child, scope_type) for child in children)
