"""U+0000 anywhere in a config document is refused (PostgreSQL JSONB cannot store it), whether
the check finds it in orjson's encoding or has to walk the document."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoped_app_config.api.schemas.common import refuse_nul_in_document

TEXT = st.text(alphabet='\x00\\u0"{}[] aé', max_size=8)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(TEXT, children, max_size=3),
    max_leaves=30,
)


def holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(holds_nul(k) or holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_nul(item) for item in value)
    return False


@given(st.dictionaries(TEXT, VALUES, max_size=4))
def test_refused_exactly_when_a_key_or_string_holds_nul(document: dict[str, Any]) -> None:
    if holds_nul(document):
        with pytest.raises(ValueError, match="NUL"):
            refuse_nul_in_document(document)
    else:
        assert refuse_nul_in_document(document) is document


@pytest.mark.parametrize(
    "document",
    [
        {"text": "\\u0000"},  # the six characters, not the character: encodes as \\u0000
        {"big": 2**70, "fine": "x"},  # orjson refuses big integers: the walk decides
    ],
)
def test_look_alikes_and_what_orjson_refuses_pass_when_clean(document: dict[str, Any]) -> None:
    assert refuse_nul_in_document(document) is document


def test_nul_beside_what_orjson_refuses_is_still_found() -> None:
    with pytest.raises(ValueError, match="NUL"):
        refuse_nul_in_document({"big": 2**70, "k\x00": 1})
