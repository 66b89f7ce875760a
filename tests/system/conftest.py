"""System tests: real `reference-host serve` processes under load, with faults injected.

Every module builds its own stack: a dedicated database migrated to heads (on the suite's
PostgreSQL server, embedded or external), accounts made with the `reference-host accounts` CLI,
the workload's definitions and allow-list entries made through the API, and two host processes.
Modules that kill Redis start their own embedded Redis. Each scenario adds its figures to a
summary printed at the end of the run ("system scenarios"); docs/reliability.md quotes them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence

import aiohttp
import attrs
import pytest
from system_load import ApiClient
from system_stack import REQUEST_TIMEOUT_SECONDS, ReportScenario, Stack, stack_on_server


@pytest.fixture(scope="module")
def stack(
    request: pytest.FixtureRequest,
    server_database_url: str,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    """Two hosts on a database of the module's own and the suite's Redis (flushed after)."""
    log_dir = tmp_path_factory.mktemp(f"{request.module.__name__}-hosts")
    with stack_on_server(server_database_url, redis_url, log_dir) as stack:
        yield stack


@pytest.fixture
async def api_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0, force_close=False)
    ) as session:
        yield session


@pytest.fixture
def api(api_session: aiohttp.ClientSession) -> ApiClient:
    return ApiClient(api_session, REQUEST_TIMEOUT_SECONDS)


# The scenario summary ----------------------------------------------------------------------------


@attrs.frozen
class ScenarioReport:
    node_id: str
    lines: tuple[str, ...]


REPORTS = pytest.StashKey[list[ScenarioReport]]()


@pytest.fixture
def report_scenario(request: pytest.FixtureRequest) -> ReportScenario:
    """Record this test's figures for the end-of-run summary."""

    def report(lines: Sequence[str]) -> None:
        reports = request.config.stash.setdefault(REPORTS, [])
        reports.append(ScenarioReport(request.node.nodeid, tuple(lines)))

    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    reports = terminalreporter.config.stash.get(REPORTS, [])
    if not reports:
        return
    terminalreporter.section("system scenarios")
    for report in reports:
        terminalreporter.write_line(report.node_id)
        for line in report.lines:
            terminalreporter.write_line(f"    {line}")
