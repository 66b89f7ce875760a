"""Sort orders; `id` is always appended as the final tiebreak, so every order is total."""

from __future__ import annotations

import enum

import attrs


class OrderField(enum.StrEnum):
    CONFIG_NAME = "config_name"
    SCOPE_TYPE = "scope_type"
    SCOPE_ID = "scope_id"
    RANK = "rank"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


class Direction(enum.StrEnum):
    ASC = "ASC"
    DESC = "DESC"


@attrs.frozen
class Order:
    field: OrderField
    direction: Direction = Direction.ASC


DEFAULT_ORDERS = (Order(OrderField.CREATED_AT, Direction.DESC),)
"""Newest first, as the manager pages when the client gives no order (WIRE.md §4)."""
