"""Benchmark `AppConfigFragmentRepository.list_visible_fragments` on a large table (issue 3).

    python -m bench.visible_fragments [--fragments 1000000] [--database-url URL]

Starts an embedded PostgreSQL in a temporary directory (or uses the server at `--database-url`),
creates a throw-away database there, migrates it to heads, bulk-loads 100 definitions, an
allow-list entry per name and scope type, 100 domains, 10,000 users and the fragments (public,
domain_user_defaults, domain, then user scope up to `--fragments`) with COPY, runs VACUUM ANALYZE,
then times the real repository for 1 and 20 names over random users and prints the
`EXPLAIN (ANALYZE, BUFFERS)` plan of the 20-name statement. The report (Markdown) goes to stdout
and to bench/results/visible_fragments.md; the database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import random
import re
import shlex
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg  # asyncpg ships no type information
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

import scoped_app_config
from bench.dataset import scoped_fragment_records
from reference_host import migrate
from reference_host.contract import AccountView, Role
from reference_host.embedded import EmbeddedPostgres
from reference_host.servers import normalize_database_url
from scoped_app_config.domain.types import DEFAULT_ALLOW_LIST_RANKS, DomainId, UserId
from scoped_app_config.repositories.base.db_source import create_session_factory
from scoped_app_config.repositories.fragment import (
    AppConfigFragmentDBSource,
    AppConfigFragmentRepository,
)

NAMES = 100
DOMAINS = 100
USERS = 10_000
VERSIONS = Path(scoped_app_config.__file__).parent / "migrations" / "versions"
RESULTS = Path(__file__).parent / "results" / "visible_fragments.md"
FRAGMENTS = "app_config_fragments"


class NoOpLayerMetrics:
    """Implements `contract.LayerMetrics` and records nothing."""

    def observe(
        self, *, domain: str, layer: str, operation: str
    ) -> AbstractAsyncContextManager[None]:
        return _nothing()

    def count_retry(self, *, domain: str, layer: str, operation: str) -> None:
        return None


@asynccontextmanager
async def _nothing() -> AsyncIterator[None]:
    yield


class InMemoryAccountDirectory:
    """Implements `contract.AccountDirectory` over the generated domains and users."""

    def __init__(self, domains: Sequence[uuid.UUID], users: dict[uuid.UUID, uuid.UUID]) -> None:
        self._domains = set(domains)
        self._users = users

    async def domain_exists(self, domain_id: uuid.UUID) -> bool:
        return domain_id in self._domains

    async def find_user(self, user_id: uuid.UUID) -> AccountView | None:
        domain_id = self._users.get(user_id)
        if domain_id is None:
            return None
        return AccountView(user_id=user_id, domain_id=domain_id, role=Role.USER)


# --- data ------------------------------------------------------------------------------------


def _config_bodies(rng: random.Random, count: int = 512) -> list[str]:
    """Nested JSON objects of about 200 B to 4 KiB (serialized without the opening brace)."""
    bodies = []
    for index in range(count):
        widgets = [
            {
                "id": f"w{index}-{n}",
                "visible": rng.random() < 0.8,
                "position": {"x": rng.randrange(1000), "y": rng.randrange(1000)},
                "options": {"label": f"label-{rng.getrandbits(32):08x}", "size": rng.randrange(64)},
            }
            for n in range(rng.choice((1, 2, 4, 8, 16, 32)))
        ]
        document = {
            "theme": {"color": f"#{rng.getrandbits(24):06x}", "dark": rng.random() < 0.5},
            "layout": {"sidebar": rng.choice(("left", "right", "none")), "widgets": widgets},
        }
        bodies.append(json.dumps(document, separators=(",", ":"))[1:])
    return bodies


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _load(
    url: str,
    total: int,
    names: Sequence[str],
    domains: Sequence[uuid.UUID],
    users: dict[uuid.UUID, uuid.UUID],
    rng: random.Random,
) -> dict[str, float]:
    """COPY every table in one transaction; returns seconds per phase."""
    timings: dict[str, float] = {}
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await connection.execute("SET synchronous_commit = off")
        started = time.perf_counter()
        async with connection.transaction():
            await connection.copy_records_to_table(
                "domains",
                records=[(domain, f"bench-domain-{i:03}") for i, domain in enumerate(domains)],
                columns=["id", "name"],
            )
            await connection.copy_records_to_table(
                "users",
                records=[
                    (user, f"bench-user-{i:05}@example.com", "user", domain, "active")
                    for i, (user, domain) in enumerate(users.items())
                ],
                columns=["id", "email", "role", "domain_id", "status"],
            )
            await connection.copy_records_to_table(
                "app_config_definitions",
                records=[(name,) for name in names],
                columns=["config_name"],
            )
            await connection.copy_records_to_table(
                "app_config_allow_list",
                records=[
                    (name, scope_type.value, rank)
                    for name in names
                    for scope_type, rank in DEFAULT_ALLOW_LIST_RANKS.items()
                ],
                columns=["config_name", "scope_type", "rank"],
            )
            timings["accounts, definitions, allow-list"] = time.perf_counter() - started
            started = time.perf_counter()
            bodies = _config_bodies(rng)
            await connection.copy_records_to_table(
                FRAGMENTS,
                records=scoped_fragment_records(
                    total,
                    names,
                    domains,
                    list(users),
                    lambda serial: f'{{"serial":{serial},{bodies[serial % len(bodies)]}',
                ),
                columns=["config_name", "scope_type", "scope_id", "rank", "config"],
            )
            timings["fragments (COPY)"] = time.perf_counter() - started
        started = time.perf_counter()
        await connection.execute("VACUUM (ANALYZE)")
        timings["VACUUM ANALYZE"] = time.perf_counter() - started
    finally:
        await connection.close()
    return timings


# --- measurement -----------------------------------------------------------------------------


async def _time_calls(
    repository: AppConfigFragmentRepository,
    names: Sequence[str],
    accounts: Sequence[tuple[uuid.UUID, uuid.UUID]],
    name_count: int,
    calls: int,
    rng: random.Random,
) -> tuple[list[float], int, int]:
    """Latencies (ms) of `calls` calls, fragments returned, and full (gen-2) GC runs meanwhile."""
    latencies: list[float] = []
    returned = 0
    full_collections = gc.get_stats()[2]["collections"]
    for _ in range(calls):
        user_id, domain_id = rng.choice(accounts)
        chosen = rng.sample(names, name_count)
        started = time.perf_counter()
        fragments = await repository.list_visible_fragments(
            chosen, UserId(user_id), DomainId(domain_id)
        )
        latencies.append((time.perf_counter() - started) * 1000)
        returned += len(fragments)
    return latencies, returned, gc.get_stats()[2]["collections"] - full_collections


async def _explain(
    engine: AsyncEngine,
    repository: AppConfigFragmentRepository,
    names: Sequence[str],
    account: tuple[uuid.UUID, uuid.UUID],
) -> str:
    """`EXPLAIN (ANALYZE, BUFFERS)` of exactly the statement the repository sends."""
    captured: list[tuple[str, Any]] = []

    def record(*args: Any) -> None:
        statement, parameters = args[2], args[3]
        if FRAGMENTS in statement:
            captured.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        await repository.list_visible_fragments(names, UserId(account[0]), DomainId(account[1]))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    if len(captured) != 1:
        raise RuntimeError(f"expected one statement, saw {len(captured)}")
    statement, parameters = captured[0]
    async with engine.connect() as connection:
        result = await connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters
        )
        return "\n".join(str(row[0]) for row in result)


def _summary(latencies: Sequence[float]) -> tuple[float, float, float]:
    percentiles = statistics.quantiles(latencies, n=100, method="inclusive")
    return percentiles[49], percentiles[98], statistics.fmean(latencies)


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


async def _server_facts(engine: AsyncEngine) -> dict[str, str]:
    async with engine.connect() as connection:
        version = await connection.exec_driver_sql("SHOW server_version")
        buffers = await connection.exec_driver_sql("SHOW shared_buffers")
        size = await connection.exec_driver_sql(
            f"SELECT pg_size_pretty(pg_total_relation_size('{FRAGMENTS}')),"
            f" (SELECT count(*) FROM {FRAGMENTS})"
        )
        table_size, count = tuple(size.one())
        return {
            "version": str(version.scalar()),
            "shared_buffers": str(buffers.scalar()),
            "table_size": str(table_size),
            "count": str(count),
        }


def _seq_scan_verdict(plan: str) -> str:
    scanned = sorted(set(re.findall(r"Seq Scan on (\w+)", plan)))
    if FRAGMENTS in scanned:
        return f"**Seq Scan on {FRAGMENTS}: YES** (sequential scans: {', '.join(scanned)})"
    others = (
        f"; sequential scans only of {', '.join(scanned)} (400 rows: the allow-list, fine)"
        if scanned
        else "; no sequential scan at all"
    )
    return f"No Seq Scan on {FRAGMENTS}{others}."


async def _benchmark(url: str, args: argparse.Namespace) -> str:
    rng = random.Random(args.seed)
    names = [f"bench_config_{i:03}" for i in range(NAMES)]
    domains = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(DOMAINS)]
    users = {
        uuid.UUID(int=rng.getrandbits(128), version=4): domains[i % DOMAINS] for i in range(USERS)
    }
    accounts = list(users.items())

    started = time.perf_counter()
    # Alembic's env runs its own event loop: off this one.
    await asyncio.to_thread(migrate.upgrade, url, [VERSIONS], "heads")
    migrate_seconds = time.perf_counter() - started
    print(
        f"migrated in {migrate_seconds:.1f} s; loading {args.fragments:,} fragments ...",
        file=sys.stderr,
    )
    timings = await _load(url, args.fragments, names, domains, users, rng)
    print(f"loaded: {timings}", file=sys.stderr)

    engine = create_async_engine(url, pool_size=2)
    try:
        sessions = create_session_factory(engine)
        metrics = NoOpLayerMetrics()
        repository = AppConfigFragmentRepository(
            AppConfigFragmentDBSource(sessions, metrics),
            InMemoryAccountDirectory(domains, users),
            metrics,
        )
        await _time_calls(repository, names, accounts, 20, args.warmup, rng)
        rows: list[str] = []
        for collector in ("on", "off"):
            if collector == "off":
                gc.disable()
            try:
                for name_count in (1, 20):
                    latencies, returned, full_collections = await _time_calls(
                        repository, names, accounts, name_count, args.calls, rng
                    )
                    p50, p99, mean = _summary(latencies)
                    rows.append(
                        f"| {name_count} | {collector} | {args.calls:,} | {p50:.2f} | {p99:.2f} "
                        f"| {mean:.2f} | {returned / args.calls:.1f} | {full_collections} |"
                    )
                    print(
                        f"{name_count} names, GC {collector}: p50 {p50:.2f} ms, p99 {p99:.2f} ms",
                        file=sys.stderr,
                    )
            finally:
                gc.enable()
        plan = await _explain(engine, repository, rng.sample(names, 20), rng.choice(accounts))
        facts = await _server_facts(engine)
    finally:
        await engine.dispose()

    load_total = sum(value for key, value in timings.items() if key != "VACUUM ANALYZE")
    load_lines = "\n".join(f"| {phase} | {seconds:.1f} |" for phase, seconds in timings.items())
    command = shlex.join(["python", "-m", "bench.visible_fragments", *sys.argv[1:]])
    return f"""## list_visible_fragments benchmark

