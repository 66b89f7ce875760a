"""`contract.AccountDirectory` for plugins: read-only existence checks over the host's accounts."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncEngine

from reference_host.accounts import db_source
from reference_host.contract import AccountView
from reference_host.database import read_reconnecting


class HostAccountDirectory:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def domain_exists(self, domain_id: uuid.UUID) -> bool:
        return await read_reconnecting(
            self._engine, lambda conn: db_source.domain_exists(conn, domain_id)
        )

    async def find_user(self, user_id: uuid.UUID) -> AccountView | None:
        return await read_reconnecting(
            self._engine, lambda conn: db_source.find_user(conn, user_id)
        )
