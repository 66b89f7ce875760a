"""Properties of the merge fold over generated JSON objects (STYLE.md §2.11)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeAlias

from hypothesis import given
from hypothesis import strategies as st

from scoped_app_config.merge import MergeSource, explain_merge, merge_configs

Stack: TypeAlias = Callable[[Sequence[Mapping[str, Any]]], list[MergeSource]]

# A few keys, so fragments collide often; they include the characters pointers must escape.
KEYS = st.sampled_from(["a", "b", "c", "", "x/y", "~", "~1", "/"])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-5, max_value=5)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.text(max_size=3)
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(KEYS, children, max_size=3),
    max_leaves=8,
)
OBJECTS = st.dictionaries(KEYS, VALUES, max_size=4)
CONFIG_STACKS = st.lists(OBJECTS, min_size=1, max_size=4)


def same_json(left: Any, right: Any) -> bool:
    """Equal as JSON, so ``True``, ``1`` and ``1.0`` are told apart."""
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True)


def leaves(doc: Mapping[str, Any], pointer: str = "") -> Iterator[tuple[str, Any]]:
    """(RFC 6901 pointer, value) of every non-object value and empty object under ``doc``."""
    for key, value in doc.items():
        child = pointer + "/" + key.replace("~", "~0").replace("/", "~1")
        if isinstance(value, dict) and value:
            yield from leaves(value, child)
        else:
            yield child, value


def prefixes(pointer: str) -> Iterator[list[str]]:
    """The key paths of ``pointer``'s ancestors below the root, then of ``pointer`` itself."""
    keys = [token.replace("~1", "/").replace("~0", "~") for token in pointer.split("/")[1:]]
    for end in range(1, len(keys) + 1):
        yield keys[:end]


_ABSENT = object()


def value_at(doc: Mapping[str, Any], keys: list[str]) -> Any:
    value: Any = doc
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return _ABSENT
        value = value[key]
    return value


def containers(value: Any) -> Iterator[int]:
    if isinstance(value, dict | list):
        yield id(value)
        for child in value.values() if isinstance(value, dict) else value:
            yield from containers(child)


@given(doc=OBJECTS)
def test_empty_fragment_is_left_and_right_identity(
    fragments_in_merge_order: Stack, doc: dict[str, Any]
) -> None:
    assert same_json(merge_configs(fragments_in_merge_order([{}, doc])), doc)
    assert same_json(merge_configs(fragments_in_merge_order([doc, {}])), doc)


@given(doc=OBJECTS)
def test_merging_a_config_with_itself_returns_it(
    fragments_in_merge_order: Stack, doc: dict[str, Any]
) -> None:
    assert same_json(merge_configs(fragments_in_merge_order([doc, doc])), doc)


@given(configs=CONFIG_STACKS)
def test_every_leaf_of_the_last_fragment_appears_unchanged(
    fragments_in_merge_order: Stack, configs: list[dict[str, Any]]
) -> None:
    merged = merge_configs(fragments_in_merge_order(configs))

    for pointer, value in leaves(configs[-1]):
        at_pointer = value_at(merged, list(prefixes(pointer))[-1])
        if isinstance(value, dict):  # an empty object may have been merged into, not replaced
            assert isinstance(at_pointer, dict)
        else:
            assert same_json(at_pointer, value), pointer


@given(configs=CONFIG_STACKS)
def test_top_level_keys_are_the_union_of_the_inputs_keys(
    fragments_in_merge_order: Stack, configs: list[dict[str, Any]]
) -> None:
    merged = merge_configs(fragments_in_merge_order(configs))

    assert set(merged) == set().union(*configs)


@given(configs=CONFIG_STACKS)
def test_inputs_are_unchanged_and_share_no_container_with_the_result(
    fragments_in_merge_order: Stack, configs: list[dict[str, Any]]
) -> None:
    before = copy.deepcopy(configs)

    merged = merge_configs(fragments_in_merge_order(configs))
    explained = explain_merge(fragments_in_merge_order(configs)).config

    assert same_json(configs, before)
    input_ids = set(containers(configs))
    assert input_ids.isdisjoint(containers(merged))
    assert input_ids.isdisjoint(containers(explained))


@given(configs=CONFIG_STACKS)
def test_explained_config_equals_merged_config(
    fragments_in_merge_order: Stack, configs: list[dict[str, Any]]
) -> None:
    fragments = fragments_in_merge_order(configs)

    assert same_json(explain_merge(fragments).config, merge_configs(fragments))


@given(configs=CONFIG_STACKS)
def test_provenance_credits_a_fragment_holding_the_value_that_nothing_later_overrides(
    fragments_in_merge_order: Stack, configs: list[dict[str, Any]]
) -> None:
    fragments = fragments_in_merge_order(configs)
    position = {fragment.id: index for index, fragment in enumerate(fragments)}

    explanation = explain_merge(fragments)

    result_leaves = dict(leaves(explanation.config))
    assert set(explanation.provenance) == set(result_leaves)
    for pointer, contributor in explanation.provenance.items():
        index = position[contributor.fragment_id]
        assert fragments[index].scope_type == contributor.scope_type
        paths = list(prefixes(pointer))
        assert same_json(value_at(configs[index], paths[-1]), result_leaves[pointer]), pointer
        for later in configs[index + 1 :]:
            # An override is a non-object value on the way to the leaf, or any value replacing
            # a non-object leaf; merging objects into an (empty) object leaf is not one.
            for ancestor in paths[:-1]:
                on_the_way = value_at(later, ancestor)
                assert on_the_way is _ABSENT or isinstance(on_the_way, dict), pointer
            at_leaf = value_at(later, paths[-1])
            leaf_is_object = isinstance(result_leaves[pointer], dict)
            assert at_leaf is _ABSENT or (leaf_is_object and isinstance(at_leaf, dict)), pointer
