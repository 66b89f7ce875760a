"""`make bench`: the reference host with this plugin, measured side by side with its ceilings.

    python -m bench.run [--fragments N] [--duration S] [--connections 1,32,128] [--workers N]
                        [--database-url URL] [--redis-url URL] [--no-wrk] [--profile]

One run, one machine: starts PostgreSQL and Redis (embedded in a temporary directory, or the
servers of REFERENCE_HOST_DATABASE_URL / REFERENCE_HOST_REDIS_URL, where it creates and drops its
own database), migrates with `reference-host db upgrade`, bulk-loads the data set (bench/dataset.py)
with COPY, then measures with `wrk` (or the bundled asyncio generator, in its own process):

  (a) bare aiohttp, fixed ~1 KiB JSON           (b) bare aiohttp, one Redis GET
  (c) warm merged read, 3 names, signed, cache on
  (d) the same with the cache off (`serve --no-redis`: one SQL statement per read)
  (e) anonymous public read, 3 names
  (f) single-fragment upsert throughput; reads of (c) while a side process writes at 100/s
  (g) invalidation of the public scope with 10 vs 100,000 cached views (in process, median)

and writes bench/REPORT.md and bench/REPORT.json (see bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import os
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any, cast

import aiohttp
import orjson
from redis.asyncio import BlockingConnectionPool, Redis

from bench import dataset as ds
from bench import loadgen, report
from bench.loadgen import LoadResult, SpecRequest
from bench.servers import (
    REPO_ROOT,
    ServerProcess,
    asyncpg_dsn,
    baseline_command,
    free_port,
    host_cli,
    host_command,
    postgres,
    redis,
    redis_url_with_db,
    running,
)
from reference_host.client import API_VERSION, signed_headers
from scoped_app_config.domain.types import ScopeType
from scoped_app_config.repositories.fragment.cache_source import (
    AppConfigFragmentCacheSource,
    Viewer,
)

MY_GET = "/v2/app-config/my/get"
PUBLIC_GET = "/v2/app-config/public/get"
MY_UPSERT = "/v2/app-config-fragments/my/bulk-upsert"
BASELINE_PATH = "/baseline"
BASELINE_KEY = "bench:baseline"
PROBE_BODY = b'{"config_names":["bench_config_000"]}'
BENCH_DIR = Path(__file__).resolve().parent


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- request specs -----------------------------------------------------------------------------


def _body(value: Any) -> str:
    return orjson.dumps(value).decode()


def merged_read_spec(data: ds.Dataset, base_url: str, users: int) -> list[SpecRequest]:
    """(c)/(d): each user asks for its three names, signed now (valid 15 minutes)."""
    return [
        SpecRequest(
            method="POST",
            path=MY_GET,
            headers=signed_headers(
                "POST",
                MY_GET,
                endpoint=base_url,
                access_key=user.access_key,
                secret_key=user.secret_key,
            ),
            body=_body({"config_names": data.read_names(user)}),
        )
        for user in data.users[:users]
    ]


def public_read_spec(data: ds.Dataset) -> list[SpecRequest]:
    """(e): anonymous reads of three consecutive names, every name in turn."""
    count = len(data.names)
    return [
        SpecRequest(
            method="POST",
            path=PUBLIC_GET,
            headers={"Content-Type": "application/json"},
            body=_body({"config_names": [data.names[(i + k) % count] for k in range(3)]}),
        )
        for i in range(count)
    ]


def upsert_spec(data: ds.Dataset, base_url: str, users: int) -> list[SpecRequest]:
    """(f): one item per request at the caller's user scope, a few KiB of nested JSON."""
    return [
        SpecRequest(
            method="POST",
            path=MY_UPSERT,
            headers=signed_headers(
                "POST",
                MY_UPSERT,
                endpoint=base_url,
                access_key=user.access_key,
                secret_key=user.secret_key,
            ),
            body=(
                f'{{"items":[{{"config_name":"{data.write_name(user)}",'
                f'"config":{data.write_body(1_000_000 + user.index)}}}]}}'
            ),
        )
        for user in data.users[:users]
    ]


