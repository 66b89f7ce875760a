"""Search filters (WIRE.md §4 SearchInput.filter): every operator given in one filter is AND-ed.

String operators match literally: `%` and `_` in user input are not wildcards.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import attrs


@attrs.frozen
class StringFilter:
    equals: str | None = None
    contains: str | None = None
    starts_with: str | None = None
    ends_with: str | None = None
    not_equals: str | None = None
    not_contains: str | None = None
    not_starts_with: str | None = None
    not_ends_with: str | None = None
    i_equals: str | None = None
    i_contains: str | None = None
    i_starts_with: str | None = None
    i_ends_with: str | None = None
    i_not_equals: str | None = None
    i_not_contains: str | None = None
    i_not_starts_with: str | None = None
    i_not_ends_with: str | None = None
    in_: Sequence[str] | None = None
    not_in: Sequence[str] | None = None
    i_in: Sequence[str] | None = None
    i_not_in: Sequence[str] | None = None


@attrs.frozen
class EnumFilter:
    equals: str | None = None
    in_: Sequence[str] | None = None
    not_equals: str | None = None
    not_in: Sequence[str] | None = None


@attrs.frozen
class DateTimeFilter:
    before: datetime | None = None
    after: datetime | None = None
    equals: datetime | None = None
    not_equals: datetime | None = None


@attrs.frozen
class SearchFilter:
    """Field conditions AND-ed together with every `and_` filter, any `or_`, and no `not_`."""

    config_name: StringFilter | None = None
    scope_type: EnumFilter | None = None
    created_at: DateTimeFilter | None = None
    updated_at: DateTimeFilter | None = None
    and_: Sequence[SearchFilter] = ()
    or_: Sequence[SearchFilter] = ()
    not_: Sequence[SearchFilter] = ()
