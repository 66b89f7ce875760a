"""The merged-read body is spliced from cached JSON bytes; it must equal what the wire model
(`GetAppConfigsPayload`) would serialise, for any names and configs."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from scoped_app_config.api.handlers.app_config import merged_response
from scoped_app_config.api.schemas.app_config import AppConfigNode, GetAppConfigsPayload
from scoped_app_config.services.merged_configs import MergedConfig

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=12,
)
configs = st.lists(
    st.tuples(st.text(min_size=1, max_size=12), st.dictionaries(st.text(max_size=6), json_values)),
    max_size=5,
)


@given(configs)
def test_body_is_the_payload_the_wire_model_would_serialise(
    items: list[tuple[str, dict[str, Any]]],
) -> None:
    response = merged_response([MergedConfig(name, orjson.dumps(config)) for name, config in items])
    assert response.content_type == "application/json"
    assert isinstance(response.body, bytes)
    expected = GetAppConfigsPayload(
        app_configs=[AppConfigNode(config_name=name, config=config) for name, config in items]
    )
    assert orjson.loads(response.body) == expected.model_dump(mode="json")
    assert orjson.loads(response.body) == {
        "app_configs": [{"config_name": name, "config": config} for name, config in items]
    }
