"""All SQL for allow-list entries; rows are converted to `AllowListEntryData` before leaving."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from scoped_app_config.domain.errors import AppConfigAllowListNotFound
from scoped_app_config.domain.models import AllowListEntryData, SearchResult
from scoped_app_config.domain.types import AllowListEntryId
from scoped_app_config.models import AllowListRow
from scoped_app_config.query import OrderField, SearchQuery
from scoped_app_config.repositories.allow_list.creators import AllowListCreator
from scoped_app_config.repositories.allow_list.purgers import AllowListPurger
from scoped_app_config.repositories.allow_list.updaters import AllowListUpdater
from scoped_app_config.repositories.base.db_source import (
    DBSource,
    SearchColumns,
    begin_read,
    begin_write,
    insert_row,
    run_search,
)
from scoped_app_config.repositories.base.resilience import (
    ALLOW_LIST_DB_SOURCE_LAYER,
    db_source_policy,
)

_policy = db_source_policy(ALLOW_LIST_DB_SOURCE_LAYER)

_SEARCH_COLUMNS = SearchColumns(
    id=AllowListRow.id,
    filterable={
        "config_name": AllowListRow.config_name,
        "scope_type": AllowListRow.scope_type,
        "created_at": AllowListRow.created_at,
        "updated_at": AllowListRow.updated_at,
    },
    orderable={
        OrderField.CONFIG_NAME: AllowListRow.config_name,
        OrderField.SCOPE_TYPE: AllowListRow.scope_type,
        OrderField.RANK: AllowListRow.rank,
        OrderField.CREATED_AT: AllowListRow.created_at,
        OrderField.UPDATED_AT: AllowListRow.updated_at,
    },
)


def _entry(row: AllowListRow) -> AllowListEntryData:
    return AllowListEntryData(
        id=row.id,
        config_name=row.config_name,
        scope_type=row.scope_type,
        rank=row.rank,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class AppConfigAllowListDBSource(DBSource):
    @_policy
    async def create(self, creator: AllowListCreator) -> AllowListEntryData:
        async with begin_write(self._sessions) as session:
            row = creator.build_row()
            await insert_row(session, row, creator.integrity_checks)
            return _entry(row)

    @_policy
    async def get_by_id(self, entry_id: AllowListEntryId) -> AllowListEntryData:
        async with begin_read(self._sessions) as session:
            row = await session.get(AllowListRow, entry_id)
            if row is None:
                raise AppConfigAllowListNotFound(entry_id)
            return _entry(row)

    @_policy
    async def update(self, updater: AllowListUpdater) -> AllowListEntryData:
        """Set the rank; an empty spec returns the current entry unchanged."""
        async with begin_write(self._sessions) as session:
            if not updater.spec.values:
                row = await session.get(AllowListRow, updater.entry_id)
            else:
                row = await session.scalar(
                    update(AllowListRow)
                    .where(AllowListRow.id == updater.entry_id)
                    .values(updater.spec.values)
                    .returning(AllowListRow)
                    .execution_options(synchronize_session=False)
                )
            if row is None:
                raise AppConfigAllowListNotFound(updater.entry_id)
            return _entry(row)

    @_policy
    async def purge(self, purger: AllowListPurger) -> AllowListEntryData:
        """Delete the entry; the database cascades to the fragments it admitted."""
        statement = (
            delete(AllowListRow).where(AllowListRow.id == purger.entry_id).returning(AllowListRow)
        )
        async with begin_write(self._sessions) as session:
            row = await session.scalar(statement)
            if row is None:
                raise AppConfigAllowListNotFound(purger.entry_id)
            return _entry(row)

    @_policy
    async def search(self, query: SearchQuery) -> SearchResult[AllowListEntryData]:
        base = select(AllowListRow).select_from(AllowListRow)
        async with begin_read(self._sessions) as session:
            return await run_search(
                session, base, _SEARCH_COLUMNS, query, lambda row: _entry(row[0])
            )
