from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, TypeAlias

import attrs

from scoped_app_config.merge import MergeSource, merge_configs, merge_order_key

Stack: TypeAlias = Callable[[Sequence[Mapping[str, Any]]], list[MergeSource]]


class TestMergeConfigs:
    def test_user_fragment_overrides_domain_value(self, fragments_in_merge_order: Stack) -> None:
        public, domain, user = fragments_in_merge_order(
            [{"theme": "light"}, {"theme": "dark"}, {"theme": "solarized"}]
        )
        assert (public.scope_type, domain.scope_type) == ("public", "domain_user_defaults")

        assert merge_configs([public, domain, user]) == {"theme": "solarized"}

    def test_nested_objects_merge_key_by_key(self, fragments_in_merge_order: Stack) -> None:
        fragments = fragments_in_merge_order(
            [
                {"editor": {"font": {"size": 12, "family": "mono"}, "tabs": 4}, "lang": "en"},
                {"editor": {"font": {"size": 14}}, "beta": True},
            ]
        )

        assert merge_configs(fragments) == {
            "editor": {"font": {"size": 14, "family": "mono"}, "tabs": 4},
            "lang": "en",
            "beta": True,
        }

    def test_list_is_replaced_wholesale(self, fragments_in_merge_order: Stack) -> None:
        fragments = fragments_in_merge_order(
            [{"menu": ["home", "files", "jobs"]}, {"menu": ["jobs"]}]
        )

        assert merge_configs(fragments) == {"menu": ["jobs"]}

    def test_list_of_objects_is_not_merged_element_wise(
        self, fragments_in_merge_order: Stack
    ) -> None:
        fragments = fragments_in_merge_order([{"items": [{"a": 1}]}, {"items": [{"b": 2}]}])

        assert merge_configs(fragments) == {"items": [{"b": 2}]}

    def test_explicit_null_overwrites_earlier_value(self, fragments_in_merge_order: Stack) -> None:
        fragments = fragments_in_merge_order(
            [{"theme": "dark", "panel": {"width": 3}}, {"theme": None, "panel": None}]
        )

        assert merge_configs(fragments) == {"theme": None, "panel": None}

    def test_later_value_overwrites_explicit_null(self, fragments_in_merge_order: Stack) -> None:
        fragments = fragments_in_merge_order([{"panel": None}, {"panel": {"width": 3}}])

        assert merge_configs(fragments) == {"panel": {"width": 3}}

    def test_object_replaces_scalar_wholesale(self, fragments_in_merge_order: Stack) -> None:
        fragments = fragments_in_merge_order([{"k": 1}, {"k": {"x": 1}}])

        assert merge_configs(fragments) == {"k": {"x": 1}}

    def test_scalar_replaces_object_wholesale(self, fragments_in_merge_order: Stack) -> None:
        fragments = fragments_in_merge_order([{"k": {"x": 1, "y": 2}}, {"k": "flat"}])

        assert merge_configs(fragments) == {"k": "flat"}

    def test_list_replaces_object_and_object_replaces_list(
        self, fragments_in_merge_order: Stack
    ) -> None:
        fragments = fragments_in_merge_order([{"a": {"x": 1}, "b": [1]}, {"a": [1], "b": {"x": 1}}])

        assert merge_configs(fragments) == {"a": [1], "b": {"x": 1}}

    def test_empty_fragment_contributes_nothing(self, fragments_in_merge_order: Stack) -> None:
        fragments = fragments_in_merge_order([{"a": {"x": 1}}, {}, {"a": {}}])

        assert merge_configs(fragments) == {"a": {"x": 1}}

    def test_empty_object_is_kept_when_nothing_earlier_is_there(
        self, fragments_in_merge_order: Stack
    ) -> None:
        fragments = fragments_in_merge_order([{"a": 1}, {"b": {}}])

        assert merge_configs(fragments) == {"a": 1, "b": {}}

    def test_no_fragments_give_an_empty_config(self) -> None:
        assert merge_configs([]) == {}

    def test_fold_is_left_to_right_per_style_counterexample(
        self, fragments_in_merge_order: Stack
    ) -> None:
        a, b, c = {"k": {"x": 1}}, {"k": 1}, {"k": {"y": 2}}
        fragments = fragments_in_merge_order([a, b, c])
        b_then_c = merge_configs(fragments_in_merge_order([b, c]))

        assert merge_configs(fragments) == {"k": {"y": 2}}
        # Merging a with the pre-merged (b then c) differs: the fold is not associative.
        assert merge_configs(fragments_in_merge_order([a, b_then_c])) == {"k": {"x": 1, "y": 2}}

    def test_fragments_are_merged_in_given_order_without_sorting(
        self, fragments_in_merge_order: Stack
    ) -> None:
        low, high = fragments_in_merge_order([{"theme": "low"}, {"theme": "high"}])

        assert merge_configs([high, low]) == {"theme": "low"}

    def test_inputs_are_not_mutated(self, fragments_in_merge_order: Stack) -> None:
        configs: list[dict[str, Any]] = [
            {"a": {"x": [1, {"deep": 1}]}, "b": 1},
            {"a": {"y": 2}, "b": {"z": [3]}},
            {"a": {"x": None}},
        ]
        before = copy.deepcopy(configs)

        merge_configs(fragments_in_merge_order(configs))

        assert configs == before

    def test_mutating_the_result_leaves_inputs_untouched(
        self, fragments_in_merge_order: Stack
    ) -> None:
        configs: list[dict[str, Any]] = [
            {"a": {"x": [1, {"deep": 1}]}, "only_first": {"n": 1}},
            {"a": {"y": {"z": [3]}}},
        ]
        before = copy.deepcopy(configs)

        result = merge_configs(fragments_in_merge_order(configs))
        result["a"]["x"][1]["deep"] = "changed"
        result["a"]["x"].append("more")
        result["a"]["y"]["z"].append(4)
        result["only_first"]["n"] = 2

        assert configs == before

    def test_single_fragment_result_is_a_new_container(
        self, fragments_in_merge_order: Stack
    ) -> None:
        config: dict[str, Any] = {"a": {"b": [1]}}
        (fragment,) = fragments_in_merge_order([config])

        result = merge_configs([fragment])

        assert result == config
        assert result is not config
        assert result["a"] is not config["a"]
        assert result["a"]["b"] is not config["a"]["b"]

    def test_read_only_mappings_and_tuples_become_dicts_and_lists(
        self, fragments_in_merge_order: Stack
    ) -> None:
        frozen_config = MappingProxyType({"a": MappingProxyType({"x": (1, 2)})})
        fragments = fragments_in_merge_order([frozen_config, {"a": {"y": 3}}])

        result = merge_configs(fragments)

        assert result == {"a": {"x": [1, 2], "y": 3}}
        assert type(result["a"]) is dict
        assert type(result["a"]["x"]) is list


