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
    config_json_if_tagged,
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
def test_every_json_view_is_read_back_under_its_own_tag(tag: bytes, config_json: bytes) -> None:
    raw = encode_view(CachedView(tag=tag, config_json=config_json))

    assert config_json_if_tagged(raw, tag) == config_json


@given(tag=tags, config_json=st.binary(min_size=1))
def test_any_non_empty_body_survives_the_round_trip_byte_for_byte(
    tag: bytes, config_json: bytes
) -> None:
    raw = encode_view(CachedView(tag=tag, config_json=config_json))

    assert config_json_if_tagged(raw, tag) == config_json


@given(tag=tags, other=tags, config_json=json_bodies)
def test_a_view_is_never_read_under_another_tag(
    tag: bytes, other: bytes, config_json: bytes
) -> None:
    raw = encode_view(CachedView(tag=tag, config_json=config_json))

    assert config_json_if_tagged(raw, other) == (config_json if other == tag else None)


def test_a_tag_that_merely_starts_the_stored_one_is_a_miss() -> None:
    raw = encode_view(CachedView(tag=b"abc.def", config_json=b"{}"))

    assert config_json_if_tagged(raw, b"abc") is None
    assert config_json_if_tagged(raw, b"abc.de") is None


@given(raw=st.binary(), tag=tags)
def test_garbage_never_raises_and_is_a_miss_unless_framed_with_the_tag(
    raw: bytes, tag: bytes
) -> None:
    found = config_json_if_tagged(raw, tag)

    prefix = CODEC_VERSION + b"|" + tag + b"|"
    if not raw.startswith(prefix) or raw == prefix:
        assert found is None
    else:
        assert found == raw[len(prefix) :]


@pytest.mark.parametrize(
    "raw",
    [b"", b"v1", b"v1|", b"v1|tag", b"v1|tag|", b"v2|tag|{}", b"|tag|{}", b"\xff\xfe|x|{}"],
)
def test_truncated_or_foreign_values_are_misses(raw: bytes) -> None:
    assert config_json_if_tagged(raw, b"tag") is None


def test_a_tag_containing_the_separator_is_refused_when_encoding() -> None:
    with pytest.raises(ValueError, match=r"'\|'"):
        encode_view(CachedView(tag=b"a|b", config_json=b"{}"))