- Command: `{command}`
- Machine: {os.cpu_count()} CPUs (`nproc` {len(os.sched_getaffinity(0))}), {_memory()} RAM,
  {platform.platform()}; Python {platform.python_version()}
- PostgreSQL {facts["version"]} ({"embedded" if args.database_url is None else "external"},
  shared_buffers {facts["shared_buffers"]}); {facts["count"]} fragments, table with indexes and
  TOAST {facts["table_size"]}; {NAMES} names, {DOMAINS} domains, {USERS:,} users
- Load: {load_total:.1f} s (COPY, one transaction), then VACUUM ANALYZE; migrations
  {migrate_seconds:.1f} s

| phase | seconds |
|---|---|
{load_lines}

Latency of `AppConfigFragmentRepository.list_visible_fragments` (real repository, one statement,
random user and names per call, sequential calls after {args.warmup} warm-up calls):

| names | CPython GC | calls | p50 ms | p99 ms | mean ms | rows (mean) | full GC runs |
|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

Latency is what the caller sees: statement, rows, JSON decoding and domain objects. A full
(gen-2) CPython GC run pauses the process for tens of ms on a small machine; once such runs reach
about 1% of the calls, p99 measures the collector rather than PostgreSQL. The "off" rows repeat
the measurement with the cyclic collector disabled to separate the two (compare the plan's
execution time).

