"""Cross-process keypair cache invalidation through PostgreSQL LISTEN/NOTIFY.

Account changes (`accounts.db_source`) send `NOTIFY reference_host_account_changes` inside
their transaction, so every host process learns of a deactivation when it commits, whichever
process (a worker, another machine, the `reference-host accounts` CLI) made it. Each app keeps
one listening connection. When it drops, the listener reconnects at once (then backs off) and
clears the cache when it is back, since notifications may have been missed meanwhile; a
database restart thus costs no authentication. A deactivation committed while a worker's
listener was down takes effect there when it reconnects; if that takes longer than
`DISTRUST_AFTER_SECONDS`, the worker stops trusting its cache (every request reads the
database) until then. The cache TTL remains as a last bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from aiohttp import web
from sqlalchemy.engine import make_url

from reference_host.accounts.db_source import ACCOUNT_CHANGES_CHANNEL
from reference_host.auth import keypair_cache
from reference_host.auth.keypair_cache import KeypairCache
from reference_host.contract import CleanupContext

log = logging.getLogger(__name__)

RECONNECT_DELAYS_SECONDS = (0.05, 0.1, 0.2, 0.5, 1.0)
"""Back-off between listener reconnects."""
DISTRUST_AFTER_SECONDS = 2.0
"""How long a lost listener is bridged by the cache before every lookup reads the database."""


def apply_account_change(payload: str) -> None:
    kind, _, value = payload.partition(":")
    if kind == "keypair":
        keypair_cache.invalidate_keypair(value)
    elif kind == "user":
        try:
            keypair_cache.invalidate_user(uuid.UUID(value))
        except ValueError:
            log.warning("ignored malformed account change %r", payload)
    else:
        log.warning("ignored unknown account change %r", payload)


class AccountChangeListener:
    def __init__(self, database_url: str, cache: KeypairCache) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._cache = cache

    def _on_notification(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        apply_account_change(payload)

    async def _listen_once(self) -> None:
        connection = await asyncpg.connect(self._dsn)
        lost = asyncio.Event()
        try:
            connection.add_termination_listener(lambda _conn: lost.set())
            await connection.add_listener(ACCOUNT_CHANGES_CHANNEL, self._on_notification)
            # Anything cached before this point may predate a missed notification.
            self._cache.clear()
            self._cache.trusted = True
            await lost.wait()
        finally:
            if not connection.is_closed():
                await connection.close()

    async def _listen_forever(self) -> None:
        failures = 0
        down_since: float | None = None
        while True:
            try:
                await self._listen_once()
                failures = 0
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("account change listener down (%s); retrying", type(exc).__name__)
                failures += 1
            now = time.monotonic()
            down_since = now if failures <= 1 or down_since is None else down_since
            # A short outage is bridged: the cache is cleared on reconnect, so what a missed
            # notification could leave behind lives at most until then. A longer one is not.
            if now - down_since >= DISTRUST_AFTER_SECONDS:
                self._cache.trusted = False
            await asyncio.sleep(
                RECONNECT_DELAYS_SECONDS[min(failures, len(RECONNECT_DELAYS_SECONDS) - 1)]
            )

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        task = asyncio.create_task(self._listen_forever())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def account_changes_context(database_url: str, cache: KeypairCache) -> CleanupContext:
    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        async with AccountChangeListener(database_url, cache).running():
            yield

    return lifecycle
