from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoped_app_config.merge import (
    DocumentLimitExceeded,
    DocumentLimits,
    DocumentTooDeep,
    DocumentTooLarge,
    check_document,
    document_depth,
)
from scoped_app_config.merge.limits import encoded_depth

DEFAULT_LIMITS = DocumentLimits()


def nested_objects(depth: int) -> dict[str, Any]:
    """An object ``depth`` levels deep: ``{"n": {"n": ... {"leaf": 1}}}``."""
    doc: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        doc = {"n": doc}
    return doc


def sized_document(size: int) -> dict[str, Any]:
    """An object whose compact JSON encoding is exactly ``size`` bytes."""
    overhead = len('{"a":""}')
    return {"a": "x" * (size - overhead)}


class TestDocumentLimits:
    def test_defaults_are_depth_32_and_256_kib(self) -> None:
        assert DocumentLimits() == DocumentLimits(max_depth=32, max_bytes=256 * 1024)

    def test_non_positive_limit_is_rejected(self) -> None:
        with pytest.raises(ValueError):
            DocumentLimits(max_depth=0)


class TestDocumentDepth:
    @pytest.mark.parametrize(
        ("doc", "depth"),
        [
            ("scalar", 0),
            ({}, 1),
            ({"a": 1}, 1),
            ({"a": {"b": 1}}, 2),
            ({"a": [1]}, 2),
            ({"a": [[{}]]}, 4),
            ({"shallow": 1, "deep": {"x": {"y": None}}, "mid": [1]}, 3),
        ],
    )
    def test_depth_counts_objects_and_lists(self, doc: object, depth: int) -> None:
        assert document_depth(doc) == depth

    def test_circular_reference_is_rejected(self) -> None:
        doc: dict[str, Any] = {"a": []}
        doc["a"].append(doc)

        with pytest.raises(ValueError, match="circular"):
            document_depth(doc)

    def test_shared_subtree_is_not_a_cycle(self) -> None:
        shared = {"x": 1}

        assert document_depth({"a": shared, "b": [shared]}) == 3


class TestCheckDocument:
    def test_depth_at_the_limit_is_accepted(self) -> None:
        check_document(nested_objects(32), DEFAULT_LIMITS)

    def test_depth_one_past_the_limit_is_rejected(self) -> None:
        with pytest.raises(DocumentTooDeep) as raised:
            check_document(nested_objects(33), DEFAULT_LIMITS)

        assert (raised.value.depth, raised.value.limit) == (33, 32)
        assert str(raised.value) == "config nesting depth 33 exceeds the limit of 32"

    def test_lists_count_towards_depth(self) -> None:
        doc: Any = {"a": [[1]]}

        check_document(doc, DocumentLimits(max_depth=3))
        with pytest.raises(DocumentTooDeep):
            check_document(doc, DocumentLimits(max_depth=2))

    def test_absurdly_deep_nesting_is_rejected_without_recursion_error(self) -> None:
        doc: Any = []
        for _ in range(100_000):
            doc = [doc]

        with pytest.raises(DocumentTooDeep) as raised:
            check_document({"a": doc}, DEFAULT_LIMITS)

        assert raised.value.depth == 100_002

    def test_size_at_the_limit_is_accepted(self) -> None:
        check_document(sized_document(DEFAULT_LIMITS.max_bytes), DEFAULT_LIMITS)

    def test_size_one_byte_past_the_limit_is_rejected(self) -> None:
        with pytest.raises(DocumentTooLarge) as raised:
            check_document(sized_document(DEFAULT_LIMITS.max_bytes + 1), DEFAULT_LIMITS)

        assert (raised.value.size, raised.value.limit) == (262145, 262144)
        assert str(raised.value) == "config size 262145 bytes exceeds the limit of 262144 bytes"

    def test_size_counts_utf8_bytes_of_compact_json(self) -> None:
        doc = {"k": ["é", 1]}  # {"k":["é",1]}: 13 characters, 14 bytes

        check_document(doc, DocumentLimits(max_bytes=14))
        with pytest.raises(DocumentTooLarge) as raised:
            check_document(doc, DocumentLimits(max_bytes=13))

        assert raised.value.size == 14

    def test_limit_errors_share_a_value_error_base(self) -> None:
        assert issubclass(DocumentTooDeep, DocumentLimitExceeded)
        assert issubclass(DocumentTooLarge, DocumentLimitExceeded)
        assert issubclass(DocumentLimitExceeded, ValueError)


# Strings full of what the encoded-depth count must not mistake for structure: brackets,
# quotes, backslashes, escapes, NUL and non-ASCII.
TRICKY_TEXT = st.text(alphabet='[]{}"\\\\u0000,:\x00\n\té😀 ab', max_size=8)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)  # what orjson encodes
    | st.floats(allow_nan=False)
    | TRICKY_TEXT,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(TRICKY_TEXT, children, max_size=4),
    max_leaves=40,
)


class TestEncodedDepth:
    """The depth read off the orjson encoding must be the depth the walk finds."""

    @given(JSON_VALUES)
    def test_encoded_depth_equals_the_walked_depth(self, doc: Any) -> None:
        assert encoded_depth(orjson.dumps(doc)) == document_depth(doc)

    @given(JSON_VALUES, st.integers(min_value=1, max_value=8))
    def test_check_document_agrees_with_the_walk(self, doc: Any, max_depth: int) -> None:
        limits = DocumentLimits(max_depth=max_depth)
        if document_depth(doc) > max_depth:
            with pytest.raises(DocumentTooDeep):
                check_document(doc, limits)
        else:
            check_document(doc, limits)

    def test_what_orjson_refuses_is_still_measured(self) -> None:
        with pytest.raises(DocumentTooDeep) as raised:
            check_document({"big": [[2**70]], "x": "\ud800"}, DocumentLimits(max_depth=1))
        assert raised.value.depth == 3
        with pytest.raises(DocumentTooLarge):
            check_document({"big": 2**70}, DocumentLimits(max_bytes=10))
