"""Wire types every entity shares: scopes, node base, pagination, problem details, limits.

Request models forbid unknown fields and refuse to coerce wrong JSON types; response models are
built by the plugin from plain values and dump exactly the WIRE.md §4 shapes.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any, Final, Self
from uuid import UUID

import orjson
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    computed_field,
    model_validator,
)

# Schema-level ceilings. The configurable limits (names per request, items per bulk request,
# document size and depth) are enforced by the service; these only bound absurd input.
MAX_LIST_ITEMS: Final = 1000
MAX_PAGE_SIZE: Final = 1000
MAX_OFFSET: Final = 2**31 - 1
MAX_CURSOR_LENGTH: Final = 1024
CONFIG_NAME_MAX_LENGTH: Final = 128
RANK_MIN: Final = -(2**31)
RANK_MAX: Final = 2**31 - 1


class ScopeType(enum.StrEnum):
    """Scope a fragment is written at. `domain_user_defaults` is this project's addition."""

    PUBLIC = "public"
    DOMAIN_USER_DEFAULTS = "domain_user_defaults"
    DOMAIN = "domain"
    USER = "user"


class OrderDirection(enum.StrEnum):
    """Upper case only, as the SDK sends it."""

    ASC = "ASC"
    DESC = "DESC"


class RequestModel(BaseModel):
    """Base of every request body: unknown keys are a 400, aliases and names both accepted."""

    model_config = ConfigDict(extra="forbid", validate_by_name=True, validate_by_alias=True)


class ResponseModel(BaseModel):
    """Base of every response body; fields with defaults are still required in the schema.

    Dump with `model_dump_json()` (`to_wire.model_response`) and never `exclude_none`: the SDK
    needs `scope_id: null`.
    """

    model_config = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)


def refuse_nul(value: str) -> str:
    """PostgreSQL text and JSONB cannot hold U+0000: refuse it as a 400, not a database 500."""
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (U+0000)")
    return value


_ESCAPED_NUL = b"\\u0000"


def refuse_nul_in_document(document: dict[str, Any]) -> dict[str, Any]:
    """`refuse_nul` for every key and string value of a JSON document (no recursion).

    First in C: orjson writes U+0000 as the escape `\\u0000`, in keys and values alike, so a
    document whose encoding lacks that escape holds none (most documents; walking a 256 KiB
    one in Python took ~10 ms). Otherwise, or if orjson refuses the document, the walk
    decides: the escape may also be the text of an escaped backslash followed by "u0000".
    """
    try:
        if _ESCAPED_NUL not in orjson.dumps(document):
            return document
    except TypeError:  # orjson.JSONEncodeError included: too deep, big integers, surrogates
        pass
    pending: list[Any] = [document]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            refuse_nul(item)
        elif isinstance(item, dict):
            for key, child in item.items():
                refuse_nul(key)
                pending.append(child)
        elif isinstance(item, list):
            pending.extend(item)
    return document


ConfigName = Annotated[
    str,
    Field(strict=True, min_length=1, max_length=CONFIG_NAME_MAX_LENGTH, examples=["theme"]),
    AfterValidator(refuse_nul),
]
ConfigNames = Annotated[list[ConfigName], Field(min_length=1, max_length=MAX_LIST_ITEMS)]
# A JSON object; lists, strings and numbers are refused rather than coerced.
ConfigDocument = Annotated[
    dict[str, Any], Field(strict=True), AfterValidator(refuse_nul_in_document)
]
Rank = Annotated[int, Field(strict=True, ge=RANK_MIN, le=RANK_MAX)]


class ScopeRef(RequestModel):
    """One scope: `scope_id` is required for every scope type but `public`, where it is null."""

    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"scope_type": {"const": "public"}}},
            "then": {"properties": {"scope_id": {"type": "null"}}},
            "else": {"required": ["scope_id"], "properties": {"scope_id": {"type": "string"}}},
        }
    )

    scope_type: ScopeType
    scope_id: UUID | None = Field(
        default=None,
        description="Domain id for domain and domain_user_defaults, user id for user; "
        "absent or null for public.",
    )

    @model_validator(mode="after")
    def _check_scope_id(self) -> Self:
        if self.scope_type is ScopeType.PUBLIC:
            if self.scope_id is not None:
                raise ValueError("scope_id must be absent or null for the public scope")
        elif self.scope_id is None:
            raise ValueError(f"scope_id is required for the {self.scope_type.value} scope")
        return self


class NodeBase(ResponseModel):
    """An entity on the wire; `entity_id` always equals `id` (SDK 26.9.x requires both)."""

    id: UUID
    created_at: AwareDatetime
    updated_at: AwareDatetime

    @model_validator(mode="before")
    @classmethod
    def _accept_echoed_entity_id(cls, data: Any) -> Any:
        # Lets a dumped node be validated again; a differing entity_id is an error.
        if isinstance(data, dict) and "entity_id" in data:
            data = dict(data)
            entity_id = data.pop("entity_id")
            if str(entity_id) != str(data.get("id")):
                raise ValueError("entity_id must equal id")
        return data

    # mypy cannot type decorators stacked on @property; this is pydantic's documented form.
    @computed_field(description="Same as id.")  # type: ignore[prop-decorator]
    @property
    def entity_id(self) -> UUID:
        return self.id


class PurgePayload(ResponseModel):
    """Answer of a delete by id."""

    id: UUID


class SearchPageInfo(ResponseModel):
    """Counters every search payload carries next to its `items`."""

    total_count: int
    has_next_page: bool
    has_previous_page: bool


PageSize = Annotated[int, Field(strict=True, ge=1, le=MAX_PAGE_SIZE)]
Cursor = Annotated[str, Field(strict=True, min_length=1, max_length=MAX_CURSOR_LENGTH)]


class PaginationInput(RequestModel):
    """Cursor (first/after forward, last/before backward) or offset (limit/offset) paging.

    At most one mode per request. With none, the service pages by limit 10, offset 0.
    """

    first: PageSize | None = None
    after: Cursor | None = None
    last: PageSize | None = None
    before: Cursor | None = None
    limit: PageSize | None = None
    offset: Annotated[int, Field(strict=True, ge=0, le=MAX_OFFSET)] | None = None

    @model_validator(mode="after")
    def _check_single_mode(self) -> Self:
        modes = [
            name
            for name, keys in (
                ("forward cursor (first/after)", (self.first, self.after)),
                ("backward cursor (last/before)", (self.last, self.before)),
                ("offset (limit/offset)", (self.limit, self.offset)),
            )
            if any(key is not None for key in keys)
        ]
        if len(modes) > 1:
            raise ValueError("pagination modes must not be mixed: " + " and ".join(modes))
        return self


class ProblemDetail(BaseModel):
    """Error body (`application/problem+json`, WIRE.md §5); documentation only."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["https://api.backend.ai/probs/generic-bad-request"])
    title: str = Field(description="Human-readable summary; the SDK's CLI prints it first.")
    error_code: str = Field(description="<domain>_<operation>_<detail>")
    msg: str | None = None
    data: Any = None


class OpenAPIDocument(RootModel[dict[str, Any]]):
    """The OpenAPI 3.1 document of this API."""
