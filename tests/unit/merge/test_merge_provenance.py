from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias

import attrs
import pytest

from scoped_app_config.merge import (
    Contributor,
    MergeExplanation,
    MergeSource,
    explain_merge,
    merge_configs,
)

Stack: TypeAlias = Callable[[Sequence[Mapping[str, Any]]], list[MergeSource]]


def credited(fragment: MergeSource) -> Contributor:
    return Contributor(
        fragment_id=fragment.id,
        scope_type=fragment.scope_type,
        scope_id=fragment.scope_id,
        allow_list_rank=fragment.allow_list_rank,
        rank=fragment.rank,
    )


class TestExplainMerge:
    def test_each_leaf_names_the_fragment_that_supplied_it(
        self, fragments_in_merge_order: Stack
    ) -> None:
        public, domain, user = fragments_in_merge_order(
            [
                {"theme": "light", "editor": {"tabs": 4, "font": "mono"}},
                {"editor": {"font": "serif"}, "menu": ["home"]},
                {"theme": "dark"},
            ]
        )

        explanation = explain_merge([public, domain, user])

        assert explanation.config == {
            "theme": "dark",
            "editor": {"tabs": 4, "font": "serif"},
            "menu": ["home"],
        }
        assert explanation.provenance == {
            "/theme": credited(user),
            "/editor/tabs": credited(public),
            "/editor/font": credited(domain),
            "/menu": credited(domain),
        }

    def test_contributor_carries_the_fragment_scope_and_ranks(
        self, fragments_in_merge_order: Stack
    ) -> None:
        _, domain_defaults = fragments_in_merge_order([{}, {"a": 1}])

        contributor = explain_merge([domain_defaults]).provenance["/a"]

        assert contributor.fragment_id == domain_defaults.id
        assert contributor.scope_type == "domain_user_defaults"
        assert contributor.scope_id == domain_defaults.scope_id
        assert contributor.allow_list_rank == domain_defaults.allow_list_rank
        assert contributor.rank == domain_defaults.rank

    def test_pointer_escapes_tilde_and_slash_in_keys(self, fragments_in_merge_order: Stack) -> None:
        (fragment,) = fragments_in_merge_order(
            [{"a/b": {"c~d": 1, "~1": 2, "/~": 3}, "": {"": 4}, " ": 5}]
        )

        provenance = explain_merge([fragment]).provenance

        assert set(provenance) == {"/a~1b/c~0d", "/a~1b/~01", "/a~1b/~1~0", "//", "/ "}

    def test_list_is_a_single_leaf(self, fragments_in_merge_order: Stack) -> None:
        (fragment,) = fragments_in_merge_order([{"menu": [{"id": 1}, [2]]}])

        assert set(explain_merge([fragment]).provenance) == {"/menu"}

    def test_empty_object_value_is_a_leaf(self, fragments_in_merge_order: Stack) -> None:
        first, second = fragments_in_merge_order([{"panel": 1}, {"panel": {}, "extra": {}}])

        explanation = explain_merge([first, second])

        assert explanation.config == {"panel": {}, "extra": {}}
        assert explanation.provenance == {"/panel": credited(second), "/extra": credited(second)}

    def test_merging_empty_object_keeps_earlier_contributor(
        self, fragments_in_merge_order: Stack
    ) -> None:
        first, second = fragments_in_merge_order([{"panel": {}}, {"panel": {}}])

        assert explain_merge([first, second]).provenance == {"/panel": credited(first)}

    def test_filling_an_empty_object_credits_the_new_leaves(
        self, fragments_in_merge_order: Stack
    ) -> None:
        first, second = fragments_in_merge_order([{"panel": {}}, {"panel": {"width": 3}}])

        assert explain_merge([first, second]).provenance == {"/panel/width": credited(second)}

    def test_empty_fragment_takes_no_credit(self, fragments_in_merge_order: Stack) -> None:
        first, empty = fragments_in_merge_order([{"a": {"b": 1}}, {}])

        assert explain_merge([first, empty]).provenance == {"/a/b": credited(first)}

    def test_overridden_subtree_drops_its_leaves(self, fragments_in_merge_order: Stack) -> None:
        a, b, c = fragments_in_merge_order([{"k": {"x": 1}}, {"k": 1}, {"k": {"y": 2}}])

        explanation = explain_merge([a, b, c])

        assert explanation.config == {"k": {"y": 2}}
        assert explanation.provenance == {"/k/y": credited(c)}

    def test_explicit_null_is_credited_to_the_fragment_that_set_it(
        self, fragments_in_merge_order: Stack
    ) -> None:
        first, second = fragments_in_merge_order([{"k": {"x": 1}}, {"k": None}])

        assert explain_merge([first, second]).provenance == {"/k": credited(second)}

    def test_deep_merge_into_a_wholesale_object_splits_credit(
        self, fragments_in_merge_order: Stack
    ) -> None:
        first, second, third = fragments_in_merge_order(
            [{"k": 1}, {"k": {"x": {"p": 1, "q": 2}, "y": 3}}, {"k": {"x": {"q": 20}}}]
        )

        explanation = explain_merge([first, second, third])

        assert explanation.config == {"k": {"x": {"p": 1, "q": 20}, "y": 3}}
        assert explanation.provenance == {
            "/k/x/p": credited(second),
            "/k/x/q": credited(third),
            "/k/y": credited(second),
        }

    def test_config_equals_merge_configs(self, fragments_in_merge_order: Stack) -> None:
        fragments = fragments_in_merge_order(
            [{"a": {"b": [1]}, "c": None}, {"a": {"d": {}}}, {"c": {"e": "f"}}]
        )

        assert explain_merge(fragments).config == merge_configs(fragments)

    def test_no_fragments_give_empty_config_and_provenance(self) -> None:
        assert explain_merge([]) == MergeExplanation(config={}, provenance={})

    def test_explanation_is_frozen(self, fragments_in_merge_order: Stack) -> None:
        explanation = explain_merge(fragments_in_merge_order([{"a": 1}]))

        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            explanation.config = {}  # type: ignore[misc]
