"""Issue 6, point 5(a): Redis killed (SIGKILL) and restarted on the same port under load.

The module runs its own embedded Redis (also when the suite uses an external one: an external
server cannot be killed from here). Two host processes, four writers, eight readers and an
auditor keep going before, during and after the outage. Expected: not one failed request, no
stale read over the whole period, no half-applied bulk, and cached reads again after the restart
without anyone intervening.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import aiohttp
import pytest
from system_hosts import kill_redis, migrated_database, restart_redis
from system_load import ApiClient, LoadGenerator, cache_counts, summarize
from system_stack import ReportScenario, Stack, system_stack

from reference_host.embedded import EmbeddedRedis

pytestmark = pytest.mark.heavy

WARM_SECONDS = 2.0
OUTAGE_SECONDS = 2.0
AFTER_SECONDS = 4.0


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path_factory.mktemp("killable-redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def stack(
    server_database_url: str,
    own_redis: EmbeddedRedis,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    with (
        migrated_database(server_database_url) as database_url,
        system_stack(database_url, own_redis.url, tmp_path_factory.mktemp("redis-hosts")) as stack,
    ):
        yield stack


async def test_killing_and_restarting_redis_fails_no_request_and_serves_no_stale_read(
    stack: Stack,
    own_redis: EmbeddedRedis,
    api: ApiClient,
    api_session: aiohttp.ClientSession,
    report_scenario: ReportScenario,
) -> None:
    load = LoadGenerator(api, stack.endpoints, stack.workload, readers=8, auditors=1)
    await load.prime()
    async with load.running():
        await asyncio.sleep(WARM_SECONDS)
        before_kill = await cache_counts(api_session, stack.endpoints)
        killed_at = time.monotonic()
        port = await asyncio.to_thread(kill_redis, own_redis)
        await asyncio.sleep(OUTAGE_SECONDS)
        during_outage = await cache_counts(api_session, stack.endpoints) - before_kill
        await asyncio.to_thread(restart_redis, own_redis, port)
        back_at = time.monotonic()
        at_restart = await cache_counts(api_session, stack.endpoints)
        await asyncio.sleep(AFTER_SECONDS)
    after_restart = await cache_counts(api_session, stack.endpoints) - at_restart
    stale = load.stale_reads()
    final_problems = await load.final_state_problems()
    requests_during = sum(1 for r in load.requests if killed_at <= r.start < back_at)
    report_scenario(
        [
            f"requests {load.count()} ({requests_during} while Redis was down"
            f" {back_at - killed_at:.1f} s): writes {load.count('write')},"
            f" reads {load.count('read') + load.count('public-read')},"
            f" audits {load.count('audit')}",
            f"failed requests {sum(load.failures().values())}; stale reads {len(stale)};"
            f" torn bulks {len(load.torn)}; final-state problems {len(final_problems)}",
            f"cache while down: errors {during_outage.errors:.0f}, hits {during_outage.hits:.0f};"
            f" after restart: hits {after_restart.hits:.0f}, misses {after_restart.misses:.0f},"
            f" errors {after_restart.errors:.0f}",
            *summarize(load.outcomes()),
        ]
    )

    assert not load.failures(), load.failures()
    assert during_outage.errors > 0, "the outage did not reach the cache"
    assert after_restart.hits > 0, "the cache was not used again after Redis came back"
    assert not stale, "\n".join(read.describe() for read in stale[:20])
    assert not load.torn, load.torn[:5]
    assert not final_problems, final_problems
    assert stack.unhandled_errors() == {host.name: 0 for host in stack.hosts}
