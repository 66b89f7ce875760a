"""All SQL for fragments; rows become `FragmentData` (with their allow-list rank) right here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Row,
    String,
    Table,
    and_,
    any_,
    bindparam,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.dml import ReturningInsert, ReturningUpdate
from sqlalchemy.sql.selectable import ScalarSelect

from scoped_app_config.domain.errors import (
    AppConfigDefinitionNotFound,
    AppConfigFragmentNotFound,
    InvalidParameters,
    WriteNotAllowed,
)
from scoped_app_config.domain.models import (
    BulkPurgeResult,
    FragmentData,
    FragmentPurgeFailure,
    SearchResult,
)
from scoped_app_config.domain.types import (
    FRAGMENT_RANK_STEP,
    DomainId,
    FragmentId,
    ScopeRef,
    ScopeType,
    UserId,
)
from scoped_app_config.models import AllowListRow, DefinitionRow, FragmentRow
from scoped_app_config.models.tables import FRAGMENT_NATURAL_KEY
from scoped_app_config.query import OrderField, SearchQuery
from scoped_app_config.repositories.base.db_source import (
    NIL_UUID,
    DBSource,
    SearchColumns,
    SessionFactory,
    begin_core_write,
    begin_read,
    begin_write,
    insert_row,
    run_search,
)
from scoped_app_config.repositories.base.driver_statement import DriverStatement
from scoped_app_config.repositories.base.integrity import IntegrityCheck, raise_for_integrity
from scoped_app_config.repositories.base.resilience import (
    FRAGMENT_DB_SOURCE_LAYER,
    db_source_policy,
)
from scoped_app_config.repositories.fragment.creators import (
    FragmentBulkUpserter,
    FragmentCreator,
    FragmentUpsertItem,
)
from scoped_app_config.repositories.fragment.purgers import FragmentBulkPurger, FragmentPurger
from scoped_app_config.repositories.fragment.types import (
    ConfigNameSearchScope,
    FragmentSearchScope,
)
from scoped_app_config.repositories.fragment.updaters import FragmentUpdater

_policy = db_source_policy(FRAGMENT_DB_SOURCE_LAYER)

_ADMITTED_BY_ENTRY = and_(
    AllowListRow.config_name == FragmentRow.config_name,
    AllowListRow.scope_type == FragmentRow.scope_type,
)
# The allow-list rank of the fragment a DML statement touches, for its RETURNING clause.
_ENTRY_RANK = (
    select(AllowListRow.rank).where(_ADMITTED_BY_ENTRY).correlate(FragmentRow).scalar_subquery()
)
_WITH_ENTRY_RANK = select(FragmentRow, AllowListRow.rank).select_from(
    FragmentRow.__table__.join(AllowListRow.__table__, _ADMITTED_BY_ENTRY)
)

_SEARCH_COLUMNS = SearchColumns(
    id=FragmentRow.id,
    filterable={
        "config_name": FragmentRow.config_name,
        "scope_type": FragmentRow.scope_type,
        "created_at": FragmentRow.created_at,
        "updated_at": FragmentRow.updated_at,
    },
    orderable={
        OrderField.CONFIG_NAME: FragmentRow.config_name,
        OrderField.SCOPE_TYPE: FragmentRow.scope_type,
        OrderField.SCOPE_ID: func.coalesce(FragmentRow.scope_id, NIL_UUID),
        OrderField.RANK: FragmentRow.rank,
        OrderField.CREATED_AT: FragmentRow.created_at,
        OrderField.UPDATED_AT: FragmentRow.updated_at,
    },
)


_NAME_TO_RANK = "name_to_rank"
"""The parameter naming the config whose next rank is computed (in the upsert, a column's own
name is reserved for its VALUES entry)."""


def _next_rank_of_named_config() -> ScalarSelect[Any]:
    """The next rank of config `name_to_rank`: its fragments' maximum plus the step (the first
    fragment gets the step). Run after the definition lock, so concurrent writers of the name
    see each other's fragments (READ COMMITTED: each statement takes a fresh snapshot)."""
    table = cast(Table, FragmentRow.__table__).alias("same_name")
    return (
        select(func.coalesce(func.max(table.c.rank), 0) + FRAGMENT_RANK_STEP)
        .where(table.c.config_name == bindparam(_NAME_TO_RANK))
        .scalar_subquery()
    )


def _upsert_statement() -> ReturningInsert[Any]:
    """Insert or replace `config` by natural key; a new row takes its name's next rank inside
    the statement (a round trip less than asking first). Built once, so SQLAlchemy compiles it
    once (a statement built per call with `.values(rows)` was compiled on every upsert)."""
    table = cast(Table, FragmentRow.__table__)
    insertion = insert(table).values(rank=_next_rank_of_named_config())
    return insertion.on_conflict_do_update(
        constraint=FRAGMENT_NATURAL_KEY, set_={"config": insertion.excluded.config}
    ).returning(*table.c)