@attrs.frozen
class RankedFragment:
    """A fragment with explicit ranks, for the ordering tests."""

    id: uuid.UUID
    scope_type: str
    scope_id: uuid.UUID | None
    allow_list_rank: int
    rank: int
    config: Mapping[str, Any]


def ranked(scope_type: str, allow_list_rank: int, rank: int, **config: Any) -> RankedFragment:
    scope_id = None if scope_type == "public" else uuid.uuid4()
    return RankedFragment(uuid.uuid4(), scope_type, scope_id, allow_list_rank, rank, config)


class TestMergeOrderKey:
    def test_key_is_allow_list_rank_then_fragment_rank(self) -> None:
        assert merge_order_key(ranked("domain", 200, 700)) == (200, 700)

    def test_sorting_orders_by_allow_list_rank_before_fragment_rank(self) -> None:
        public = ranked("public", 100, 900, theme="public")
        domain = ranked("domain", 200, 100, theme="domain")
        user = ranked("user", 300, 500, theme="user")

        ordered = sorted([user, public, domain], key=merge_order_key)

        assert ordered == [public, domain, user]
        assert merge_configs(ordered) == {"theme": "user"}

    def test_fragment_rank_breaks_ties_between_equal_allow_list_ranks(self) -> None:
        earlier = ranked("domain", 200, 200, v="earlier")
        later = ranked("domain", 200, 300, v="later")

        ordered = sorted([later, earlier], key=merge_order_key)

        assert ordered == [earlier, later]
        assert merge_configs(ordered) == {"v": "later"}

    def test_domain_ranked_above_user_makes_domain_value_mandatory(self) -> None:
        user = ranked("user", 300, 100, quota=99)
        domain = ranked("domain", 400, 200, quota=10)

        assert merge_configs(sorted([user, domain], key=merge_order_key)) == {"quota": 10}
