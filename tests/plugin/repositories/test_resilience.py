"""The resilience policy on real PostgreSQL: transient failures retried, domain errors not.

Failures are real: the session's own backend is terminated with `pg_terminate_backend` right
before a chosen statement, so that statement fails on a dead connection mid-transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import attrs
import pytest
from repository_support import AppConfigRepositories, RecordingLayerMetrics
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from scoped_app_config.domain.errors import AppConfigDefinitionNotFound
from scoped_app_config.domain.types import DomainId, ScopeRef, ScopeType, UserId
from scoped_app_config.models import AllowListRow, FragmentRow
from scoped_app_config.repositories.base.resilience import (
    DB_SOURCE_MAX_ATTEMPTS,
    MAX_ATTEMPTS_PER_REPOSITORY_CALL,
    is_transient,
)
from scoped_app_config.repositories.fragment import (
    FragmentBulkUpserter,
    FragmentCreator,
    FragmentUpsertItem,
)

DB_SOURCE = ("db_source", "app_config_fragment_db_source")
REPOSITORY = ("repository", "app_config_fragment_repository")


@attrs.define
class BackendTerminator:
    """Before each statement containing `marker`, kill the backend while `kills` remain."""

    marker: str
    kills: int
    attempts: int = 0

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self.marker not in statement:
            return
        self.attempts += 1
        if self.kills > 0:
            self.kills -= 1
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")


def _install(engine: AsyncEngine, terminator: BackendTerminator) -> Iterator[BackendTerminator]:
    event.listen(engine.sync_engine, "before_cursor_execute", terminator)
    yield terminator
    event.remove(engine.sync_engine, "before_cursor_execute", terminator)


@pytest.fixture
def connection_lost_once_at_fragment_insert(
    db_engine: AsyncEngine,
) -> Iterator[BackendTerminator]:
    yield from _install(db_engine, BackendTerminator("INSERT INTO app_config_fragments", 1))


@pytest.fixture
def connection_lost_once_at_visibility_read(
    db_engine: AsyncEngine,
) -> Iterator[BackendTerminator]:
    yield from _install(db_engine, BackendTerminator("ANY (", 1))


@pytest.fixture
def connection_lost_at_every_visibility_read(
    db_engine: AsyncEngine,
) -> Iterator[BackendTerminator]:
    yield from _install(db_engine, BackendTerminator("ANY (", 1_000))


@pytest.fixture
async def connection_lost_once_mid_fragment_update(db_engine: AsyncEngine) -> AsyncIterator[None]:
    """The next UPDATE of a fragment ends its own server session while it runs: a trigger
    terminates the backend once, counted by a sequence (a sequence is not rolled back with the
    statement it ran in). Replacing a config runs on the driver, outside SQLAlchemy's cursor
    events, so the failure is made on the server."""
    setup = [
        "CREATE SEQUENCE test_update_kills",
        "CREATE FUNCTION test_kill_update_once() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN IF nextval('test_update_kills') = 1 THEN"
        " PERFORM pg_terminate_backend(pg_backend_pid()); END IF; RETURN NEW; END $$",
        "CREATE TRIGGER test_kill_update_once BEFORE UPDATE ON app_config_fragments"
        " FOR EACH ROW EXECUTE FUNCTION test_kill_update_once()",
    ]
    teardown = [
        "DROP TRIGGER test_kill_update_once ON app_config_fragments",
        "DROP FUNCTION test_kill_update_once()",
        "DROP SEQUENCE test_update_kills",
    ]
    async with db_engine.begin() as connection:
        for statement in setup:
            await connection.exec_driver_sql(statement)
    try:
        yield
    finally:
        async with db_engine.begin() as connection:
            for statement in teardown:
                await connection.exec_driver_sql(statement)


class TestTransientFailure:
    async def test_lost_connection_during_read_is_retried(
        self,
        repositories: AppConfigRepositories,
        layer_metrics: RecordingLayerMetrics,
        fragments_across_scopes: dict[str, FragmentRow],
        known_user: uuid.UUID,
        known_domain: uuid.UUID,
        connection_lost_once_at_visibility_read: BackendTerminator,
    ) -> None:
        visible = await repositories.fragments.list_visible_fragments(
            ["theme"], UserId(known_user), DomainId(known_domain)
        )

        assert len(visible) == 4
        assert connection_lost_once_at_visibility_read.attempts == 2
        assert layer_metrics.retries[(*DB_SOURCE, "list_visible_fragments")] == 1
        assert layer_metrics.retries[(*REPOSITORY, "list_visible_fragments")] == 0

    async def test_lost_connection_mid_write_replays_the_whole_transaction(
        self,
        repositories: AppConfigRepositories,
        layer_metrics: RecordingLayerMetrics,
        theme_allowed_everywhere: dict[ScopeType, AllowListRow],
        known_user: uuid.UUID,
        connection_lost_once_at_fragment_insert: BackendTerminator,
    ) -> None:
        creator = FragmentCreator("theme", ScopeRef(ScopeType.USER, known_user), {"a": 1})

        created = await repositories.fragments.create(creator)

        assert created.rank == 100
        assert await repositories.fragments.get_by_id(created.id) == created
        assert layer_metrics.retries[(*DB_SOURCE, "create")] == 1


    async def test_lost_connection_mid_replacement_replays_it(
        self,
        repositories: AppConfigRepositories,
        layer_metrics: RecordingLayerMetrics,
        domain_scoped_fragment: FragmentRow,
        known_domain: uuid.UUID,
        connection_lost_once_mid_fragment_update: None,
    ) -> None:
        replace = FragmentBulkUpserter(
            ScopeRef(ScopeType.DOMAIN, known_domain), [FragmentUpsertItem("theme", {"v": 2})]
        )

        (replaced,) = await repositories.fragments.bulk_upsert(replace)

        assert (replaced.id, replaced.rank, replaced.config) == (
            domain_scoped_fragment.id,
            domain_scoped_fragment.rank,
            {"v": 2},
        )
        assert await repositories.fragments.get_by_id(replaced.id) == replaced
        assert layer_metrics.retries[(*DB_SOURCE, "bulk_upsert")] == 1


class TestAttemptBound:
    async def test_persistent_failure_stops_after_the_bound(
        self,
        repositories: AppConfigRepositories,
        layer_metrics: RecordingLayerMetrics,
        fragments_across_scopes: dict[str, FragmentRow],
        connection_lost_at_every_visibility_read: BackendTerminator,
    ) -> None:
        with pytest.raises(DBAPIError):
            await repositories.fragments.list_visible_fragments(["theme"], None, None)

        assert MAX_ATTEMPTS_PER_REPOSITORY_CALL == DB_SOURCE_MAX_ATTEMPTS == 5
        assert connection_lost_at_every_visibility_read.attempts == MAX_ATTEMPTS_PER_REPOSITORY_CALL
        assert layer_metrics.retries[(*DB_SOURCE, "list_visible_fragments")] == 4
        assert layer_metrics.retries[(*REPOSITORY, "list_visible_fragments")] == 0
        assert layer_metrics.failures[(*REPOSITORY, "list_visible_fragments")] == 1


class TestDomainError:
    async def test_domain_error_is_not_retried(
        self,
        repositories: AppConfigRepositories,
        layer_metrics: RecordingLayerMetrics,
        statement_log: list[str],
    ) -> None:
        creator = FragmentCreator("unregistered", ScopeRef(ScopeType.PUBLIC), {})

        with pytest.raises(AppConfigDefinitionNotFound):
            await repositories.fragments.create(creator)

        assert len(statement_log) == 1
        assert layer_metrics.calls[(*DB_SOURCE, "create")] == 1
        assert layer_metrics.failures[(*DB_SOURCE, "create")] == 1
        assert sum(layer_metrics.retries.values()) == 0


class _DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


class TestTransientClassification:
    @pytest.mark.parametrize(
        ("sqlstate", "transient"),
        [
            ("40001", True),
            ("40P01", True),
            ("57P01", True),
            ("57P03", True),
            ("08006", True),
            ("08003", True),
            ("23505", False),
            ("42P01", False),
            ("22P02", False),
        ],
    )
    def test_by_sqlstate(self, sqlstate: str, transient: bool) -> None:
        error = DBAPIError("SELECT 1", None, _DriverError(sqlstate))

        assert is_transient(error) is transient

    def test_refused_connection_is_transient(self) -> None:
        assert is_transient(ConnectionRefusedError())

    def test_programming_errors_are_not_transient(self) -> None:
        assert not is_transient(KeyError("x"))
