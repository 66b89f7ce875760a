"""A Core statement run by the pooled asyncpg connection itself, outside SQLAlchemy's execution.

For the hottest write only: replacing the config of a fragment that exists, one statement in
autocommit. Through `AsyncConnection.execute` that write spent about a fifth of its instructions
in SQLAlchemy's execution (greenlet hand-offs, the execution context, setting and resetting
autocommit, result processing): 2.09M against 1.65M instructions per write, measured with
callgrind. What stays with SQLAlchemy:

- the statement is built with Core and compiled once per dialect; its parameters go through
  their types' bind processors, as `execute` would send them (a JSONB value becomes its text);
- the connection comes from the engine's pool, in the session factory's turn, and goes back to
  it (returning it may close it, which awaits, so that runs in SQLAlchemy's greenlet bridge);
  failing to connect raises what `engine.connect()` raises, classified and retried alike.

asyncpg runs a statement outside a transaction block in autocommit: no BEGIN and COMMIT.

Failures of the connection end like SQLAlchemy's disconnects: the connection is invalidated
(closed and replaced in the pool) and `ConnectionError` is raised, which the db_source policy
retries and the API answers 503. A pooled connection whose server session already ended (a
restarted or terminated server: asyncpg has read the close) is not used: it is invalidated at
checkout and another is taken, so one restart costs no attempts.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from typing import Any, Final

import asyncpg
import attrs
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection, QueuePool
from sqlalchemy.sql.base import Executable
from sqlalchemy.util import greenlet_spawn

from scoped_app_config.repositories.base.db_source import SessionFactory

CONNECTION_FAILURES: Final = (
    OSError,  # the socket: reset, refused, broken pipe
    asyncpg.InterfaceError,  # "connection is closed"
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08, the connection ended mid-statement
    asyncpg.exceptions.OperatorInterventionError,  # 57P0x: terminated, shut down, restarting
)
"""What asyncpg raises when the server session is gone or going (what SQLAlchemy's asyncpg
dialect counts as a disconnect)."""

_Processor = Callable[[Any], Any] | None


@attrs.frozen
class _Compiled:
    sql: str
    parameters: tuple[_Parameter, ...]  # in positional order


@attrs.frozen
class _Parameter:
    name: str
    processor: _Processor
    value: Any  # the statement's own value (a literal), used when the caller gives none


class DriverStatement:
    """`statement` compiled for the engine's dialect (asyncpg only), run on a pooled connection."""

    def __init__(self, statement: Executable) -> None:
        self._statement = statement
        self._compiled: weakref.WeakKeyDictionary[Dialect, _Compiled] = (
            weakref.WeakKeyDictionary()
        )

    def compiled_for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect)
        if compiled is None:
            if dialect.driver != "asyncpg":
                raise RuntimeError(f"a driver statement needs asyncpg, not {dialect.driver}")
            core = self._statement.compile(dialect=dialect)  # type: ignore[attr-defined]
            parameters = tuple(
                _Parameter(
                    name,
                    core.binds[name].type.dialect_impl(dialect).bind_processor(dialect),
                    core.binds[name].value,
                )
                for name in core.positiontup or ()
            )
            compiled = self._compiled[dialect] = _Compiled(str(core), parameters)
        return compiled

    async def fetch_one(
        self, sessions: SessionFactory, parameters: Mapping[str, Any]
    ) -> Mapping[str, Any] | None:
        """The statement's first row (None if it returned none), by column name."""
        engine = sessions.engine
        compiled = self.compiled_for(engine.dialect)
        arguments = [_argument(parameter, parameters) for parameter in compiled.parameters]
        async with sessions.turn():
            pooled, driver = await _live_connection(engine)
            try:
                row: Mapping[str, Any] | None = await driver.fetchrow(compiled.sql, *arguments)
            except CONNECTION_FAILURES as error:
                await greenlet_spawn(pooled.invalidate, error)
                raise ConnectionError(f"lost the database connection: {error!r}") from error
            finally:
                await greenlet_spawn(pooled.close)
        return row


def _argument(parameter: _Parameter, given: Mapping[str, Any]) -> Any:
    value = given.get(parameter.name, parameter.value)
    return value if parameter.processor is None else parameter.processor(value)


async def _checkout(engine: AsyncEngine) -> PoolProxiedConnection:
    """A pooled connection; failing to connect fails as `engine.connect()` does (the Core
    path's checkout): the driver's errors come wrapped in SQLAlchemy's `DBAPIError`, with
    disconnects marked, so they are classified and retried alike. (Socket errors such as a
    refused connection are not the driver's and pass through unwrapped on both paths.)"""
    dialect = engine.dialect
    try:
        return await engine.raw_connection()
    except dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(
            None,
            None,
            error,
            dialect.loaded_dbapi.Error,
            connection_invalidated=dialect.is_disconnect(error, None, None),
            dialect=dialect,
        ) from error


async def _live_connection(engine: AsyncEngine) -> tuple[PoolProxiedConnection, Any]:
    """A pooled connection whose server session has not ended, as far as asyncpg knows, and
    its asyncpg connection.

    An invalidated connection goes back to the pool and reconnects when next taken, so after
    at most every idle connection, plus one, a live (or new) one comes out."""
    pool = engine.sync_engine.pool
    idle = pool.checkedin() if isinstance(pool, QueuePool) else 0
    for _ in range(idle + 1):
        pooled = await _checkout(engine)
        driver: Any = pooled.driver_connection
        if driver is not None and not driver.is_closed():
            return pooled, driver
        await greenlet_spawn(pooled.invalidate)
        await greenlet_spawn(pooled.close)
    raise ConnectionError("the pooled database connections were all closed by the server")
