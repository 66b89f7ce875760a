"""Deep-merge config fragments by a strict left fold, in the order given (later wins).

Objects merge key by key, recursively; an empty object therefore contributes nothing.
Anything else (scalars, lists, null, a change between object and non-object) replaces whole.
Explicit null overwrites: it is stored as the value null and does NOT mean "unset the key".

The fold is not associative (a={"k": {"x": 1}}, b={"k": 1}, c={"k": {"y": 2}} gives
{"k": {"y": 2}}, while a with (b then c) would give {"k": {"x": 1, "y": 2}}), so callers must
pass fragments already sorted by ``merge_order_key``; the engine never reorders them.
Inputs are never mutated and the result shares no container with them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeAlias

from scoped_app_config.merge.pointer import append_token
from scoped_app_config.merge.types import Contributor, MergeExplanation, MergeSource

# For each key of a merged object: the contributor of the whole value under that key, or, once
# a later fragment has merged into that object, one entry per key of the nested object.
_ProvenanceNode: TypeAlias = dict[str, "Contributor | _ProvenanceNode"]


def merge_order_key(fragment: MergeSource) -> tuple[int, int]:
    """The sort key of the merge order: ascending ``(allow_list_rank, rank)``, later wins."""
    return (fragment.allow_list_rank, fragment.rank)


def merge_configs(sources: Sequence[MergeSource]) -> dict[str, Any]:
    """Fold the sources' configs, in the given order, into one new config."""
    merged: dict[str, Any] = {}
    for source in sources:
        _merge_into(merged, source.config)
    return merged


def explain_merge(sources: Sequence[MergeSource]) -> MergeExplanation:
    """Like ``merge_configs``, and also name the fragment that supplied each leaf."""
    merged: dict[str, Any] = {}
    provenance: _ProvenanceNode = {}
    for source in sources:
        _merge_explained_into(merged, provenance, source.config, Contributor.of(source))
    return MergeExplanation(config=merged, provenance=dict(_flatten(merged, provenance, "")))


def _merge_into(target: dict[str, Any], overlay: Mapping[str, Any]) -> None:
    # ``target`` and everything in it belong to the result, so it may be updated in place.
    for key, value in overlay.items():
        if _is_object(value):
            current = target.get(key)
            if isinstance(current, dict):
                _merge_into(current, value)
                continue
        target[key] = _copy_json(value)


def _merge_explained_into(
    target: dict[str, Any],
    provenance: _ProvenanceNode,
    overlay: Mapping[str, Any],
    contributor: Contributor,
) -> None:
    for key, value in overlay.items():
        if _is_object(value):
            current = target.get(key)
            if isinstance(current, dict):
                if not value:
                    continue  # merging {} into an object changes nothing, not even provenance
                node = provenance[key]
                if isinstance(node, Contributor):
                    node = dict.fromkeys(current, node)
                    provenance[key] = node
                _merge_explained_into(current, node, value, contributor)
                continue
        target[key] = _copy_json(value)
        provenance[key] = contributor


def _flatten(
    value: dict[str, Any], node: Contributor | _ProvenanceNode, pointer: str
) -> Iterator[tuple[str, Contributor]]:
    for key, child in value.items():
        child_pointer = append_token(pointer, key)
        child_node = node if isinstance(node, Contributor) else node[key]
        if isinstance(child, dict) and child:
            yield from _flatten(child, child_node, child_pointer)
        else:
            assert isinstance(child_node, Contributor)
            yield child_pointer, child_node


# JSON's scalar types, tested before the (slower) abstract ``Mapping`` check on the hot path.
_SCALARS = (str, int, float, type(None))


def _is_object(value: object) -> bool:
    return isinstance(value, dict) or (
        not isinstance(value, _SCALARS) and isinstance(value, Mapping)
    )


def _copy_json(value: Any) -> Any:
    """A deep copy made of new dicts and lists (read-only mappings and tuples included)."""
    if isinstance(value, _SCALARS):
        return value  # immutable
    if isinstance(value, list):
        return [_copy_json(item) for item in value]
    if _is_object(value):
        return {key: _copy_json(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [_copy_json(item) for item in value]
    return value
