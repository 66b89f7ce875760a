"""SQL shared by the three db_sources: transactions and the translation of search specs."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Final, TypeVar

import attrs
from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    SQLColumnExpression,
    and_,
    func,
    not_,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    AsyncSessionTransaction,
    AsyncTransaction,
    async_sessionmaker,
)
from sqlalchemy.pool import QueuePool

from reference_host.contract import LayerMetrics
from scoped_app_config.domain.errors import InvalidParameters
from scoped_app_config.domain.models import SearchResult
from scoped_app_config.query import (
    CursorKey,
    CursorPagination,
    DateTimeFilter,
    Direction,
    EnumFilter,
    OrderField,
    SearchFilter,
    SearchQuery,
    StringFilter,
    encode_cursor,
)
from scoped_app_config.repositories.base.integrity import IntegrityCheck, raise_for_integrity
from scoped_app_config.repositories.base.resilience import is_transient

T = TypeVar("T")
R = TypeVar("R")
NIL_UUID = uuid.UUID(int=0)


class CommitOutcomeUnknown(Exception):
    """The connection failed during COMMIT: the write may or may not have happened.

    Deliberately not retried (replaying a create or purge could report a false conflict or
    not-found); the caller sees a server error and may re-read.
    """


CONNECTION_WAIT_SECONDS: Final = 30.0
"""How long a call waits for its turn at the pool before failing with `TimeoutError` (answered
503): SQLAlchemy's default `pool_timeout`."""


class SessionFactory(async_sessionmaker[AsyncSession]):
    """The plugin's session factory, and first-come-first-served turns at the engine's pool.

    SQLAlchemy's queue pool is not fair under contention: a connection given back wakes the
    oldest waiter, but a caller checking out before that waiter runs takes the connection, and
    the waiter queues again at the back. A caller that comes straight back (a busy writer)
    keeps taking it while others starve: 128 callers looping on a 30-connection pool waited
    313 ms at p99, against 93 ms taking turns. So at most `pool_size` calls of the plugin hold
    or wait for a connection at once, the others wait in an asyncio semaphore (FIFO); the
    pool's overflow stays for the host's own queries."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine, expire_on_commit=False)
        self.engine = engine
        pool = engine.sync_engine.pool
        self._turns = asyncio.Semaphore(pool.size()) if isinstance(pool, QueuePool) else None

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Hold one of the plugin's turns at the pool for the block."""
        turns = self._turns
        if turns is None:
            yield
            return
        if turns.locked():  # only a call that has to wait pays for a timer
            try:
                async with asyncio.timeout(CONNECTION_WAIT_SECONDS):
                    await turns.acquire()
            except TimeoutError:
                raise TimeoutError(
                    f"no database connection within {CONNECTION_WAIT_SECONDS:.0f} s"
                ) from None
        else:
            await turns.acquire()
        try:
            yield
        finally:
            turns.release()

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A Core connection of the engine, taken in turn."""
        async with self.turn(), self.engine.connect() as connection:
            yield connection


class DBSource:
    """What every db_source shares: the plugin's session factory and the host's layer metrics
    (which the resilience policy on each public method records into)."""

    def __init__(self, sessions: SessionFactory, layer_metrics: LayerMetrics) -> None:
        self._sessions = sessions
        self._layer_metrics = layer_metrics

    @property
    def layer_metrics(self) -> LayerMetrics:
        return self._layer_metrics


async def insert_row(session: AsyncSession, row: R, checks: Sequence[IntegrityCheck]) -> R:
    """Add `row` and flush it, turning a constraint violation into the domain error `checks`
    name for it."""
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as error:
        raise_for_integrity(error, checks)
    return row


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    """The plugin's one session factory; never reconfigured after creation."""
    return SessionFactory(engine)


@asynccontextmanager
async def begin_write(sessions: SessionFactory) -> AsyncIterator[AsyncSession]:
    """One read-write transaction: committed when the block ends, rolled back if it raises."""
    async with sessions.turn(), sessions() as session:
        transaction = await session.begin()
        yield session
        await _commit(transaction)


@asynccontextmanager
async def begin_core_write(sessions: SessionFactory) -> AsyncIterator[AsyncConnection]:
    """`begin_write` for Core statements only: a connection of the sessions' engine, without
    an ORM session (whose bookkeeping is a large share of a short write's CPU)."""
    async with sessions.connect() as connection:
        transaction = await connection.begin()
        yield connection
        await _commit(transaction)


async def _commit(transaction: AsyncSessionTransaction | AsyncTransaction) -> None:
    try:
        await transaction.commit()
    except DBAPIError as error:
        if is_transient(error):
            raise CommitOutcomeUnknown("Lost the connection while committing.") from error
        raise


@asynccontextmanager
async def begin_read(sessions: SessionFactory) -> AsyncIterator[AsyncSession]:
    """One READ ONLY transaction (safe to route to a replica, and it cannot write by mistake)."""
    async with sessions.turn(), sessions() as session, session.begin():
        await session.connection(execution_options={"postgresql_readonly": True})
        yield session


