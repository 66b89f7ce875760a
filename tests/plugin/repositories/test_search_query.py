"""Search specs translated to SQL: every filter operator, orders and both pagination modes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from repository_support import AppConfigRepositories, add_rows
from sqlalchemy.ext.asyncio import AsyncEngine

from scoped_app_config.domain.errors import InvalidParameters
from scoped_app_config.domain.models import FragmentData
from scoped_app_config.domain.types import ScopeType
from scoped_app_config.models import AllowListRow, DefinitionRow, FragmentRow
from scoped_app_config.query import (
    DateTimeFilter,
    Direction,
    EnumFilter,
    Order,
    OrderField,
    SearchFilter,
    SearchQuery,
    StringFilter,
)
from scoped_app_config.repositories.base.db_source import NIL_UUID
from scoped_app_config.repositories.definition import DefinitionPurger

NAMES = ("theme", "Theme_Dark", "menu", "100%_sure", "100xxsure")
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def names_with_wildcard_characters(db_engine: AsyncEngine) -> dict[str, DefinitionRow]:
    """Definitions created one day apart, in NAMES order; two contain `%` or `_`."""
    rows = {
        name: DefinitionRow(config_name=name, created_at=EPOCH + timedelta(days=day))
        for day, name in enumerate(NAMES)
    }
    await add_rows(db_engine, *rows.values())
    return rows


@pytest.fixture
async def definitions_created_at_one_instant(db_engine: AsyncEngine) -> list[DefinitionRow]:
    rows = [DefinitionRow(config_name=f"name-{i:02}", created_at=EPOCH) for i in range(7)]
    await add_rows(db_engine, *rows)
    return rows


async def _names(repositories: AppConfigRepositories, query: SearchQuery) -> set[str]:
    return {item.config_name for item in (await repositories.definitions.search(query)).items}


STRING_CASES = [
    (StringFilter(equals="menu"), {"menu"}),
    (StringFilter(contains="eme"), {"theme", "Theme_Dark"}),
    (StringFilter(starts_with="The"), {"Theme_Dark"}),
    (StringFilter(ends_with="u"), {"menu"}),
    (StringFilter(not_equals="menu"), set(NAMES) - {"menu"}),
    (StringFilter(not_contains="eme"), {"menu", "100%_sure", "100xxsure"}),
    (StringFilter(not_starts_with="100"), {"theme", "Theme_Dark", "menu"}),
    (StringFilter(not_ends_with="sure"), {"theme", "Theme_Dark", "menu"}),
    (StringFilter(i_equals="THEME"), {"theme"}),
    (StringFilter(i_contains="THEME"), {"theme", "Theme_Dark"}),
    (StringFilter(i_starts_with="the"), {"theme", "Theme_Dark"}),
    (StringFilter(i_ends_with="DARK"), {"Theme_Dark"}),
    (StringFilter(i_not_equals="THEME"), set(NAMES) - {"theme"}),
    (StringFilter(i_not_contains="THEME"), {"menu", "100%_sure", "100xxsure"}),
    (StringFilter(i_not_starts_with="THE"), {"menu", "100%_sure", "100xxsure"}),
    (StringFilter(i_not_ends_with="DARK"), set(NAMES) - {"Theme_Dark"}),
    (StringFilter(in_=["menu", "theme", "absent"]), {"menu", "theme"}),
    (StringFilter(not_in=["menu", "theme"]), {"Theme_Dark", "100%_sure", "100xxsure"}),
    (StringFilter(i_in=["MENU", "THEME"]), {"menu", "theme"}),
    (StringFilter(i_not_in=["MENU", "THEME"]), {"Theme_Dark", "100%_sure", "100xxsure"}),
    (StringFilter(in_=[]), set()),
    # `%` and `_` match literally, never as wildcards.
    (StringFilter(contains="%_"), {"100%_sure"}),
    (StringFilter(starts_with="100%"), {"100%_sure"}),
    (StringFilter(contains="_"), {"Theme_Dark", "100%_sure"}),
    (StringFilter(i_contains="E_D"), {"Theme_Dark"}),
    (StringFilter(ends_with="_sure"), {"100%_sure"}),
    (StringFilter(contains="eme", not_contains="Dark"), {"theme"}),
]


class TestStringFilter:
    @pytest.mark.parametrize(("spec", "expected"), STRING_CASES)
    async def test_operator_matches(
        self,
        repositories: AppConfigRepositories,
        names_with_wildcard_characters: dict[str, DefinitionRow],
        spec: StringFilter,
        expected: set[str],
    ) -> None:
        query = SearchQuery.build(filter=SearchFilter(config_name=spec), limit=100)

        assert await _names(repositories, query) == expected


class TestDateTimeFilter:
    @pytest.mark.parametrize(
        ("spec", "expected"),
        [
            (DateTimeFilter(before=EPOCH + timedelta(days=1)), {"theme"}),
            (DateTimeFilter(after=EPOCH + timedelta(days=3)), {"100xxsure"}),
            (DateTimeFilter(equals=EPOCH + timedelta(days=2)), {"menu"}),
            (DateTimeFilter(not_equals=EPOCH), set(NAMES) - {"theme"}),
        ],
    )
    async def test_created_at_operator_matches(
        self,
        repositories: AppConfigRepositories,
        names_with_wildcard_characters: dict[str, DefinitionRow],
        spec: DateTimeFilter,
        expected: set[str],
    ) -> None:
        query = SearchQuery.build(filter=SearchFilter(created_at=spec), limit=100)

        assert await _names(repositories, query) == expected

    async def test_updated_at_filter(
        self,
        repositories: AppConfigRepositories,
        names_with_wildcard_characters: dict[str, DefinitionRow],
    ) -> None:
        query = SearchQuery.build(
            filter=SearchFilter(updated_at=DateTimeFilter(after=datetime.now(UTC))), limit=100
        )

        assert await _names(repositories, query) == set()


class TestEnumFilter:
    @pytest.mark.parametrize(
        ("spec", "expected"),
        [
            (EnumFilter(equals="user"), {"user", "other_user"}),
            (EnumFilter(in_=["public", "domain"]), {"public", "domain", "other_domain"}),
            (
                EnumFilter(not_equals="domain"),
                {"public", "domain_user_defaults", "user", "other_user"},
            ),
            (EnumFilter(not_in=["domain", "user"]), {"public", "domain_user_defaults"}),
        ],
    )
    async def test_scope_type_operator_matches(
        self,
        repositories: AppConfigRepositories,
        fragments_across_scopes: dict[str, FragmentRow],
        spec: EnumFilter,
        expected: set[str],
    ) -> None:
        query = SearchQuery.build(
            filter=SearchFilter(config_name=StringFilter(equals="theme"), scope_type=spec),
            limit=100,
        )

        result = await repositories.fragments.admin_search(query)

        assert {item.id for item in result.items} == {
            fragments_across_scopes[f"theme:{label}"].id for label in expected
        }

    async def test_scope_type_filter_on_definitions_is_invalid(
        self, repositories: AppConfigRepositories
    ) -> None:
        query = SearchQuery(filter=SearchFilter(scope_type=EnumFilter(equals="user")))

        with pytest.raises(InvalidParameters):
            await repositories.definitions.search(query)


class TestLogicalFilters:
    async def test_and_or_not_combine(
        self,
        repositories: AppConfigRepositories,
        names_with_wildcard_characters: dict[str, DefinitionRow],
    ) -> None:
        spec = SearchFilter(
            or_=[
                SearchFilter(config_name=StringFilter(i_starts_with="theme")),
                SearchFilter(config_name=StringFilter(starts_with="100")),
            ],
            and_=[SearchFilter(config_name=StringFilter(not_equals="100xxsure"))],
            not_=[SearchFilter(config_name=StringFilter(equals="theme"))],
        )

        names = await _names(repositories, SearchQuery.build(filter=spec, limit=100))

        assert names == {"Theme_Dark", "100%_sure"}


class TestOrder:
    @pytest.mark.parametrize("direction", list(Direction))
    async def test_config_name_order(
        self,
        repositories: AppConfigRepositories,
        names_with_wildcard_characters: dict[str, DefinitionRow],
        direction: Direction,
    ) -> None:
        query = SearchQuery.build(orders=[Order(OrderField.CONFIG_NAME, direction)], limit=100)

        result = await repositories.definitions.search(query)

        names = [item.config_name for item in result.items]
        assert names == sorted(names, reverse=direction is Direction.DESC)

    async def test_default_order_is_newest_first(
        self,
        repositories: AppConfigRepositories,
        names_with_wildcard_characters: dict[str, DefinitionRow],
    ) -> None:
        result = await repositories.definitions.search(SearchQuery())

        assert [item.config_name for item in result.items] == list(reversed(NAMES))

    @pytest.mark.parametrize(
        "field",
        [OrderField.SCOPE_TYPE, OrderField.SCOPE_ID, OrderField.RANK, OrderField.UPDATED_AT],
    )
    async def test_fragment_orders_are_total_and_follow_the_field(
        self,
        repositories: AppConfigRepositories,
        fragments_across_scopes: dict[str, FragmentRow],
        field: OrderField,
    ) -> None:
        query = SearchQuery.build(orders=[Order(field, Direction.ASC)], limit=100)

        result = await repositories.fragments.admin_search(query)

        def sort_key(item: FragmentData) -> tuple[Any, uuid.UUID]:
            if field is OrderField.SCOPE_ID:
                return (item.scope_id or NIL_UUID, item.id)
            return (getattr(item, field.value), item.id)

        assert list(result.items) == sorted(result.items, key=sort_key)
        assert len(result.items) == len(fragments_across_scopes)

    async def test_allow_list_rank_order(
        self,
        repositories: AppConfigRepositories,
        theme_allowed_everywhere: dict[ScopeType, AllowListRow],
    ) -> None:
        query = SearchQuery.build(orders=[Order(OrderField.RANK, Direction.DESC)])

        result = await repositories.allow_list.search(query)

        assert [item.rank for item in result.items] == [300, 200, 150, 100]

    async def test_unsupported_order_field_is_invalid(
        self, repositories: AppConfigRepositories
    ) -> None:
        with pytest.raises(InvalidParameters):
            await repositories.definitions.search(SearchQuery(orders=(Order(OrderField.RANK),)))


class TestOffsetPagination:
    async def test_middle_page_reports_both_neighbours(
        self,
        repositories: AppConfigRepositories,
        names_with_wildcard_characters: dict[str, DefinitionRow],
    ) -> None:
        page = await repositories.definitions.search(SearchQuery.build(limit=2, offset=2))

        assert [item.config_name for item in page.items] == [NAMES[2], NAMES[1]]
        assert page.total_count == len(NAMES)
        assert page.has_next_page
        assert page.has_previous_page

    async def test_last_page_has_no_next(
        self,
        repositories: AppConfigRepositories,
        names_with_wildcard_characters: dict[str, DefinitionRow],
    ) -> None:
        page = await repositories.definitions.search(SearchQuery.build(limit=2, offset=4))

        assert [item.config_name for item in page.items] == [NAMES[0]]
        assert not page.has_next_page


class TestCursorPagination:
    async def test_forward_pages_cover_rows_sharing_created_at_exactly_once(
        self,
        repositories: AppConfigRepositories,
        definitions_created_at_one_instant: list[DefinitionRow],
    ) -> None:
        seen: list[str] = []
        after: str | None = None
        while True:
            page = await repositories.definitions.search(SearchQuery.build(first=3, after=after))
            seen += [item.config_name for item in page.items]
            assert page.has_previous_page is (after is not None)
            if not page.has_next_page:
                break
            after = page.cursors[-1]

        expected = sorted(definitions_created_at_one_instant, key=lambda row: row.id, reverse=True)
        assert seen == [row.config_name for row in expected]

    async def test_backward_pages_mirror_forward_pages(
        self,
        repositories: AppConfigRepositories,
        definitions_created_at_one_instant: list[DefinitionRow],
    ) -> None:
        everything = await repositories.definitions.search(SearchQuery.build(first=100))

        page = await repositories.definitions.search(
            SearchQuery.build(last=3, before=everything.cursors[-1])
        )

        assert list(page.items) == list(everything.items[-4:-1])
        assert page.has_previous_page
        assert page.has_next_page

    async def test_last_without_cursor_is_the_tail(
        self,
        repositories: AppConfigRepositories,
        names_with_wildcard_characters: dict[str, DefinitionRow],
    ) -> None:
        page = await repositories.definitions.search(SearchQuery.build(last=2))

        assert [item.config_name for item in page.items] == [NAMES[1], NAMES[0]]
        assert page.has_previous_page
        assert not page.has_next_page

    async def test_cursor_from_another_order_continues_from_its_row(
        self,
        repositories: AppConfigRepositories,
        names_with_wildcard_characters: dict[str, DefinitionRow],
    ) -> None:
        newest = await repositories.definitions.search(SearchQuery.build(first=1))
        by_name = [Order(OrderField.CONFIG_NAME)]

        page = await repositories.definitions.search(
            SearchQuery.build(orders=by_name, first=100, after=newest.cursors[0])
        )

        everything = await repositories.definitions.search(
            SearchQuery.build(orders=by_name, first=100)
        )
        position = list(everything.items).index(newest.items[0])
        assert list(page.items) == list(everything.items[position + 1 :])
        assert page.items

    async def test_cursor_on_nullable_scope_id_order(
        self,
        repositories: AppConfigRepositories,
        fragments_across_scopes: dict[str, FragmentRow],
    ) -> None:
        orders = [Order(OrderField.SCOPE_ID, Direction.ASC)]
        everything = await repositories.fragments.admin_search(
            SearchQuery.build(orders=orders, first=100)
        )

        rest = await repositories.fragments.admin_search(
            SearchQuery.build(orders=orders, first=100, after=everything.cursors[1])
        )

        assert list(rest.items) == list(everything.items[2:])


class TestInvalidPagination:
    @pytest.mark.parametrize(
        "build",
        [
            lambda: SearchQuery.build(first=2, limit=2),
            lambda: SearchQuery.build(after="x", offset=1),
            lambda: SearchQuery.build(first=2, last=2),
            lambda: SearchQuery.build(first=0),
            lambda: SearchQuery.build(limit=0),
            lambda: SearchQuery.build(offset=-1),
            lambda: SearchQuery.build(after="not a cursor"),
        ],
    )
    def test_rejected(self, build: Callable[[], SearchQuery]) -> None:
        with pytest.raises(InvalidParameters):
            build()

    async def test_cursor_naming_a_purged_row_is_rejected(
        self,
        repositories: AppConfigRepositories,
        names_with_wildcard_characters: dict[str, DefinitionRow],
    ) -> None:
        page = await repositories.definitions.search(SearchQuery.build(first=1))
        await repositories.definitions.purge(DefinitionPurger(page.items[0].id))

        with pytest.raises(InvalidParameters, match="no longer exists"):
            await repositories.definitions.search(SearchQuery.build(first=1, after=page.cursors[0]))
