"""Hypothesis strategies for request bodies, built from each route's request-model JSON schema.

`schema_values` understands the subset pydantic emits for the wire models (objects with
`properties`/`required`/`additionalProperties`, `$ref` into `$defs`, `anyOf`, `enum`, `const`,
strings with lengths and the `uuid`/`date-time` formats, bounded integers, arrays, booleans,
null). Strings and UUIDs are biased towards values the seeded world knows (registered names,
existing ids), so generated requests reach the success paths too, not only validation.
`mutated` then breaks a valid-shaped body: a field replaced by any JSON value, a required
field dropped, an unknown field added.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Final

from hypothesis import strategies as st

from scoped_app_config.api.route_specs import RouteSpec

MAX_RECURSION: Final = 3
MAX_ARRAY: Final = 4

# Text that tends to break naive code: SQL and LIKE metacharacters, unicode, escapes.
TRICKY_TEXT: Final = (
    "",
    " ",
    "%",
    "_",
    "\\",
    "'; DROP TABLE app_config_fragments; --",
    '"',
    "théme-設定-🎛️",
    "\u202eevil",
    "a" * 128,
    "a" * 129,
    "null",
    "../../etc/passwd",
)

JSON_SCALARS: Final = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(TRICKY_TEXT),
)

JSON_VALUES: Final = st.recursive(
    JSON_SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=MAX_ARRAY),
        st.dictionaries(st.text(max_size=10), children, max_size=MAX_ARRAY),
    ),
    max_leaves=12,
)

JSON_OBJECTS: Final = st.dictionaries(st.text(max_size=10), JSON_VALUES, max_size=MAX_ARRAY)


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    name = str(ref).rsplit("/", 1)[-1]
    resolved: Mapping[str, Any] = root["$defs"][name]
    return resolved


def _datetimes() -> st.SearchStrategy[str]:
    zones: st.SearchStrategy[dt.tzinfo | None] = st.sampled_from([None, dt.UTC])
    return st.datetimes(timezones=zones).map(lambda value: value.isoformat())


def schema_values(
    schema: Mapping[str, Any],
    root: Mapping[str, Any],
    *,
    names: Sequence[str],
    ids: Sequence[uuid.UUID],
    depth: int = 0,
) -> st.SearchStrategy[Any]:
    """Values valid (or nearly: cross-field rules are ignored) for `schema`."""
    schema = _resolve(schema, root)

    def recurse(sub: Mapping[str, Any]) -> st.SearchStrategy[Any]:
        return schema_values(sub, root, names=names, ids=ids, depth=depth + 1)

    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"]))
    if "anyOf" in schema:
        options = list(schema["anyOf"])
        if depth >= MAX_RECURSION:
            nulls = [o for o in options if o.get("type") == "null"]
            options = nulls or options[:1]
        return st.one_of(*(recurse(option) for option in options))
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        low = schema.get("minimum", -(2**40))
        high = schema.get("maximum", 2**40)
        return st.one_of(st.integers(low, high), st.sampled_from([low, high]))
    if kind == "number":
        return st.floats(allow_nan=False, allow_infinity=False)
    if kind == "string":
        return _strings(schema, names=names, ids=ids)
    if kind == "array":
        low = int(schema.get("minItems", 0))
        high = min(int(schema.get("maxItems", MAX_ARRAY)), max(low, MAX_ARRAY))
        if depth >= MAX_RECURSION:
            high = low
        return st.lists(recurse(schema.get("items", {})), min_size=low, max_size=high)
    if kind == "object" or "properties" in schema:
        properties: Mapping[str, Any] = schema.get("properties", {})
        if not properties:
            return JSON_OBJECTS
        required = set(schema.get("required", ()))
        if depth >= MAX_RECURSION:
            properties = {k: v for k, v in properties.items() if k in required}
        return st.fixed_dictionaries(
            {k: recurse(v) for k, v in properties.items() if k in required},
            optional={k: recurse(v) for k, v in properties.items() if k not in required},
        )
    return JSON_VALUES


def _strings(
    schema: Mapping[str, Any], *, names: Sequence[str], ids: Sequence[uuid.UUID]
) -> st.SearchStrategy[str]:
    fmt = schema.get("format")
    if fmt == "uuid":
        return st.one_of(st.sampled_from([str(i) for i in ids]), st.uuids().map(str))
    if fmt == "date-time":
        return _datetimes()
    low = int(schema.get("minLength", 0))
    high = int(schema.get("maxLength", 40))
    text = st.text(min_size=low, max_size=min(high, 40))
    if high < 40:
        return text
    return st.one_of(
        st.sampled_from(list(names)),
        text,
        st.sampled_from([t for t in TRICKY_TEXT if low <= len(t) <= high] or ["x"]),
        st.text(min_size=high - 2, max_size=high),
    )


@st.composite
def mutated(draw: st.DrawFn, valid: st.SearchStrategy[dict[str, Any]]) -> Any:
    """A valid-shaped object with one field replaced, dropped, or an unknown one added."""
    body: dict[str, Any] = dict(draw(valid))
    how = draw(st.sampled_from(["replace", "drop", "add"]))
    keys = sorted(body)
    if how == "replace" and keys:
        body[draw(st.sampled_from(keys))] = draw(JSON_VALUES)
    elif how == "drop" and keys:
        del body[draw(st.sampled_from(keys))]
    else:
        body[draw(st.text(min_size=1, max_size=10))] = draw(JSON_VALUES)
    return body


def request_bodies(
    route: RouteSpec, *, names: Sequence[str], ids: Sequence[uuid.UUID]
) -> st.SearchStrategy[Any]:
    """Bodies for `route`: mostly schema-shaped, often mutated, sometimes any JSON value."""
    assert route.request_model is not None
    root = route.request_model.model_json_schema()
    valid: st.SearchStrategy[dict[str, Any]] = schema_values(root, root, names=names, ids=ids)
    return st.one_of(valid, valid, mutated(valid), JSON_VALUES)


def path_for(route: RouteSpec, ids: Sequence[uuid.UUID]) -> st.SearchStrategy[str]:
    """The route's path with each parameter a known id (any kind) or a random UUID."""
    path_ids = st.one_of(st.sampled_from(list(ids)), st.uuids())
    if not route.path_params:
        return st.just(route.path)
    return st.lists(path_ids, min_size=len(route.path_params), max_size=len(route.path_params)).map(
        lambda values: _fill(route, values)
    )


def _fill(route: RouteSpec, values: Sequence[uuid.UUID]) -> str:
    path = route.path
    for name, value in zip(route.path_params, values, strict=True):
        path = path.replace("{" + name + "}", str(value))
    return path
