"""Issue 6, point 5(b): the database's connections terminated, and the database restarted.

Two host processes under steady read and write load. Requests in flight must either succeed
(the db_source retries transient failures) or fail cleanly: a 500 or 503 problem+json, never a
dropped connection, a hang or a body that is not problem+json. Afterwards no bulk upsert is half
applied, no acknowledged write is lost, no read is stale, and requests succeed again within a
few seconds without anyone intervening.

The restart case needs a PostgreSQL server of its own (EmbeddedPostgres.restart()); against an
external server it is skipped.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator

import pytest
from system_hosts import terminate_connections
from system_load import OK, ApiClient, LoadGenerator, summarize
from system_stack import ReportScenario, Stack, stack_on_server

from reference_host.embedded import EmbeddedPostgres

pytestmark = pytest.mark.heavy

WARM_SECONDS = 1.5
TERMINATE_ROUNDS = 3
TERMINATE_INTERVAL_SECONDS = 0.7
AFTER_SECONDS = 4.0
RECOVERY_LIMIT_SECONDS = 5.0
CLEAN_FAILURES = frozenset({"500 internal-server-error", "503 service-unavailable"})


@pytest.fixture(scope="module")
def own_postgres(
    embedded_postgres: EmbeddedPostgres | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmbeddedPostgres]:
    if embedded_postgres is None:
        pytest.skip(
            "the database-restart scenario restarts a PostgreSQL server of its own and the suite"
            " runs on an external server (REFERENCE_HOST_DATABASE_URL): skipped"
        )
    server = EmbeddedPostgres(tmp_path_factory.mktemp("restartable-pg"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def restartable_stack(
    own_postgres: EmbeddedPostgres, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    log_dir = tmp_path_factory.mktemp("restart-hosts")
    with stack_on_server(own_postgres.url, redis_url, log_dir) as stack:
        yield stack


async def run_fault(
    load: LoadGenerator, fault: Callable[[], Awaitable[None]]
) -> tuple[float, float, float | None]:
    """Load, the fault, more load: (fault began, fault ended, end of the last failed request)."""
    await load.prime()
    async with load.running():
        await asyncio.sleep(WARM_SECONDS)
        began = time.monotonic()
        await fault()
        ended = time.monotonic()
        await asyncio.sleep(AFTER_SECONDS)
    return began, ended, load.last_failure_end(began)


async def check_and_report(
    load: LoadGenerator,
    stack: Stack,
    report_scenario: ReportScenario,
    window: tuple[float, float, float | None],
    fault_figures: str,
) -> None:
    began, ended, last_failure = window
    recovered_after = 0.0 if last_failure is None else max(0.0, last_failure - ended)
    failures = load.failures()
    unclean = Counter(
        {
            failure: count
            for failure, count in failures.items()
            if failure.split(" ", 1)[1] not in CLEAN_FAILURES
        }
    )
    stale = load.stale_reads()
    final_problems = await load.final_state_problems()
    in_window = [r for r in load.requests if began <= r.start <= ended]
    report_scenario(
        [
            fault_figures,
            f"requests {load.count()} ({len(in_window)} began during the fault):"
            f" writes {load.count('write')},"
            f" reads {load.count('read') + load.count('public-read')},"
            f" audits {load.count('audit')}",
            f"failed {sum(failures.values())}: {dict(failures) or 'none'}",
            f"unclean failures {sum(unclean.values())};"
            f" bare 500s with a traceback in the host logs {stack.unhandled_errors()}",
            f"stale reads {len(stale)}; torn bulks {len(load.torn)};"
            f" final-state problems (lost or half-applied) {len(final_problems)}",
            f"last failure {recovered_after:.2f} s after the fault ended;"
            f" {load.succeeded_after(ended + recovered_after)} requests succeeded after that",
            *summarize(load.outcomes()),
        ]
    )

    assert not unclean, f"failures that are not a clean 500/503 problem+json: {unclean}"
    assert not load.torn, load.torn[:5]
    assert not final_problems, final_problems
    assert not stale, "\n".join(read.describe() for read in stale[:20])
    assert recovered_after <= RECOVERY_LIMIT_SECONDS, f"still failing {recovered_after:.1f} s on"
    assert load.succeeded_after(ended + recovered_after) > 0
    for host in range(len(stack.hosts)):
        kinds_ok = {kind for (kind, outcome) in load.outcomes(host=host) if outcome == OK}
        assert kinds_ok >= {"write", "read"}, f"host{host} never served: {kinds_ok}"


async def test_terminated_database_connections_fail_requests_cleanly_and_lose_no_write(
    stack: Stack, api: ApiClient, report_scenario: ReportScenario
) -> None:
    load = LoadGenerator(api, stack.endpoints, stack.workload, readers=8, auditors=1)
    ended_sessions: list[int] = []

    async def terminate_repeatedly() -> None:
        for _ in range(TERMINATE_ROUNDS):
            ended_sessions.append(await terminate_connections(stack.database_url))
            await asyncio.sleep(TERMINATE_INTERVAL_SECONDS)

    window = await run_fault(load, terminate_repeatedly)
    await check_and_report(
        load,
        stack,
        report_scenario,
        window,
        f"pg_terminate_backend x{TERMINATE_ROUNDS}: sessions ended {ended_sessions}",
    )


async def test_a_database_restart_fails_requests_cleanly_and_the_service_recovers_by_itself(
    restartable_stack: Stack,
    own_postgres: EmbeddedPostgres,
    api: ApiClient,
    report_scenario: ReportScenario,
) -> None:
    stack = restartable_stack
    load = LoadGenerator(api, stack.endpoints, stack.workload, readers=8, auditors=1)
    durations: list[float] = []

    async def restart() -> None:
        started = time.monotonic()
        await asyncio.to_thread(own_postgres.restart)
        durations.append(time.monotonic() - started)

    window = await run_fault(load, restart)
    await check_and_report(
        load,
        stack,
        report_scenario,
        window,
        f"PostgreSQL restarted (pg_ctl stop -m fast, start) in {durations[0]:.2f} s",
    )
