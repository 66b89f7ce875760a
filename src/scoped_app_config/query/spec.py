"""A whole search: filter, orders and exactly one pagination mode (offset or cursor)."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from scoped_app_config.domain.errors import InvalidParameters
from scoped_app_config.query.cursor import CursorKey, decode_cursor
from scoped_app_config.query.filters import SearchFilter
from scoped_app_config.query.orders import DEFAULT_ORDERS, Order

DEFAULT_LIMIT = 10
MAX_PAGE_SIZE = 1000


def _check_page_size(name: str, value: int | None) -> None:
    if value is not None and not 1 <= value <= MAX_PAGE_SIZE:
        raise InvalidParameters(f"'{name}' must be between 1 and {MAX_PAGE_SIZE}.")


@attrs.frozen
class OffsetPagination:
    limit: int = DEFAULT_LIMIT
    offset: int = 0

    def __attrs_post_init__(self) -> None:
        _check_page_size("limit", self.limit)
        if self.offset < 0:
            raise InvalidParameters("'offset' must not be negative.")


@attrs.frozen
class CursorPagination:
    """Forward (`first`, optional `after`) or backward (`last`, optional `before`) paging.

    A cursor names a row only, so it is valid under any order: the page continues from that
    row's position in the order of the query it is given to.
    """

    first: int | None = None
    after: CursorKey | None = None
    last: int | None = None
    before: CursorKey | None = None

    def __attrs_post_init__(self) -> None:
        forward = self.first is not None or self.after is not None
        backward = self.last is not None or self.before is not None
        if forward == backward:
            raise InvalidParameters("Give either 'first'/'after' or 'last'/'before'.")
        _check_page_size("first", self.first)
        _check_page_size("last", self.last)

    @property
    def backward(self) -> bool:
        return self.last is not None or self.before is not None

    @property
    def size(self) -> int:
        return self.first or self.last or DEFAULT_LIMIT

    @property
    def cursor(self) -> CursorKey | None:
        return self.before if self.backward else self.after


@attrs.frozen
class SearchQuery:
    filter: SearchFilter | None = None
    orders: tuple[Order, ...] = DEFAULT_ORDERS
    pagination: OffsetPagination | CursorPagination = OffsetPagination()

    def __attrs_post_init__(self) -> None:
        fields = [order.field for order in self.orders]
        if len(set(fields)) != len(fields):
            raise InvalidParameters("An order field may appear only once.")

    @classmethod
    def build(
        cls,
        *,
        filter: SearchFilter | None = None,
        orders: Sequence[Order] = (),
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> SearchQuery:
        """Build from the raw SearchInput values; mixing pagination modes is InvalidParameters."""
        cursor_mode = any(value is not None for value in (first, after, last, before))
        if cursor_mode and (limit is not None or offset is not None):
            raise InvalidParameters("Cursor and offset pagination cannot be mixed.")
        pagination: OffsetPagination | CursorPagination
        if cursor_mode:
            pagination = CursorPagination(
                first=first,
                after=decode_cursor(after) if after is not None else None,
                last=last,
                before=decode_cursor(before) if before is not None else None,
            )
        else:
            pagination = OffsetPagination(
                limit=DEFAULT_LIMIT if limit is None else limit,
                offset=0 if offset is None else offset,
            )
        return cls(filter=filter, orders=tuple(orders) or DEFAULT_ORDERS, pagination=pagination)