_UPSERT = _upsert_statement()


def _replace_statement(*, public: bool) -> ReturningUpdate[Any]:
    """Replace the config of the fragment at one natural key; returns it with its entry rank.
    Built once per scope shape (a public fragment has no scope id). Parameter names differ from
    the columns': those are reserved for the SET clause."""
    table = cast(Table, FragmentRow.__table__)
    at_scope = (
        table.c.scope_id.is_(None) if public else table.c.scope_id == bindparam("at_scope_id")
    )
    return (
        update(table)
        .where(
            table.c.config_name == bindparam("at_name"),
            table.c.scope_type == bindparam("at_scope_type"),
            at_scope,
        )
        .values(config=bindparam("new_config"))
        .returning(*table.c, _ENTRY_RANK.label("entry_rank"))
    )


_REPLACE_PUBLIC = DriverStatement(_replace_statement(public=True))
_REPLACE_SCOPED = DriverStatement(_replace_statement(public=False))


def _fragment(row: FragmentRow | Row[Any], allow_list_rank: int) -> FragmentData:
    return FragmentData(
        id=row.id,
        config_name=row.config_name,
        scope_type=row.scope_type,
        scope_id=row.scope_id,
        rank=row.rank,
        allow_list_rank=allow_list_rank,
        config=row.config,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _scope_condition(scope: FragmentSearchScope) -> ColumnElement[bool]:
    if isinstance(scope, ConfigNameSearchScope):
        return FragmentRow.config_name == scope.config_name
    return _at_scope(ScopeRef(scope.scope_type, scope.scope_id))


def _at_scope(scope: ScopeRef) -> ColumnElement[bool]:
    scope_id = (
        FragmentRow.scope_id.is_(None)
        if scope.scope_id is None
        else FragmentRow.scope_id == scope.scope_id
    )
    return and_(FragmentRow.scope_type == scope.scope_type, scope_id)


# The write path's statements are built once (SQLAlchemy then finds their compiled form by
# cache key without rebuilding and re-coercing the expression on every write).
_NAMES = ARRAY(String)

_LOCK_DEFINITIONS = (
    select(DefinitionRow.config_name, AllowListRow.rank)
    .outerjoin(
        AllowListRow,
        and_(
            AllowListRow.config_name == DefinitionRow.config_name,
            AllowListRow.scope_type == bindparam("scope_type", type_=AllowListRow.scope_type.type),
        ),
    )
    # One array parameter rather than an expanding IN: the SQL text is the same for any number
    # of names, so it is neither re-rendered per call nor prepared once per count.
    .where(DefinitionRow.config_name == any_(bindparam("names", type_=_NAMES)))
    .order_by(DefinitionRow.config_name)
    .with_for_update(of=DefinitionRow)
)

_NEXT_RANK = select(_next_rank_of_named_config())


async def _lock_definitions(
    session: AsyncSession | AsyncConnection, config_names: Sequence[str], scope_type: ScopeType
) -> dict[str, int | None]:
    """Lock the definitions in sorted name order; map each registered name to its entry rank.

    None means registered but not allowed at this scope type; absent means unregistered.
    """
    parameters = {"scope_type": scope_type, "names": sorted(config_names)}
    return {name: rank for name, rank in (await session.execute(_LOCK_DEFINITIONS, parameters))}


async def _replace_existing(
    sessions: SessionFactory, scope: ScopeRef, item: FragmentUpsertItem
) -> FragmentData | None:
    """Replace the config of the item's fragment if it exists (None if not), without the
    definition lock: a replacement keeps its rank, so there is no next rank to serialize, and
    the fragment's foreign key guarantees its allow-list entry (deleting the entry cascades to
    the fragment, and waits for this row's lock). So saving a config that exists, the common
    write, is one statement and does not queue behind every other writer of the same name.
    It runs in autocommit, one round trip, on the driver (see `DriverStatement`): it is
    idempotent (the same config, the same rank), so replaying it after a connection lost
    mid-statement is safe. One item only: with several, rows locked here before the
    definitions would invert the lock order the other writers keep (definitions first)."""
    statement = _REPLACE_PUBLIC if scope.scope_id is None else _REPLACE_SCOPED
    parameters = {
        "at_name": item.config_name,
        "at_scope_type": scope.scope_type,
        "at_scope_id": scope.scope_id,
        "new_config": dict(item.config),
    }
    row = await statement.fetch_one(sessions, parameters)
    if row is None:
        return None
    return FragmentData(
        id=row["id"],
        config_name=row["config_name"],
        scope_type=ScopeType(row["scope_type"]),
        scope_id=row["scope_id"],
        rank=row["rank"],
        allow_list_rank=row["entry_rank"],
        config=row["config"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class AppConfigFragmentDBSource(DBSource):
    @_policy
    async def create(self, creator: FragmentCreator) -> FragmentData:
        name, scope_type = creator.config_name, creator.scope.scope_type
        async with begin_write(self._sessions) as session:
            gate = await _lock_definitions(session, [name], scope_type)
            if name not in gate:
                raise AppConfigDefinitionNotFound.for_name(name)
            entry_rank = gate[name]
            if entry_rank is None:
                raise WriteNotAllowed(name, scope_type)
            next_rank = (await session.execute(_NEXT_RANK, {_NAME_TO_RANK: name})).scalar_one()
            row = creator.build_row(next_rank)
            await insert_row(session, row, creator.integrity_checks)
            return _fragment(row, entry_rank)

    @_policy
    async def get_by_id(self, fragment_id: FragmentId) -> FragmentData:
        async with begin_read(self._sessions) as session:
            result = await session.execute(_WITH_ENTRY_RANK.where(FragmentRow.id == fragment_id))
            found = result.one_or_none()
            if found is None:
                raise AppConfigFragmentNotFound(fragment_id)
            return _fragment(*found)

    @_policy
    async def get_many(self, fragment_ids: Sequence[FragmentId]) -> list[FragmentData]:
        """The fragments among the ids that exist, in request order (missing ids are skipped)."""
        requested = list(dict.fromkeys(fragment_ids))
        statement = _WITH_ENTRY_RANK.where(FragmentRow.id.in_(requested))
        async with begin_read(self._sessions) as session:
            found = {row.id: _fragment(row, rank) for row, rank in await session.execute(statement)}
        return [found[fragment_id] for fragment_id in requested if fragment_id in found]

    @_policy
    async def find_at_scope(
        self, scope: ScopeRef, config_names: Sequence[str]
    ) -> list[FragmentData]:
        """The scope's fragments of the given names (at most one per name), ordered by name."""
        statement = _WITH_ENTRY_RANK.where(
            FragmentRow.config_name.in_(sorted(set(config_names))), _at_scope(scope)
        ).order_by(FragmentRow.config_name)
        async with begin_read(self._sessions) as session:
            return [_fragment(row, rank) for row, rank in await session.execute(statement)]

    @_policy
    async def update(self, updater: FragmentUpdater) -> FragmentData:
        """Replace `config` and/or set `rank`; an empty spec returns the current fragment.

        Setting a rank first locks the parent definition row, as creates and bulk upserts do
        before taking max(rank) + step, so a rank update and those writes of the same name
        serialize; a rank another fragment of the name holds is a `Conflict` (unique key).
        """
        values = updater.spec.values
        async with begin_write(self._sessions) as session:
            if not values:
                statement: Any = _WITH_ENTRY_RANK.where(FragmentRow.id == updater.fragment_id)
                found = (await session.execute(statement)).one_or_none()
                if found is None:
                    raise AppConfigFragmentNotFound(updater.fragment_id)
                return _fragment(*found)
            checks: tuple[IntegrityCheck, ...] = ()
            if updater.spec.rank is not None:
                target = (
                    await session.execute(
                        select(FragmentRow.config_name, FragmentRow.scope_type).where(
                            FragmentRow.id == updater.fragment_id
                        )
                    )
                ).one_or_none()
                if target is None:
                    raise AppConfigFragmentNotFound(updater.fragment_id)
                # A fragment never changes its name, so the lock taken here stays the right one.
                await _lock_definitions(session, [target.config_name], target.scope_type)
                checks = updater.integrity_checks(target.config_name)
            statement = (
                update(FragmentRow)
                .where(FragmentRow.id == updater.fragment_id)
                .values(values)
                .returning(FragmentRow, _ENTRY_RANK)
                .execution_options(synchronize_session=False)
            )
            try:
                found = (await session.execute(statement)).one_or_none()
            except IntegrityError as error:
                raise_for_integrity(error, checks)
            if found is None:
                raise AppConfigFragmentNotFound(updater.fragment_id)
            return _fragment(*found)

    @_policy
    async def purge(self, purger: FragmentPurger) -> FragmentData:
        statement = (
            delete(FragmentRow)
            .where(FragmentRow.id == purger.fragment_id)
            .returning(FragmentRow, _ENTRY_RANK)
        )
        async with begin_write(self._sessions) as session:
            found = (await session.execute(statement)).one_or_none()
            if found is None:
                raise AppConfigFragmentNotFound(purger.fragment_id)
            return _fragment(*found)

    @_policy
    async def admin_search(self, query: SearchQuery) -> SearchResult[FragmentData]:
        async with begin_read(self._sessions) as session:
            return await run_search(
                session,
                _WITH_ENTRY_RANK,
                _SEARCH_COLUMNS,
                query,
                lambda row: _fragment(row[0], row[1]),
            )

    @_policy
    async def scoped_search(
        self, scopes: Sequence[FragmentSearchScope], query: SearchQuery
    ) -> SearchResult[FragmentData]:
        """Search within any of the scopes; an unregistered scope name is definition-not-found."""
        if not scopes:
            raise InvalidParameters("A scoped search needs at least one scope.")
        names = sorted({s.config_name for s in scopes if isinstance(s, ConfigNameSearchScope)})
        base = _WITH_ENTRY_RANK.where(or_(*(_scope_condition(scope) for scope in scopes)))
        async with begin_read(self._sessions) as session:
            if names:
                registered = set(
                    await session.scalars(
                        select(DefinitionRow.config_name).where(
                            DefinitionRow.config_name.in_(names)
                        )
                    )
                )
                for name in names:
                    if name not in registered:
                        raise AppConfigDefinitionNotFound.for_name(name)
            return await run_search(
                session, base, _SEARCH_COLUMNS, query, lambda row: _fragment(row[0], row[1])
            )

    @_policy
    async def bulk_upsert(self, upserter: FragmentBulkUpserter) -> list[FragmentData]:
        """All or nothing: insert or replace `config` per item; returns fragments in item order.

        Unregistered names are rejected like missing allow-list entries (WIRE.md §3: 403).
        """
        if not upserter.items:
            return []
        if len(upserter.items) == 1:
            replaced = await _replace_existing(self._sessions, upserter.scope, upserter.items[0])
            if replaced is not None:
                return [replaced]
        names, scope_type = upserter.config_names, upserter.scope.scope_type
        async with begin_core_write(self._sessions) as connection:
            gate = await _lock_definitions(connection, names, scope_type)
            entry_ranks: dict[str, int] = {}
            for name in names:
                entry_rank = gate.get(name)
                if entry_rank is None:
                    raise WriteNotAllowed(name, scope_type)
                entry_ranks[name] = entry_rank
            values = upserter.build_values()
            for row in values:
                row[_NAME_TO_RANK] = row["config_name"]
            try:
                rows = (await connection.execute(_UPSERT, values)).all()
            except IntegrityError as error:
                raise_for_integrity(error, upserter.integrity_checks)
            by_name = {
                row.config_name: _fragment(row, entry_ranks[row.config_name]) for row in rows
            }
            return [by_name[item.config_name] for item in upserter.items]

    @_policy
    async def bulk_purge(self, purger: FragmentBulkPurger) -> BulkPurgeResult:
        """Purge what exists; report each missing id as failed (request order, duplicates once)."""
        requested = list(dict.fromkeys(purger.fragment_ids))
        statement = (
            delete(FragmentRow)
            .where(FragmentRow.id.in_(requested))
            .returning(FragmentRow, _ENTRY_RANK)
        )
        async with begin_write(self._sessions) as session:
            removed = {
                row.id: _fragment(row, rank) for row, rank in (await session.execute(statement))
            }
        return BulkPurgeResult(
            purged=[removed[fragment_id] for fragment_id in requested if fragment_id in removed],
            failed=[
                FragmentPurgeFailure(fragment_id, AppConfigFragmentNotFound(fragment_id).message)
                for fragment_id in requested
                if fragment_id not in removed
            ],
        )

    @_policy
    async def list_visible_fragments(
        self, config_names: Sequence[str], user_id: UserId | None, domain_id: DomainId | None
    ) -> list[FragmentData]:
        """Every fragment that applies to one user, in merge order, in ONE statement.

        Public, plus the domain's `domain` and `domain_user_defaults` fragments, plus the user's
        own; ordered by `(allow_list.rank, fragment.rank)` ascending (id breaks exact ties).
        """
        names = sorted(set(config_names))
        if not names:
            return []
        visible = [FragmentRow.scope_type == ScopeType.PUBLIC]
        if domain_id is not None:
            visible.append(
                and_(
                    FragmentRow.scope_type.in_([ScopeType.DOMAIN, ScopeType.DOMAIN_USER_DEFAULTS]),
                    FragmentRow.scope_id == domain_id,
                )
            )
        if user_id is not None:
            visible.append(
                and_(FragmentRow.scope_type == ScopeType.USER, FragmentRow.scope_id == user_id)
            )
        statement = _WITH_ENTRY_RANK.where(
            FragmentRow.config_name == any_(bindparam("config_names", names, type_=_NAMES)),
            or_(*visible),
        ).order_by(AllowListRow.rank, FragmentRow.rank, FragmentRow.id)
        async with begin_read(self._sessions) as session:
            result = await session.execute(statement)
            return [_fragment(row, rank) for row, rank in result]
