"""Reads that survive a connection the database dropped while it sat in the pool.

The engine does not ping pooled connections (`HostSettings.db_pool_pre_ping`): the first
statement on a connection the server closed (restart, failover, `pg_terminate_backend`) fails,
and SQLAlchemy then invalidates every connection pooled before the failure. A read is safe to
repeat, so it is retried once, on a connection opened after that.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

T = TypeVar("T")


async def read_reconnecting(
    engine: AsyncEngine, read: Callable[[AsyncConnection], Awaitable[T]]
) -> T:
    """`read` on a pooled connection; once more on a fresh one if that connection was dead."""
    try:
        async with engine.connect() as conn:
            return await read(conn)
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
    async with engine.connect() as conn:
        return await read(conn)
