"""Cursors in the Backend.AI manager's format, `base64("cursor:v1:<row id>")`, built by clients.

The official SDK's search payload carries no cursors, so its clients build them from item ids.
Every scenario puts 30 rows at one `created_at`, so only the `id` tiebreak separates them.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from repository_support import AppConfigRepositories, add_rows
from sqlalchemy.ext.asyncio import AsyncEngine

from scoped_app_config.domain.errors import InvalidParameters
from scoped_app_config.domain.models import SearchResult
from scoped_app_config.domain.types import ScopeType
from scoped_app_config.models import AllowListRow, DefinitionRow, FragmentRow
from scoped_app_config.query import Direction, Order, OrderField, SearchQuery

INSTANT = datetime(2026, 3, 1, 12, tzinfo=UTC)
PAGE = 7
NAME_DESC = (Order(OrderField.CONFIG_NAME, Direction.DESC),)

Search = Callable[[SearchQuery], Awaitable[SearchResult[Any]]]
SortKey = Callable[[Any], tuple[Any, ...]]


def manager_cursor(row_id: uuid.UUID) -> str:
    """What the manager emits and SDK clients build: standard base64, padded."""
    return base64.b64encode(f"cursor:v1:{row_id}".encode()).decode()


def urlsafe_unpadded_cursor(row_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"cursor:v1:{row_id}".encode()).decode().rstrip("=")


def _newest_first(item: Any) -> tuple[Any, ...]:
    """The default order: `created_at` DESC, `id` DESC (sorted with reverse=True)."""
    return (item.created_at, item.id)


def _name_desc(item: Any) -> tuple[Any, ...]:
    """`config_name` DESC, `id` DESC (sorted with reverse=True); names are ASCII `name-NN`."""
    return (item.config_name, item.id)


@pytest.fixture
async def definitions_at_one_instant(db_engine: AsyncEngine) -> list[DefinitionRow]:
    rows = [DefinitionRow(config_name=f"name-{i:02}", created_at=INSTANT) for i in range(30)]
    await add_rows(db_engine, *rows)
    return rows


@pytest.fixture
async def allow_list_at_one_instant(db_engine: AsyncEngine) -> list[AllowListRow]:
    """Ten names at three scope types each: `config_name` order has ties of three."""
    definitions = [DefinitionRow(config_name=f"name-{i:02}") for i in range(10)]
    await add_rows(db_engine, *definitions)
    scope_types = (ScopeType.PUBLIC, ScopeType.DOMAIN, ScopeType.USER)
    rows = [
        AllowListRow(
            config_name=definition.config_name, scope_type=scope_type, rank=100, created_at=INSTANT
        )
        for definition in definitions
        for scope_type in scope_types
    ]
    await add_rows(db_engine, *rows)
    return rows


@pytest.fixture
async def user_fragments_at_one_instant(db_engine: AsyncEngine) -> list[FragmentRow]:
    """Ten names, each set by the same three users: `config_name` order has ties of three."""
    names = [f"name-{i:02}" for i in range(10)]
    await add_rows(db_engine, *(DefinitionRow(config_name=name) for name in names))
    await add_rows(
        db_engine,
        *(AllowListRow(config_name=name, scope_type=ScopeType.USER, rank=300) for name in names),
    )
    users = [uuid.uuid4() for _ in range(3)]
    rows = [
        FragmentRow(
            config_name=name,
            scope_type=ScopeType.USER,
            scope_id=user,
            rank=100 * (index + 1),
            config={"user": str(user)},
            created_at=INSTANT,
        )
        for name in names
        for index, user in enumerate(users)
    ]
    await add_rows(db_engine, *rows)
    return rows


async def _page_forward(search: Search, orders: tuple[Order, ...]) -> list[uuid.UUID]:
    seen: list[uuid.UUID] = []
    after: str | None = None
    while True:
        page = await search(SearchQuery.build(orders=orders, first=PAGE, after=after))
        assert list(page.cursors) == [manager_cursor(item.id) for item in page.items]
        assert page.has_previous_page is (after is not None)
        seen += [item.id for item in page.items]
        if not page.has_next_page:
            return seen
        after = manager_cursor(page.items[-1].id)


async def _page_backward(search: Search, orders: tuple[Order, ...]) -> list[uuid.UUID]:
    seen: list[uuid.UUID] = []
    before: str | None = None
    while True:
        page = await search(SearchQuery.build(orders=orders, last=PAGE, before=before))
        assert page.has_next_page is (before is not None)
        seen = [item.id for item in page.items] + seen
        if not page.has_previous_page:
            return seen
        before = urlsafe_unpadded_cursor(page.items[0].id)


ORDERS = [
    pytest.param((), _newest_first, id="default"),
    pytest.param(NAME_DESC, _name_desc, id="config_name-desc"),
]


async def _check_both_directions(
    search: Search, orders: tuple[Order, ...], sort_key: SortKey, expected_count: int
) -> None:
    everything = await search(SearchQuery.build(orders=orders, limit=1000))
    expected = [item.id for item in sorted(everything.items, key=sort_key, reverse=True)]
    assert len(expected) == expected_count

    assert await _page_forward(search, orders) == expected
    assert await _page_backward(search, orders) == expected


class TestManagerCursorPaging:
    @pytest.mark.parametrize(("orders", "sort_key"), ORDERS)
    async def test_definitions(
        self,
        repositories: AppConfigRepositories,
        definitions_at_one_instant: list[DefinitionRow],
        orders: tuple[Order, ...],
        sort_key: SortKey,
    ) -> None:
        await _check_both_directions(
            repositories.definitions.search, orders, sort_key, len(definitions_at_one_instant)
        )

    @pytest.mark.parametrize(("orders", "sort_key"), ORDERS)
    async def test_allow_list(
        self,
        repositories: AppConfigRepositories,
        allow_list_at_one_instant: list[AllowListRow],
        orders: tuple[Order, ...],
        sort_key: SortKey,
    ) -> None:
        await _check_both_directions(
            repositories.allow_list.search, orders, sort_key, len(allow_list_at_one_instant)
        )

    @pytest.mark.parametrize(("orders", "sort_key"), ORDERS)
    async def test_fragments(
        self,
        repositories: AppConfigRepositories,
        user_fragments_at_one_instant: list[FragmentRow],
        orders: tuple[Order, ...],
        sort_key: SortKey,
    ) -> None:
        await _check_both_directions(
            repositories.fragments.admin_search,
            orders,
            sort_key,
            len(user_fragments_at_one_instant),
        )

    async def test_mixed_directions_continue_from_the_cursor_row(
        self,
        repositories: AppConfigRepositories,
        user_fragments_at_one_instant: list[FragmentRow],
    ) -> None:
        orders = (
            Order(OrderField.CONFIG_NAME, Direction.ASC),
            Order(OrderField.RANK, Direction.DESC),
        )
        everything = await repositories.fragments.admin_search(
            SearchQuery.build(orders=orders, first=1000)
        )
        anchor = everything.items[10]

        rest = await repositories.fragments.admin_search(
            SearchQuery.build(orders=orders, first=1000, after=manager_cursor(anchor.id))
        )

        assert list(rest.items) == list(everything.items[11:])


class TestInvalidCursor:
    @pytest.mark.parametrize(
        "cursor",
        [
            "garbage",
            "",
            "!!!!",
            base64.b64encode(b"cursor:v1:not-a-uuid").decode(),
            base64.b64encode(f"cursor:v2:{uuid.uuid4()}".encode()).decode(),
            base64.b64encode(str(uuid.uuid4()).encode()).decode(),
            base64.b64encode(b"\xff\xfe" + str(uuid.uuid4()).encode()).decode(),
        ],
    )
    def test_garbage_is_invalid_parameters(self, cursor: str) -> None:
        with pytest.raises(InvalidParameters):
            SearchQuery.build(first=3, after=cursor)

    async def test_cursor_of_a_missing_row_is_invalid_parameters(
        self,
        repositories: AppConfigRepositories,
        definitions_at_one_instant: list[DefinitionRow],
    ) -> None:
        query = SearchQuery.build(last=3, before=manager_cursor(uuid.uuid4()))

        with pytest.raises(InvalidParameters, match="no longer exists"):
            await repositories.definitions.search(query)
