"""Issue 7, property 1: once a write has answered, no reader on any host process sees older data.

Two host processes share one database and one Redis. Four writers bulk-upsert their groups at
the public, domain and user scope in turn (a version per writer, name and scope), eight readers
read the merged views through both processes (six as the user, via my/get, two anonymously via
public/get), and an auditor reads groups back by name. The run must make at least 10,000
requests, and the cache must have served hits (else the check proves nothing about the cache).
"""

from __future__ import annotations

import aiohttp
import pytest
from system_load import ApiClient, LoadGenerator, cache_counts, summarize
from system_stack import ReportScenario, Stack

pytestmark = pytest.mark.heavy

OPERATIONS = 10_500
MAX_SECONDS = 150.0


async def test_no_read_on_either_host_is_older_than_a_write_acknowledged_before_it_began(
    stack: Stack,
    api: ApiClient,
    api_session: aiohttp.ClientSession,
    report_scenario: ReportScenario,
) -> None:
    load = LoadGenerator(api, stack.endpoints, stack.workload, readers=8, auditors=1)
    await load.prime()
    before = await cache_counts(api_session, stack.endpoints)
    async with load.running():
        await load.run_until(OPERATIONS, MAX_SECONDS)
    cache = await cache_counts(api_session, stack.endpoints) - before
    stale = load.stale_reads()
    final_problems = await load.final_state_problems()
    checked = sum(len(read.seen) for read in load.reads)
    report_scenario(
        [
            f"requests {load.count()}: writes {load.count('write')}, reads {load.count('read')},"
            f" public reads {load.count('public-read')}, audits {load.count('audit')}",
            f"key versions checked {checked}; stale reads {len(stale)};"
            f" torn bulks {len(load.torn)}; final-state problems {len(final_problems)}",
            f"cache lookups (per name): hits {cache.hits:.0f}, misses {cache.misses:.0f},"
            f" errors {cache.errors:.0f}",
            *summarize(load.outcomes()),
        ]
    )

    assert load.count() >= 10_000
    assert not load.failures(), load.failures()
    assert not load.unexpected, load.unexpected[:5]
    for host in range(len(stack.hosts)):
        assert load.outcomes(host=host)[("read", "ok")] > 0, f"host{host} served no reads"
    assert cache.hits > 0, "no cached read happened: the check would prove nothing"
    assert not stale, "\n".join(read.describe() for read in stale[:20])
    assert not load.torn, load.torn[:5]
    assert not final_problems, final_problems
    assert stack.unhandled_errors() == {host.name: 0 for host in stack.hosts}
