"""Search bodies: filters, order fields per entity, and the pagination modes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeVar

import pytest
from pydantic import BaseModel, ValidationError

from scoped_app_config.api.schemas.common import MAX_PAGE_SIZE, OrderDirection, ScopeType
from scoped_app_config.api.schemas.search import (
    MAX_FILTER_DEPTH,
    AllowListOrderField,
    AllowListSearchInput,
    DateTimeFilter,
    DefinitionSearchInput,
    FragmentFilter,
    FragmentOrderField,
    FragmentSearchInput,
    ScopeTypeFilter,
    StringFilter,
)

M = TypeVar("M", bound=BaseModel)
SEARCH_INPUTS = [DefinitionSearchInput, AllowListSearchInput, FragmentSearchInput]

# What the SDK 26.9.6 sends for an admin fragment search (model_dump with exclude_unset).
SDK_FRAGMENT_SEARCH: dict[str, Any] = {
    "filter": {
        "config_name": {"in_": ["a", "b"]},
        "scope_type": {"in_": ["public"]},
        "created_at": {"after": "2026-01-01T00:00:00Z"},
        "OR": [{"config_name": {"i_contains": "x"}}],
    },
    "order": [{"field": "config_name"}, {"field": "created_at", "direction": "DESC"}],
    "first": 5,
    "after": "abc",
}

STRING_OPERATIONS = (
    "equals", "contains", "starts_with", "ends_with",
    "not_equals", "not_contains", "not_starts_with", "not_ends_with",
    "i_equals", "i_contains", "i_starts_with", "i_ends_with",
    "i_not_equals", "i_not_contains", "i_not_starts_with", "i_not_ends_with",
)  # fmt: skip


def accept(model: type[M], payload: Any) -> M:
    parsed = model.model_validate(payload)
    assert model.model_validate_json(json.dumps(payload)) == parsed
    return parsed


def reject(model: type[BaseModel], payload: Any) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(payload)
    with pytest.raises(ValidationError):
        model.model_validate_json(json.dumps(payload))


def nested(depth: int) -> dict[str, Any]:
    search_filter: dict[str, Any] = {"config_name": {"equals": "theme"}}
    for _ in range(depth - 1):
        search_filter = {"NOT": [search_filter]}
    return search_filter


class TestSdkShapes:
    def test_sdk_fragment_search_is_accepted(self) -> None:
        parsed = accept(FragmentSearchInput, SDK_FRAGMENT_SEARCH)
        assert parsed.filter is not None
        assert parsed.filter.config_name is not None
        assert parsed.filter.config_name.in_ == ["a", "b"]
        assert parsed.filter.scope_type is not None
        assert parsed.filter.scope_type.in_ == [ScopeType.PUBLIC]
        assert parsed.order is not None
        assert [(o.field, o.direction) for o in parsed.order] == [
            (FragmentOrderField.CONFIG_NAME, OrderDirection.ASC),
            (FragmentOrderField.CREATED_AT, OrderDirection.DESC),
        ]

    @pytest.mark.parametrize("model", SEARCH_INPUTS, ids=lambda m: m.__name__)
    def test_empty_body_is_accepted(self, model: type[BaseModel]) -> None:
        accept(model, {})


class TestStringFilter:
    @pytest.mark.parametrize("operation", STRING_OPERATIONS)
    def test_scalar_operation_is_accepted(self, operation: str) -> None:
        assert getattr(accept(StringFilter, {operation: "th"}), operation) == "th"

    @pytest.mark.parametrize(
        ("key", "attribute"),
        [
            ("in", "in_"),
            ("in_", "in_"),
            ("not_in", "not_in"),
            ("i_in", "i_in"),
            ("i_not_in", "i_not_in"),
        ],
    )
    def test_list_operation_is_accepted(self, key: str, attribute: str) -> None:
        assert getattr(accept(StringFilter, {key: ["a", "b"]}), attribute) == ["a", "b"]

    def test_in_dumps_under_its_alias(self) -> None:
        assert StringFilter(in_=["a"]).model_dump(by_alias=True, exclude_none=True) == {"in": ["a"]}

    def test_in_and_in_underscore_together_are_rejected(self) -> None:
        reject(StringFilter, {"in": ["a"], "in_": ["b"]})

    @pytest.mark.parametrize(
        "payload",
        [{"equals": 1}, {"in": "a"}, {"in": [1]}, {"like": "a%"}, {"contains": None, "x": 1}],
    )
    def test_malformed_operation_is_rejected(self, payload: dict[str, Any]) -> None:
        reject(StringFilter, payload)


class TestScopeTypeFilter:
    @pytest.mark.parametrize("key", ["in", "in_"])
    def test_in_is_accepted_under_both_names(self, key: str) -> None:
        parsed = accept(ScopeTypeFilter, {key: ["domain", "domain_user_defaults"]})
        assert parsed.in_ == [ScopeType.DOMAIN, ScopeType.DOMAIN_USER_DEFAULTS]

    def test_every_operation_is_accepted(self) -> None:
        accept(
            ScopeTypeFilter,
            {"equals": "user", "not_equals": "public", "not_in": ["domain"]},
        )

    @pytest.mark.parametrize("payload", [{"equals": "group"}, {"in": ["USER"]}, {"like": "u"}])
    def test_invalid_value_is_rejected(self, payload: dict[str, Any]) -> None:
        reject(ScopeTypeFilter, payload)


class TestDateTimeFilter:
    def test_utc_suffixes_are_accepted(self) -> None:
        parsed = accept(
            DateTimeFilter,
            {"before": "2026-08-23T01:02:03.456789+00:00", "after": "2026-08-23T01:02:03Z"},
        )
        assert parsed.before == datetime(2026, 8, 23, 1, 2, 3, 456789, tzinfo=UTC)

    def test_offset_is_kept(self) -> None:
        parsed = accept(DateTimeFilter, {"equals": "2026-08-23T10:00:00+09:00"})
        assert parsed.equals == datetime(2026, 8, 23, 10, tzinfo=timezone(timedelta(hours=9)))

    def test_naive_value_is_read_as_utc(self) -> None:
        parsed = accept(DateTimeFilter, {"not_equals": "2026-08-23T01:02:03"})
        assert parsed.not_equals == datetime(2026, 8, 23, 1, 2, 3, tzinfo=UTC)

    @pytest.mark.parametrize(
        "payload", [{"before": 1700000000}, {"after": "yesterday"}, {"since": "2026-01-01"}]
    )
    def test_invalid_value_is_rejected(self, payload: dict[str, Any]) -> None:
        reject(DateTimeFilter, payload)


class TestFilterCombinators:
    def test_and_or_not_nest(self) -> None:
        parsed = accept(
            FragmentFilter,
            {
                "AND": [
                    {"OR": [{"scope_type": {"equals": "user"}}, {"NOT": [nested(2)]}]},
                    {"updated_at": {"after": "2026-01-01T00:00:00Z"}},
                ]
            },
        )
        assert parsed.depth() == 5

    def test_filter_at_the_depth_limit_is_accepted(self) -> None:
        accept(FragmentSearchInput, {"filter": nested(MAX_FILTER_DEPTH)})

    def test_filter_past_the_depth_limit_is_rejected(self) -> None:
        reject(FragmentSearchInput, {"filter": nested(MAX_FILTER_DEPTH + 1)})

    def test_combinator_must_be_a_list(self) -> None:
        reject(FragmentFilter, {"AND": {"config_name": {"equals": "a"}}})

    def test_lower_case_combinator_is_rejected(self) -> None:
        reject(FragmentFilter, {"and": [{"config_name": {"equals": "a"}}]})

    def test_definition_filter_has_no_scope_type(self) -> None:
        reject(DefinitionSearchInput, {"filter": {"scope_type": {"equals": "user"}}})

    def test_nested_definition_filter_has_no_scope_type(self) -> None:
        reject(DefinitionSearchInput, {"filter": {"OR": [{"scope_type": {"equals": "user"}}]}})

    def test_allow_list_filter_has_scope_type(self) -> None:
        accept(AllowListSearchInput, {"filter": {"scope_type": {"in_": ["user"]}}})


class TestOrder:
    @pytest.mark.parametrize(
        ("model", "field"),
        [
            (DefinitionSearchInput, "config_name"),
            (DefinitionSearchInput, "updated_at"),
            (AllowListSearchInput, "rank"),
            (AllowListSearchInput, "scope_type"),
            (FragmentSearchInput, "rank"),
            (FragmentSearchInput, "scope_id"),
            (FragmentSearchInput, "created_at"),
        ],
    )
    def test_allowed_field_is_accepted(self, model: type[BaseModel], field: str) -> None:
        accept(model, {"order": [{"field": field, "direction": "DESC"}]})

    @pytest.mark.parametrize(
        ("model", "field"),
        [
            (DefinitionSearchInput, "rank"),
            (DefinitionSearchInput, "scope_type"),
            (AllowListSearchInput, "scope_id"),
            (FragmentSearchInput, "config"),
            (FragmentSearchInput, "id"),
        ],
    )
    def test_unknown_field_is_rejected(self, model: type[BaseModel], field: str) -> None:
        reject(model, {"order": [{"field": field}]})

    def test_direction_defaults_to_ascending(self) -> None:
        parsed = accept(AllowListSearchInput, {"order": [{"field": "rank"}]})
        assert parsed.order is not None
        assert parsed.order[0].field is AllowListOrderField.RANK
        assert parsed.order[0].direction is OrderDirection.ASC

    @pytest.mark.parametrize("direction", ["asc", "desc", "Ascending", None, 1])
    def test_direction_other_than_asc_desc_is_rejected(self, direction: Any) -> None:
        reject(DefinitionSearchInput, {"order": [{"field": "config_name", "direction": direction}]})

    def test_order_must_be_a_list(self) -> None:
        reject(DefinitionSearchInput, {"order": {"field": "config_name"}})


class TestPagination:
    @pytest.mark.parametrize(
        "payload",
        [
            {"first": 10},
            {"first": 10, "after": "Y3Vyc29y"},
            {"after": "Y3Vyc29y"},
            {"last": 10, "before": "Y3Vyc29y"},
            {"limit": 10, "offset": 0},
            {"offset": 20},
            {"limit": MAX_PAGE_SIZE},
        ],
    )
    def test_single_mode_is_accepted(self, payload: dict[str, Any]) -> None:
        accept(DefinitionSearchInput, payload)

    @pytest.mark.parametrize(
        "payload",
        [
            {"first": 10, "limit": 10},
            {"after": "c", "offset": 0},
            {"last": 10, "offset": 5},
            {"first": 10, "last": 10},
            {"after": "c", "before": "d"},
            {"first": 1, "before": "d"},
        ],
    )
    def test_mixed_modes_are_rejected(self, payload: dict[str, Any]) -> None:
        reject(DefinitionSearchInput, payload)

    @pytest.mark.parametrize(
        "payload",
        [
            {"first": 0},
            {"last": 0},
            {"limit": 0},
            {"offset": -1},
            {"limit": MAX_PAGE_SIZE + 1},
            {"first": "10"},
            {"limit": True},
            {"limit": 2.0},
            {"after": ""},
            {"after": 5},
        ],
    )
    def test_out_of_range_or_wrong_type_is_rejected(self, payload: dict[str, Any]) -> None:
        reject(FragmentSearchInput, payload)

    def test_unknown_key_is_rejected(self) -> None:
        reject(FragmentSearchInput, {"page": 2})
