"""The cached view's byte format: lossless for every tag and JSON body, and garbage is a miss."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoped_app_config.repositories.fragment.cache_source.codec import (
    CODEC_VERSION,
    CachedView,
    decode_view,
    encode_view,
)

tags = st.binary(max_size=64).map(lambda raw: raw.replace(b"|", b""))

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)
json_bodies = json_values.map(orjson.dumps)


@given(tag=tags, config_json=json_bodies)
def test_every_json_view_decodes_to_what_was_encoded(tag: bytes, config_json: bytes) -> None:
    view = CachedView(tag=tag, config_json=config_json)

    assert decode_view(encode_view(view)) == view


@given(tag=tags, config_json=st.binary(min_size=1))
def test_any_non_empty_body_survives_the_round_trip_byte_for_byte(
    tag: bytes, config_json: bytes
) -> None:
    view = CachedView(tag=tag, config_json=config_json)

    assert decode_view(encode_view(view)) == view


@given(raw=st.binary())
def test_garbage_never_raises_and_decodes_to_none_unless_it_is_framed_as_a_view(raw: bytes) -> None:
    decoded = decode_view(raw)

    if not raw.startswith(CODEC_VERSION + b"|") or raw.count(b"|") < 2:
        assert decoded is None
    elif decoded is not None:
        assert encode_view(decoded) == raw


@pytest.mark.parametrize(
    "raw",
    [b"", b"v1", b"v1|", b"v1|tag", b"v1|tag|", b"v2|tag|{}", b"|tag|{}", b"\xff\xfe|x|{}"],
)
def test_truncated_or_foreign_values_decode_to_none(raw: bytes) -> None:
    assert decode_view(raw) is None


def test_a_tag_containing_the_separator_is_refused_when_encoding() -> None:
    with pytest.raises(ValueError, match=r"'\|'"):
        encode_view(CachedView(tag=b"a|b", config_json=b"{}"))