def baseline_spec(data: ds.Dataset) -> list[SpecRequest]:
    """(a)/(b): the same POST body shape as a merged read, no signature."""
    return [
        SpecRequest(
            method="POST",
            path=BASELINE_PATH,
            headers={"Content-Type": "application/json"},
            body=_body({"config_names": data.read_names(data.users[0])}),
        )
    ]


# --- measuring ---------------------------------------------------------------------------------


class Driver:
    def __init__(self, args: argparse.Namespace, work_dir: Path) -> None:
        self.use_wrk = not args.no_wrk and loadgen.wrk_path() is not None
        self.args = args
        self.work_dir = work_dir

    @property
    def name(self) -> str:
        return "wrk" if self.use_wrk else "asyncio (bench/loadgen.py, own process)"

    def measure(
        self, spec: Sequence[SpecRequest], base_url: str, connections: int, duration: float
    ) -> LoadResult:
        """One measurement, noting the machine's 1-minute load average before it."""
        load_before = os.getloadavg()[0]
        result = self._measure(spec, base_url, connections, duration)
        result["loadavg_1m_before"] = load_before
        return result

    def _measure(
        self, spec: Sequence[SpecRequest], base_url: str, connections: int, duration: float
    ) -> LoadResult:
        if self.use_wrk:
            return loadgen.run_wrk(
                spec,
                base_url,
                connections=connections,
                duration=duration,
                threads=self.args.wrk_threads,
                api_version=API_VERSION,
            )
        process = self.start_asyncio(spec, base_url, connections=connections, duration=duration)
        return loadgen.collect(process, timeout=duration + 120)

    def start_asyncio(
        self,
        spec: Sequence[SpecRequest],
        base_url: str,
        *,
        connections: int,
        duration: float,
        rate: float | None = None,
        once: bool = False,
    ) -> Any:
        path = Path(tempfile.mkstemp(prefix="spec-", suffix=".jsonl", dir=self.work_dir)[1])
        loadgen.write_spec(path, spec)
        return loadgen.run_asyncio_process(
            path, base_url, connections=connections, duration=duration, rate=rate, once=once
        )

    def once(self, spec: Sequence[SpecRequest], base_url: str, connections: int) -> LoadResult:
        """Send every request once (cache warming): always the asyncio generator."""
        process = self.start_asyncio(spec, base_url, connections=connections, duration=0, once=True)
        return loadgen.collect(process, timeout=1800)


def series(
    driver: Driver,
    label: str,
    spec_factory: Callable[[], Sequence[SpecRequest]],
    base_url: str,
    args: argparse.Namespace,
) -> dict[str, LoadResult]:
    """One scenario at every connection count (signed afresh per run), after a short warm-up."""
    runs: dict[str, LoadResult] = {}
    if args.warmup > 0:
        driver.measure(spec_factory(), base_url, min(32, max(args.connections)), args.warmup)
    for connections in args.connections:
        result = driver.measure(spec_factory(), base_url, connections, args.duration)
        runs[str(connections)] = result
        log(
            f"{label} c={connections}: {result['rps']:.0f} req/s, p50 {result['p50_ms']:.2f} ms,"
            f" p99 {result['p99_ms']:.2f} ms, errors {result['errors']}"
        )
    return runs


Target = tuple[str, Callable[[], Sequence[SpecRequest]], str]
"""(label, request spec factory, base URL) of one scenario measured in `interleaved`."""


