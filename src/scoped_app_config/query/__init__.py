"""Pure search specifications (filters, orders, pagination) shared by the three searches.

The API layer builds these from its request models; each db_source translates them to SQL.
"""

from scoped_app_config.query.cursor import CursorKey, decode_cursor, encode_cursor
from scoped_app_config.query.filters import DateTimeFilter, EnumFilter, SearchFilter, StringFilter
from scoped_app_config.query.orders import Direction, Order, OrderField
from scoped_app_config.query.spec import (
    DEFAULT_LIMIT,
    MAX_PAGE_SIZE,
    CursorPagination,
    OffsetPagination,
    SearchQuery,
)

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_PAGE_SIZE",
    "CursorKey",
    "CursorPagination",
    "DateTimeFilter",
    "Direction",
    "EnumFilter",
    "OffsetPagination",
    "Order",
    "OrderField",
    "SearchFilter",
    "SearchQuery",
    "StringFilter",
    "decode_cursor",
    "encode_cursor",
]