@attrs.frozen
class SearchColumns:
    """The columns of one entity's search: filterable fields and orderable fields."""

    id: SQLColumnExpression[Any]
    filterable: Mapping[str, SQLColumnExpression[Any]]
    orderable: Mapping[OrderField, SQLColumnExpression[Any]]

    def column(self, field: str) -> SQLColumnExpression[Any]:
        try:
            return self.filterable[field]
        except KeyError:
            raise InvalidParameters(f"Cannot filter by '{field}' here.") from None


def _string_conditions(
    column: SQLColumnExpression[Any], spec: StringFilter
) -> list[ColumnElement[bool]]:
    lowered = func.lower(column)
    operators: list[tuple[Any, Callable[[Any], ColumnElement[bool]]]] = [
        (spec.equals, lambda v: column == v),
        (spec.contains, lambda v: column.contains(v, autoescape=True)),
        (spec.starts_with, lambda v: column.startswith(v, autoescape=True)),
        (spec.ends_with, lambda v: column.endswith(v, autoescape=True)),
        (spec.not_equals, lambda v: column != v),
        (spec.not_contains, lambda v: not_(column.contains(v, autoescape=True))),
        (spec.not_starts_with, lambda v: not_(column.startswith(v, autoescape=True))),
        (spec.not_ends_with, lambda v: not_(column.endswith(v, autoescape=True))),
        (spec.i_equals, lambda v: lowered == func.lower(v)),
        (spec.i_contains, lambda v: column.icontains(v, autoescape=True)),
        (spec.i_starts_with, lambda v: column.istartswith(v, autoescape=True)),
        (spec.i_ends_with, lambda v: column.iendswith(v, autoescape=True)),
        (spec.i_not_equals, lambda v: lowered != func.lower(v)),
        (spec.i_not_contains, lambda v: not_(column.icontains(v, autoescape=True))),
        (spec.i_not_starts_with, lambda v: not_(column.istartswith(v, autoescape=True))),
        (spec.i_not_ends_with, lambda v: not_(column.iendswith(v, autoescape=True))),
        (spec.in_, lambda v: column.in_(list(v))),
        (spec.not_in, lambda v: column.not_in(list(v))),
        (spec.i_in, lambda v: lowered.in_([func.lower(item) for item in v])),
        (spec.i_not_in, lambda v: lowered.not_in([func.lower(item) for item in v])),
    ]
    return [build(value) for value, build in operators if value is not None]