def interleaved(
    driver: Driver, targets: dict[str, Target], args: argparse.Namespace
) -> dict[str, dict[str, LoadResult]]:
    """Measure several scenarios in alternating rounds (a, b, c, a, b, c, ...) at each
    connection count and keep each scenario's median round. The machine is shared and its
    speed drifts over minutes; scenarios measured one after another would carry that drift
    into their ratios, alternating rounds spread it over all of them alike."""
    if args.warmup > 0:
        for _, spec_factory, base_url in targets.values():
            driver.measure(spec_factory(), base_url, min(32, max(args.connections)), args.warmup)
    runs: dict[str, dict[str, LoadResult]] = {key: {} for key in targets}
    for connections in args.connections:
        rounds: dict[str, list[LoadResult]] = {key: [] for key in targets}
        for _ in range(args.rounds):
            for key, (_, spec_factory, base_url) in targets.items():
                rounds[key].append(
                    driver.measure(spec_factory(), base_url, connections, args.duration)
                )
        for key, (label, _, _) in targets.items():
            ordered = sorted(rounds[key], key=lambda run: run["rps"])
            median: dict[str, Any] = dict(ordered[len(ordered) // 2])
            median["rounds_rps"] = [run["rps"] for run in rounds[key]]
            runs[key][str(connections)] = cast(LoadResult, median)
            rates = ", ".join(f"{rate:.0f}" for rate in median["rounds_rps"])
            log(
                f"{label} c={connections}: {median['rps']:.0f} req/s (median of {rates}),"
                f" p50 {median['p50_ms']:.2f} ms, p99 {median['p99_ms']:.2f} ms,"
                f" errors {sum(run['errors'] for run in rounds[key])}"
            )
    return runs


async def _fetch(base_url: str, request: SpecRequest) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            request["method"],
            base_url + request["path"],
            data=request["body"].encode(),
            headers=request["headers"],
        ) as response,
    ):
        return response.status, await response.read()


def fetch(base_url: str, request: SpecRequest) -> bytes:
    status, body = asyncio.run(_fetch(base_url, request))
    if status >= 300:
        raise RuntimeError(f"{request['path']} answered {status}: {body[:500]!r}")
    return body


async def _redis_set(url: str, key: str, value: bytes) -> None:
    client = Redis.from_url(url)
    try:
        await client.set(key, value)
    finally:
        await client.aclose()


async def _redis_version(url: str) -> str:
    client = Redis.from_url(url)
    try:
        info = await client.info("server")
        return str(info.get("redis_version", "unknown"))
    finally:
        await client.aclose()


def warm(driver: Driver, spec: Sequence[SpecRequest], base_url: str, what: str) -> LoadResult:
    """Read every view once, with few connections: under heavy load the host's 50 ms cache
    timeout fires and the views would not be stored (see the report's notes)."""
    result = driver.once(spec, base_url, connections=driver.args.warm_connections)
    log(
        f"warmed {what}: {result['requests']} requests in {result['duration_s']:.1f} s,"
        f" errors {result['errors']} {result['error_detail'] or ''}"
    )
    if result["errors"]:
        raise RuntimeError(f"warming {what} failed: {result['error_detail']}")
    return result


