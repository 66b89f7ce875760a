"""All SQL for definitions; rows are converted to `DefinitionData` before leaving."""

from __future__ import annotations

from sqlalchemy import delete, select

from scoped_app_config.domain.errors import AppConfigDefinitionNotFound
from scoped_app_config.domain.models import DefinitionData, SearchResult
from scoped_app_config.domain.types import DefinitionId
from scoped_app_config.models import DefinitionRow
from scoped_app_config.query import OrderField, SearchQuery
from scoped_app_config.repositories.base.db_source import (
    DBSource,
    SearchColumns,
    begin_read,
    begin_write,
    insert_row,
    run_search,
)
from scoped_app_config.repositories.base.resilience import (
    DEFINITION_DB_SOURCE_LAYER,
    db_source_policy,
)
from scoped_app_config.repositories.definition.creators import DefinitionCreator
from scoped_app_config.repositories.definition.purgers import DefinitionPurger

_policy = db_source_policy(DEFINITION_DB_SOURCE_LAYER)

_SEARCH_COLUMNS = SearchColumns(
    id=DefinitionRow.id,
    filterable={
        "config_name": DefinitionRow.config_name,
        "created_at": DefinitionRow.created_at,
        "updated_at": DefinitionRow.updated_at,
    },
    orderable={
        OrderField.CONFIG_NAME: DefinitionRow.config_name,
        OrderField.CREATED_AT: DefinitionRow.created_at,
        OrderField.UPDATED_AT: DefinitionRow.updated_at,
    },
)


def _definition(row: DefinitionRow) -> DefinitionData:
    return DefinitionData(
        id=row.id, config_name=row.config_name, created_at=row.created_at, updated_at=row.updated_at
    )


class AppConfigDefinitionDBSource(DBSource):
    @_policy
    async def create(self, creator: DefinitionCreator) -> DefinitionData:
        async with begin_write(self._sessions) as session:
            row = creator.build_row()
            await insert_row(session, row, creator.integrity_checks)
            return _definition(row)

    @_policy
    async def get_by_id(self, definition_id: DefinitionId) -> DefinitionData:
        async with begin_read(self._sessions) as session:
            row = await session.get(DefinitionRow, definition_id)
            if row is None:
                raise AppConfigDefinitionNotFound.for_id(definition_id)
            return _definition(row)

    @_policy
    async def purge(self, purger: DefinitionPurger) -> DefinitionData:
        """Delete the definition; the database cascades to allow-list entries and fragments."""
        statement = (
            delete(DefinitionRow)
            .where(DefinitionRow.id == purger.definition_id)
            .returning(DefinitionRow)
        )
        async with begin_write(self._sessions) as session:
            row = await session.scalar(statement)
            if row is None:
                raise AppConfigDefinitionNotFound.for_id(purger.definition_id)
            return _definition(row)

    @_policy
    async def search(self, query: SearchQuery) -> SearchResult[DefinitionData]:
        base = select(DefinitionRow).select_from(DefinitionRow)
        async with begin_read(self._sessions) as session:
            return await run_search(
                session, base, _SEARCH_COLUMNS, query, lambda row: _definition(row[0])
            )