Plan for 20 names: {_seq_scan_verdict(plan)}

```
{plan}
```
"""


def _parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.visible_fragments")
    parser.add_argument("--fragments", type=int, default=1_000_000)
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server to use (a database is created and dropped there); "
        "default: an embedded server in a temporary directory",
    )
    parser.add_argument("--calls", type=int, default=2000, help="timed calls per name count")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--seed", type=int, default=3)
    return parser.parse_args(argv)


async def _with_database(server_url: str, args: argparse.Namespace) -> str:
    name = f"sac_bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_asyncpg_dsn(server_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
        return await _benchmark(url, args)
    finally:
        admin = await asyncpg.connect(_asyncpg_dsn(server_url))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def main(argv: Sequence[str] | None = None) -> None:
    args = _parse(argv)
    if args.database_url is not None:
        report = asyncio.run(_with_database(normalize_database_url(args.database_url), args))
    else:
        work_dir = Path(tempfile.mkdtemp(prefix="sac-bench-"))
        server = EmbeddedPostgres(work_dir / "pg")
        try:
            server.start()
            report = asyncio.run(_with_database(server.url, args))
        finally:
            server.stop()
            shutil.rmtree(work_dir, ignore_errors=True)
    print(report)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(report)


if __name__ == "__main__":
    main()