def profile(
    driver: Driver,
    host: ServerProcess,
    spec: Sequence[SpecRequest],
    connections: int,
    args: argparse.Namespace,
    out: Path,
) -> dict[str, Any] | None:
    """Sample the host with py-spy while (c) runs (an extra run, not in the figures)."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        log("--profile: py-spy not found (pip install py-spy); skipped")
        return None
    raw = out.with_suffix(".txt")
    raw.parent.mkdir(parents=True, exist_ok=True)
    command = [
        py_spy, "record", "--pid", str(host.pid), "--subprocesses", "--rate", "250",
        "--duration", str(int(args.duration)), "--format", "raw", "--output", str(raw),
        "--nonblocking",
    ]
    import subprocess

    sampler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)
    result = driver.measure(spec, host.base_url, connections, args.duration)
    _, err = sampler.communicate(timeout=args.duration + 60)
    if not raw.exists():
        log(f"py-spy wrote nothing: {err.decode(errors='replace')[-500:]}")
        return None
    summary = report.summarise_profile(raw.read_text())
    summary["load"] = result
    summary["raw_profile"] = str(raw.relative_to(REPO_ROOT))
    log(f"profile written to {raw}")
    return summary


# --- (g) invalidation --------------------------------------------------------------------------


async def _set_calls(client: Redis) -> int:
    """How many SET commands the Redis server has executed (INFO commandstats)."""
    stats = await client.info("commandstats")
    return int(stats.get("cmdstat_set", {}).get("calls", 0))


async def invalidation(
    redis_url: str, data: ds.Dataset, sizes: Sequence[int], repeats: int
) -> dict[str, Any]:
    """Median time of `invalidate_for_scope(PUBLIC, None)` with `size` merged views cached
    (stored through `set_merged_configs` under the tags a real lookup issued), and a check that
    a view cached before the bump is no longer served after it."""
    # A blocking pool: the populating batches wait for a connection rather than fail.
    client = Redis(connection_pool=BlockingConnectionPool.from_url(redis_url, max_connections=32))
    source = AppConfigFragmentCacheSource(client, ttl_seconds=3600)
    view = orjson.dumps({"bench": {"theme": {"color": "#123456"}}, "pad": "x" * 900})
    names_per_user = 10
    results: dict[str, Any] = {}

    async def populate(user: ds.BenchUser, count: int) -> None:
        lookup = await source.get_merged_configs(
            Viewer(user.user_id, user.domain_id), list(data.names[:count])
        )
        await source.set_merged_configs(lookup, dict.fromkeys(lookup.tags, view))

    try:
        for size in sorted(sizes):
            await client.flushdb()
            started = time.perf_counter()
            pending = []
            for start in range(0, size, names_per_user):
                pending.append(
                    populate(data.users[start // names_per_user], min(names_per_user, size - start))
                )
                if len(pending) >= 64:
                    await asyncio.gather(*pending)
                    pending = []
            await asyncio.gather(*pending)
            populate_s = time.perf_counter() - started
            views = 0
            async for _ in client.scan_iter(match="app_config:merged:*", count=5000):
                views += 1
            sample = Viewer(data.users[0].user_id, data.users[0].domain_id)
            hits_before = len((await source.get_merged_configs(sample, [data.names[0]])).hits)
            # Let the populating burst settle (collector, Redis background work) before timing.
            gc.collect()
            await asyncio.sleep(0.5)
            sets_before = await _set_calls(client)
            timings: list[float] = []
            for _ in range(repeats):
                began = time.perf_counter()
                await source.invalidate_for_scope(ScopeType.PUBLIC, None)
                timings.append((time.perf_counter() - began) * 1000)
            commands_per_invalidation = (await _set_calls(client) - sets_before) / repeats
            hits_after = len((await source.get_merged_configs(sample, [data.names[0]])).hits)
            ordered = sorted(timings)
            entry = {
                "views": views,
                "repeats": repeats,
                "median_ms": statistics.median(timings),
                "p90_ms": loadgen.percentile(ordered, 0.90),
                "max_ms": ordered[-1],
                "populate_s": populate_s,
                "redis_commands_per_invalidation": commands_per_invalidation,
                "hit_before": hits_before == 1,
                "stale_after": hits_after == 0,
            }
            results[str(size)] = entry
            log(
                f"(g) {views} views: invalidate median {entry['median_ms']:.3f} ms,"
                f" hit before {entry['hit_before']}, stale after {entry['stale_after']}"
            )
        await client.flushdb()
    finally:
        await client.aclose()
    return results


# --- main --------------------------------------------------------------------------------------


def _connections(value: str) -> list[int]:
    return [int(part) for part in value.split(",") if part.strip()]


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--fragments", type=int, default=100_000,
                        help="fragments in total (default 100,000; the big variant: 1000000)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=2.0,
                        help="seconds of unrecorded load before each scenario")
    parser.add_argument("--connections", type=_connections, default=[1, 32, 128])
    parser.add_argument("--mixed-rounds", type=int, default=5,
                        help="ABBA rounds of (f)'s reads, read-only and under writes; the round"
                        " with the median ratio is reported (one round spans ~45 s, and the"
                        " machine's drift within it moved single rounds from 0.63 to 0.96)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating rounds of (a), (b), (c) per connection count; each"
                        " scenario reports its median round")
    parser.add_argument("--workers", type=int, default=1, help="host (and baseline) processes")
    parser.add_argument("--read-users", type=int, default=ds.USERS,
                        help="users the merged reads are spread over (default all 10,000)")
    parser.add_argument("--hot-users", type=int, default=100,
                        help="also measure (c) over only this many users: a small working set"
                        " (keys, views, credentials), against (c)'s 10,000 users (0: skip)")
    parser.add_argument("--warm-connections", type=int, default=4,
                        help="connections used to warm the cache (each view read once)")
    parser.add_argument("--write-rate", type=float, default=100.0,
                        help="writes/s of the side writer in (f)")
    parser.add_argument("--invalidation-views", type=_connections, default=[10, 100_000])
    parser.add_argument("--invalidation-repeats", type=int, default=2000)
    parser.add_argument("--invalidation-redis-db", type=int, default=1,
                        help="Redis database (g) uses and flushes (the host uses db 0)")
    parser.add_argument("--database-url", default=os.environ.get("REFERENCE_HOST_DATABASE_URL"),
                        help="PostgreSQL server (a throw-away database is created there);"
                        " default REFERENCE_HOST_DATABASE_URL, else embedded")
    parser.add_argument("--redis-url", default=os.environ.get("REFERENCE_HOST_REDIS_URL"),
                        help="Redis server; default REFERENCE_HOST_REDIS_URL, else embedded")
    parser.add_argument("--no-wrk", action="store_true",
                        help="use the asyncio generator even when wrk is on PATH")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--scenarios", default="abcdefg",
                        help="subset of scenario letters to run (default all)")
    parser.add_argument("--profile", action="store_true",
                        help="also sample the host with py-spy during an extra (c) run")
    parser.add_argument("--host-config", type=Path, default=None,
                        help="host config TOML for `serve --config` (default: the plugin"
                        " manifest's production defaults with cache_ttl_seconds = 3600, so views"
                        " warmed at the start stay cached for the whole run)")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "REPORT.md",
                        help="Markdown report; the JSON twin goes next to it")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse(argv)
    command_line = shlex.join(["python", "-m", "bench.run", *(argv or sys.argv[1:])])
    started = time.perf_counter()
    work_dir = Path(tempfile.mkdtemp(prefix="sac-bench-run-"))
    os.chmod(work_dir, 0o755)
    results: dict[str, Any] = {"scenarios": {}, "servers": {"postgres": "?", "redis": "?"}}
    failure: BaseException | None = None
    try:
        with ExitStack() as stack:
            database_url, pg_kind = stack.enter_context(postgres(work_dir, args.database_url))
            redis_url, redis_kind = stack.enter_context(redis(work_dir, args.redis_url))
            results["servers"] = {"postgres": pg_kind, "redis": redis_kind}
            log(f"PostgreSQL ({pg_kind}) and Redis ({redis_kind}) up; migrating")
            _run_benchmark(args, work_dir, database_url, redis_url, results)
    except BaseException as exc:  # still write what was measured, then re-raise
        failure = exc
        results["failure"] = f"{type(exc).__name__}: {exc}"
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    results["elapsed_s"] = time.perf_counter() - started
    results["command"] = command_line
    if results["scenarios"] or results.get("invalidation"):
        report.write(results, args.output)
        log(f"wrote {args.output} and {args.output.with_suffix('.json')}")
    if failure is not None:
        raise failure


BENCH_VIEW_TTL_SECONDS = 3600
BENCH_AUTH_CACHE_TTL_SECONDS = 3600
"""Keypairs too: the warm-up loads every user's within a minute, so with the 600 s default they
all expire together mid-run and the reads of that moment become keypair loads."""


def _long_ttl_config(work_dir: Path) -> Path:
    """The manifest's defaults, but merged views kept for an hour instead of 300 s: the run
    warms the cache once and measures for longer than 300 s, and views expiring mid-run turned
    the later rounds into cache misses (a benchmark of the database, not of the hot path)."""
    path = work_dir / "host-config.toml"
    path.write_text(
        "[plugins.config.scoped_app_config]\n"
        f"cache_ttl_seconds = {BENCH_VIEW_TTL_SECONDS}\n"
    )
    return path


def _run_benchmark(
    args: argparse.Namespace,
    work_dir: Path,
    database_url: str,
    redis_url: str,
    results: dict[str, Any],
) -> None:
    import subprocess

    migrate = [*host_cli(), "db", "upgrade", "--database-url", database_url]
    began = time.perf_counter()
    subprocess.run(migrate, check=True, capture_output=True, cwd=REPO_ROOT)
    results["migrate_s"] = time.perf_counter() - began

    data = ds.build(fragments=args.fragments, seed=args.seed)
    log(f"loading {args.fragments:,} fragments, {len(data.users):,} users with keypairs (COPY)")
    results["load_timings"] = asyncio.run(ds.load(asyncpg_dsn(database_url), data))
    results["table"] = asyncio.run(ds.table_facts(asyncpg_dsn(database_url)))
    log(f"loaded: {results['load_timings']}")
    results["redis_version"] = asyncio.run(_redis_version(redis_url))

    driver = Driver(args, work_dir)
    results["driver"] = driver.name
    results["wrk_version"] = loadgen.wrk_version() if driver.use_wrk else None
    results["args"] = {
        key: (str(value) if isinstance(value, Path) else value)
        for key, value in vars(args).items()
        if key not in ("database_url", "redis_url")
    }
    results["auth_cache_ttl_s"] = BENCH_AUTH_CACHE_TTL_SECONDS
    scenarios = results["scenarios"]
    logs = work_dir / "logs"
    logs.mkdir()
    wanted = set(args.scenarios)
    read_users = min(args.read_users, len(data.users))

    host_config = args.host_config or _long_ttl_config(work_dir)

    def start_host(name: str, cache: bool) -> Any:
        port = free_port()
        command = host_command(
            database_url=database_url,
            redis_url=redis_url if cache else None,
            port=port,
            workers=args.workers,
            data_dir=work_dir / "host-data",
            config=host_config,
            auth_cache_ttl=BENCH_AUTH_CACHE_TTL_SECONDS,
        )
        return running(name, command, port, logs / f"{name}.log", PUBLIC_GET, PROBE_BODY)

    def start_baseline(kind: str) -> Any:
        port = free_port()
        command = baseline_command(
            kind, port=port, workers=args.workers, redis_url=redis_url, key=BASELINE_KEY
        )
        return running(f"baseline-{kind}", command, port, logs / f"{kind}.log", "/", b"{}")

    read_body = b""
    with start_host("host-cache", cache=True) as host, ExitStack() as baselines:
        url = host.base_url
        reads = functools.partial(merged_read_spec, data, url, read_users)
        if wanted & set("bcf"):
            warm(driver, reads(), url, f"(c) merged views of {read_users} users")
            read_body = fetch(url, reads()[0])
            asyncio.run(_redis_set(redis_url, BASELINE_KEY, read_body))
        # (a), (b) and (c) in alternating rounds, their servers up side by side (an idle
        # server costs nothing): their ratios are the targets.
        targets: dict[str, Target] = {}
        sizes: dict[str, int] = {}
        if "a" in wanted:
            fixed = baselines.enter_context(start_baseline("fixed"))
            targets["a"] = ("(a)", lambda: baseline_spec(data), fixed.base_url)
            sizes["a"] = len(fetch(fixed.base_url, baseline_spec(data)[0]))
        if "b" in wanted:
            if not read_body:
                raise RuntimeError("(b) needs a merged-read response (run with c)")
            cached = baselines.enter_context(start_baseline("redis"))
            targets["b"] = ("(b)", lambda: baseline_spec(data), cached.base_url)
            sizes["b"] = len(read_body)
        if "c" in wanted:
            targets["c"] = ("(c)", reads, url)
            sizes["c"] = len(read_body)
        if "e" in wanted:
            # In the rounds too: "(e) at least as fast as (c)" is a ratio, and drift between
            # two runs measured minutes apart would decide it.
            warm(driver, public_read_spec(data), url, "(e) public views")
            targets["e"] = ("(e)", lambda: public_read_spec(data), url)
            sizes["e"] = len(fetch(url, public_read_spec(data)[0]))
        if targets:
            for key, runs in interleaved(driver, targets, args).items():
                scenarios[key] = {"runs": runs, "response_bytes": sizes[key]}
        baselines.close()
        if "c" in wanted:
            if args.hot_users:
                hot = functools.partial(merged_read_spec, data, url, args.hot_users)
                scenarios["c_hot"] = {"runs": series(driver, "(c) hot users", hot, url, args),
                                      "response_bytes": len(read_body)}
            if args.profile:
                results["profile"] = profile(
                    driver, host, reads(), 32, args, BENCH_DIR / "results" / "profile-c32"
                )
        if "f" in wanted:
            writes = functools.partial(upsert_spec, data, url, len(data.users))
            scenarios["f_write"] = {"runs": series(driver, "(f) upsert", writes, url, args)}
            results["mixed"] = mixed(driver, data, url, reads, writes, args)

    if "d" in wanted:
        with start_host("host-nocache", cache=False) as host:
            url = host.base_url
            scenarios["d"] = {"runs": series(
                driver, "(d)", lambda: merged_read_spec(data, url, read_users), url, args
            ), "response_bytes": len(fetch(url, merged_read_spec(data, url, 1)[0]))}

    if "g" in wanted:
        results["invalidation"] = asyncio.run(
            invalidation(
                redis_url_with_db(redis_url, args.invalidation_redis_db),
                data,
                args.invalidation_views,
                args.invalidation_repeats,
            )
        )


def mixed(
    driver: Driver,
    data: ds.Dataset,
    url: str,
    reads: Callable[[], Sequence[SpecRequest]],
    writes: Callable[[], Sequence[SpecRequest]],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Reads of (c) at 32 connections, read-only and while a side process writes at
    `--write-rate`/s, in `--mixed-rounds` rounds after re-warming (the upsert runs invalidated many
    users' views; the rounds invalidate nothing the reads use). Each round is ordered
    read-only, under writes, under writes, read-only (ABBA), so a machine speeding up or
    slowing down steadily within the round weighs on both sides alike; its ratio is that of the
    two sides' overall rates. The round with the median ratio is reported: like (a)/(b)/(c),
    a ratio of two runs minutes apart would carry the machine's drift."""
    connections = 32 if 32 in args.connections else max(args.connections)
    warm(driver, reads(), url, "(c) again before (f) mixed")
    pairs: list[dict[str, Any]] = []
    for _ in range(args.mixed_rounds):
        first = driver.measure(reads(), url, connections, args.duration)
        writer = driver.start_asyncio(
            writes(), url, connections=8, duration=2 * args.duration + 2, rate=args.write_rate
        )
        time.sleep(1.0)
        under = [driver.measure(reads(), url, connections, args.duration) for _ in range(2)]
        writer_result = loadgen.collect(writer, timeout=2 * args.duration + 120)
        last = driver.measure(reads(), url, connections, args.duration)
        read_only = loadgen.combine([first, last])
        under_writes = loadgen.combine(under)
        read_only["loadavg_1m_before"] = first["loadavg_1m_before"]
        under_writes["loadavg_1m_before"] = under[0]["loadavg_1m_before"]
        ratio = under_writes["rps"] / read_only["rps"] if read_only["rps"] else 0.0
        log(
            f"(f) c={connections}: read-only {first['rps']:.0f}/{last['rps']:.0f} req/s, under"
            f" {writer_result['rps']:.0f} writes/s {under[0]['rps']:.0f}/{under[1]['rps']:.0f}"
            f" req/s ({ratio:.2f} x), write errors {writer_result['errors']}"
        )
        pairs.append(
            {"read_only": read_only, "under_writes": under_writes, "writer": writer_result,
             "ratio": ratio}
        )
    chosen = sorted(pairs, key=lambda pair: pair["ratio"])[len(pairs) // 2]
    return {
        "connections": connections,
        "read_only": chosen["read_only"],
        "under_writes": chosen["under_writes"],
        "writer": chosen["writer"],
        "write_rate": args.write_rate,
        "rounds_ratio": [pair["ratio"] for pair in pairs],
        "write_errors": sum(pair["writer"]["errors"] for pair in pairs),
    }


if __name__ == "__main__":
    main()