def _enum_conditions(
    column: SQLColumnExpression[Any], spec: EnumFilter
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if spec.equals is not None:
        conditions.append(column == spec.equals)
    if spec.in_ is not None:
        conditions.append(column.in_(list(spec.in_)))
    if spec.not_equals is not None:
        conditions.append(column != spec.not_equals)
    if spec.not_in is not None:
        conditions.append(column.not_in(list(spec.not_in)))
    return conditions


def _datetime_conditions(
    column: SQLColumnExpression[Any], spec: DateTimeFilter
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if spec.before is not None:
        conditions.append(column < spec.before)
    if spec.after is not None:
        conditions.append(column > spec.after)
    if spec.equals is not None:
        conditions.append(column == spec.equals)
    if spec.not_equals is not None:
        conditions.append(column != spec.not_equals)
    return conditions


def filter_clause(spec: SearchFilter | None, columns: SearchColumns) -> ColumnElement[bool]:
    """The WHERE clause of a filter: fields and `and_` AND-ed, any of `or_`, none of `not_`."""
    if spec is None:
        return true()
    conditions: list[ColumnElement[bool]] = []
    if spec.config_name is not None:
        conditions += _string_conditions(columns.column("config_name"), spec.config_name)
    if spec.scope_type is not None:
        conditions += _enum_conditions(columns.column("scope_type"), spec.scope_type)
    if spec.created_at is not None:
        conditions += _datetime_conditions(columns.column("created_at"), spec.created_at)
    if spec.updated_at is not None:
        conditions += _datetime_conditions(columns.column("updated_at"), spec.updated_at)
    conditions += [filter_clause(child, columns) for child in spec.and_]
    if spec.or_:
        conditions.append(or_(*(filter_clause(child, columns) for child in spec.or_)))
    conditions += [not_(filter_clause(child, columns)) for child in spec.not_]
    return and_(true(), *conditions)


def _sort_keys(
    query: SearchQuery, columns: SearchColumns
) -> list[tuple[SQLColumnExpression[Any], Direction]]:
    keys: list[tuple[SQLColumnExpression[Any], Direction]] = []
    for order in query.orders:
        if order.field not in columns.orderable:
            raise InvalidParameters(f"Cannot order by '{order.field}' here.")
        keys.append((columns.orderable[order.field], order.direction))
    tiebreak = keys[-1][1] if keys else Direction.ASC
    keys.append((columns.id, tiebreak))
    return keys


def _cursor_row(
    expressions: Sequence[SQLColumnExpression[Any]],
    id_column: SQLColumnExpression[Any],
    cursor: CursorKey,
) -> Select[*tuple[Any, ...]]:
    """`SELECT <expressions> FROM <entity> WHERE id = :cursor`, never correlated to the outer query.

    The subquery's own FROM item has the entity table's name, so it hides the outer query's
    table inside the subquery: its columns are the cursor row's, not the candidate row's.
    """
    return select(*expressions).where(id_column == cursor.id).correlate(None)


def _after_key(
    keys: Sequence[tuple[SQLColumnExpression[Any], Direction]],
    id_column: SQLColumnExpression[Any],
    cursor: CursorKey,
) -> ColumnElement[bool]:
    """Rows strictly after the cursor row in the (already direction-adjusted) key order.

    The cursor row's key values come from scalar subqueries on that row, in the page statement
    itself. Each run of keys sharing a direction is one row-value comparison
    (`(created_at, id) < (SELECT created_at, id FROM ... WHERE id = :cursor)`), so the common
    single-direction order is one comparison an index on its columns can serve; mixed directions
    nest as `run1 beyond OR (run1 equal AND (run2 beyond OR ...))`. A cursor row that no longer
    exists makes every subquery NULL, hence an empty page (`run_search` rejects it first).
    """
    runs: list[tuple[list[SQLColumnExpression[Any]], Direction]] = []
    for expression, direction in keys:
        if runs and runs[-1][1] is direction:
            runs[-1][0].append(expression)
        else:
            runs.append(([expression], direction))

    def row(expressions: Sequence[SQLColumnExpression[Any]]) -> SQLColumnExpression[Any]:
        return expressions[0] if len(expressions) == 1 else tuple_(*expressions)

    def values(expressions: Sequence[SQLColumnExpression[Any]]) -> ColumnElement[Any]:
        return _cursor_row(expressions, id_column, cursor).scalar_subquery()

    def beyond(
        expressions: Sequence[SQLColumnExpression[Any]], direction: Direction
    ) -> ColumnElement[bool]:
        if direction is Direction.ASC:
            return row(expressions) > values(expressions)
        return row(expressions) < values(expressions)

    *outer, (last_expressions, last_direction) = runs
    clause: ColumnElement[bool] = beyond(last_expressions, last_direction)
    for expressions, direction in reversed(outer):
        clause = or_(
            beyond(expressions, direction),
            and_(row(expressions) == values(expressions), clause),
        )
    return clause


def _flip(direction: Direction) -> Direction:
    return Direction.DESC if direction is Direction.ASC else Direction.ASC


async def run_search(
    session: AsyncSession,
    base: Select[*tuple[Any, ...]],
    columns: SearchColumns,
    query: SearchQuery,
    convert: Callable[[Row[*tuple[Any, ...]]], T],
) -> SearchResult[T]:
    """Count, then fetch one page of `base` (already restricted to its scopes) as domain items.

    Cursor pagination continues after (or before) the row the cursor names, wherever that row
    falls under this query's order; the row need not match the filter. A cursor naming a row that
    no longer exists is `InvalidParameters` (HTTP 400): its existence is checked in the count
    statement, so it costs no extra round trip. Should the row vanish between the count and the
    page statement (they run in one READ COMMITTED transaction, so with separate snapshots), the
    page is empty instead. `cursors` are in the manager's format (`query/cursor.py`).
    """
    filtered = base.where(filter_clause(query.filter, columns))
    pagination = query.pagination
    cursor = pagination.cursor if isinstance(pagination, CursorPagination) else None
    # The cursor row's existence rides along with the count: no extra round trip.
    cursor_exists = (
        true() if cursor is None else _cursor_row([columns.id], columns.id, cursor).exists()
    )
    total, cursor_found = (
        await session.execute(
            filtered.with_only_columns(func.count(), cursor_exists, maintain_column_froms=True)
        )
    ).one()
    if not cursor_found:
        raise InvalidParameters("The pagination cursor's row no longer exists.")
    keys = _sort_keys(query, columns)
    backward = isinstance(pagination, CursorPagination) and pagination.backward
    if backward:
        keys = [(expression, _flip(direction)) for expression, direction in keys]
    statement = filtered.add_columns(columns.id.label("cursor_id")).order_by(
        *(e.asc() if d is Direction.ASC else e.desc() for e, d in keys)
    )
    if isinstance(pagination, CursorPagination):
        if cursor is not None:
            statement = statement.where(_after_key(keys, columns.id, cursor))
        statement = statement.limit(pagination.size + 1)
    else:
        statement = statement.limit(pagination.limit).offset(pagination.offset)
    rows = list((await session.execute(statement)).all())
    total_count = total or 0
    if isinstance(pagination, CursorPagination):
        has_more = len(rows) > pagination.size
        rows = rows[: pagination.size]
        if backward:
            rows.reverse()
        has_next = pagination.before is not None if backward else has_more
        has_previous = has_more if backward else pagination.after is not None
    else:
        has_next = pagination.offset + len(rows) < total_count
        has_previous = pagination.offset > 0
    cursors = [encode_cursor(CursorKey(id=row[-1])) for row in rows]
    return SearchResult(
        items=[convert(row) for row in rows],
        total_count=total_count,
        has_next_page=has_next,
        has_previous_page=has_previous,
        cursors=cursors,
    )
