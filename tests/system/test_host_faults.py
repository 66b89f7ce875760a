"""Issue 6, point 5(c): one of two host processes killed (SIGKILL) in the middle of the load.

The load generator keeps talking to both. Requests to the killed host fail by connection error
(counted apart: those in flight when it died, and those sent afterwards); every request to the
survivor succeeds, and no read is stale, no bulk half-applied, no acknowledged write lost.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from system_load import CONNECTION_ERROR, OK, ApiClient, LoadGenerator, summarize
from system_stack import ReportScenario, Stack

pytestmark = pytest.mark.heavy

WARM_SECONDS = 2.0
AFTER_SECONDS = 4.0
SURVIVOR, VICTIM = 0, 1


async def test_killing_one_host_mid_load_leaves_the_other_serving_every_request(
    stack: Stack, api: ApiClient, report_scenario: ReportScenario
) -> None:
    load = LoadGenerator(api, stack.endpoints, stack.workload, readers=8, auditors=1)
    await load.prime()
    async with load.running():
        await asyncio.sleep(WARM_SECONDS)
        killed_at = time.monotonic()
        await asyncio.to_thread(stack.hosts[VICTIM].kill)
        await asyncio.sleep(AFTER_SECONDS)
    to_victim = [r for r in load.requests if r.host == VICTIM]
    in_flight = [r for r in to_victim if r.start < killed_at <= r.end and r.outcome != OK]
    sent_after = [r for r in to_victim if r.start >= killed_at]
    survivor_after = [r for r in load.requests if r.host == SURVIVOR and r.start >= killed_at]
    stale = load.stale_reads()
    final_problems = await load.final_state_problems(host=SURVIVOR)
    report_scenario(
        [
            f"requests {load.count()}: writes {load.count('write')},"
            f" reads {load.count('read') + load.count('public-read')},"
            f" audits {load.count('audit')}",
            f"killed host: {len(in_flight)} requests in flight failed,"
            f" {len(sent_after)} sent afterwards"
            f" ({sum(r.outcome == CONNECTION_ERROR for r in sent_after)} connection errors)",
            f"survivor: {len(survivor_after)} requests after the kill,"
            f" failures {dict(load.failures(host=SURVIVOR)) or 'none'}",
            f"stale reads {len(stale)}; torn bulks {len(load.torn)};"
            f" final-state problems (lost or half-applied) {len(final_problems)}",
            *(
                f"host{host} {line}"
                for host in (SURVIVOR, VICTIM)
                for line in summarize(load.outcomes(host=host))
            ),
        ]
    )

    assert not stack.hosts[VICTIM].is_alive()
    assert not load.failures(host=SURVIVOR), load.failures(host=SURVIVOR)
    assert survivor_after and all(r.outcome == OK for r in survivor_after)
    assert sent_after, "nothing was sent to the killed host: the scenario proves nothing"
    assert {r.outcome for r in to_victim} <= {OK, CONNECTION_ERROR}
    assert all(r.outcome == CONNECTION_ERROR for r in sent_after)
    assert not stale, "\n".join(read.describe() for read in stale[:20])
    assert not load.torn, load.torn[:5]
    assert not final_problems, final_problems
    assert stack.hosts[SURVIVOR].unhandled_errors() == 0
