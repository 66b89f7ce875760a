"""A sick Redis costs latency, never a request: the guard's failure paths on real and fake servers.

Redis stopped and started again, a server that accepts connections and never answers, one that
hangs up in the middle of a pipeline, a cluster with one master down, and the circuit breaker.
Timing bounds here are behavioural (a call ends within its timeout plus generous slack), not
benchmarks.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import attrs
import pytest
import redis.asyncio as aioredis
from cache_support import Population, RecordingLayerMetrics, RecordingOutcomes
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot
from redis.exceptions import ConnectionError as RedisConnectionError

from redis_cluster import ClusterUnavailable, LocalRedisCluster
from reference_host.contract import LayerMetrics, RedisClient
from reference_host.embedded import EmbeddedRedis, free_port
from reference_host.resources import build_redis
from scoped_app_config.domain.types import ScopeType
from scoped_app_config.repositories.fragment.cache_source import (
    AppConfigFragmentCacheSource,
    CacheGuard,
    CacheLookup,
    CircuitBreaker,
    Viewer,
    keys,
)
from scoped_app_config.repositories.fragment.cache_source.guard import (
    CACHE_SOURCE_DOMAIN,
    CACHE_SOURCE_LAYER,
    CacheOutcomeCounter,
)
from scoped_app_config.repositories.fragment.cache_source.multiplexed import MultiplexedConnection

TIMEOUT = 0.05  # the plugin's default cache timeout
SLACK = 1.45
"""Generous: the failures these bounds catch take seconds (redis-py's clean-up after a cancel
took ~5 s) or never end (BACKSTOP), while a CI machine whose hypervisor steals 15-50 % of
the CPU took 0.54 s for 20 calls limited to 0.05 s each."""
NEVER_OPENS = 1_000_000

T = TypeVar("T")


@attrs.define
class GuardedCache:
    source: AppConfigFragmentCacheSource
    guard: CacheGuard
    metrics: RecordingLayerMetrics
    outcomes: RecordingOutcomes

    async def aclose(self) -> None:
        await self.source.aclose()

    async def lookup(self, viewer: Viewer, names: list[str]) -> CacheLookup | None:
        """A read as the repository does it: None means "answer from the database"."""
        return await self.guard.call_or(
            "get_merged_configs",
            lambda limit: self.source.get_merged_configs(viewer, names, timeout=limit),
            None,
        )

    async def store(self, lookup: CacheLookup, views: dict[str, bytes]) -> bool:
        async def work(limit: float) -> bool:
            await self.source.set_merged_configs(lookup, views, timeout=limit)
            return True

        return await self.guard.call_or("set_merged_configs", work, False)

    async def invalidate_user(self, user_id: uuid.UUID | None) -> bool:
        async def work(limit: float) -> bool:
            await self.source.invalidate_for_scope(ScopeType.USER, user_id, timeout=limit)
            return True

        return await self.guard.call_or("invalidate_for_scope", work, False)


def guarded(
    client: RedisClient,
    *,
    timeout: float = TIMEOUT,
    failure_threshold: int = NEVER_OPENS,
    open_seconds: float = 1.0,
    multiplexed: bool = False,
) -> GuardedCache:
    """The guard over a cache source as the plugin wires it: with `multiplexed`, lookups and
    invalidations share one connection (and its one timer for time limits), as in the host."""
    metrics, outcomes = RecordingLayerMetrics(), RecordingOutcomes()
    layer_metrics: LayerMetrics = metrics
    outcome_counter: CacheOutcomeCounter = outcomes
    guard = CacheGuard(
        timeout_seconds=timeout,
        layer_metrics=layer_metrics,
        outcomes=outcome_counter,
        breaker=CircuitBreaker(failure_threshold=failure_threshold, open_seconds=open_seconds),
    )
    source = AppConfigFragmentCacheSource(
        client,
        ttl_seconds=300,
        multiplexed=MultiplexedConnection.for_client(client) if multiplexed else None,
    )
    return GuardedCache(source=source, guard=guard, metrics=metrics, outcomes=outcomes)


BACKSTOP = 10.0  # a call that ignores its limit fails the test instead of hanging it


async def timed(call: Awaitable[T]) -> tuple[T, float]:
    started = time.monotonic()
    async with asyncio.timeout(BACKSTOP):
        result = await call
    return result, time.monotonic() - started


# --- fake servers ---------------------------------------------------------------------------------


@attrs.define
class FakeRedis:
    port: int
    connections: int = 0
    bytes_received: int = 0


@asynccontextmanager
async def fake_redis(
    handle: Callable[[FakeRedis, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[FakeRedis]:
    fake = FakeRedis(port=0)
    open_writers: list[asyncio.StreamWriter] = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        fake.connections += 1
        open_writers.append(writer)
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await handle(fake, reader, writer)

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    fake.port = server.sockets[0].getsockname()[1]
    try:
        yield fake
    finally:
        server.close()
        for writer in open_writers:
            writer.close()
        await server.wait_closed()


async def read_and_never_answer(
    fake: FakeRedis, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    while chunk := await reader.read(65536):
        fake.bytes_received += len(chunk)


async def read_command(reader: asyncio.StreamReader) -> list[bytes]:
    """One RESP command (an array of bulk strings), as every client sends them."""
    header = await reader.readline()
    if not header.startswith(b"*"):
        raise ConnectionError("not a RESP array")
    args = []
    for _ in range(int(header[1:])):
        length = int((await reader.readline())[1:])
        args.append((await reader.readexactly(length + 2))[:-2])
    return args


async def answer_the_handshake_then_never_again(
    fake: FakeRedis, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """A server that hangs after the connection is set up: every command is read, none answered."""
    while True:
        command = await read_command(reader)
        if command[0].upper() == b"HELLO":
            writer.write(b"%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n")
        elif command[0].upper() == b"CLIENT":
            writer.write(b"+OK\r\n")
        else:
            fake.bytes_received += sum(len(arg) for arg in command)
            continue
        await writer.drain()


async def answer_one_get_then_hang_up(
    fake: FakeRedis, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Completes the handshake, answers the first GET of a pipeline, then closes the socket."""
    while True:
        command = await read_command(reader)
        name = command[0].upper()
        if name == b"HELLO":
            writer.write(b"%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n")
        elif name == b"GET":
            writer.write(b"$-1\r\n")
            await writer.drain()
            writer.close()
            return
        else:
            writer.write(b"+OK\r\n")
        await writer.drain()


@pytest.fixture
async def redis_that_never_answers() -> AsyncIterator[FakeRedis]:
    async with fake_redis(read_and_never_answer) as fake:
        yield fake


@pytest.fixture(
    params=[read_and_never_answer, answer_the_handshake_then_never_again],
    ids=["silent-from-connect", "silent-once-connected"],
)
async def silent_redis(request: pytest.FixtureRequest) -> AsyncIterator[FakeRedis]:
    """Silent from the first byte (the connection is never set up), or once set up."""
    async with fake_redis(request.param) as fake:
        yield fake


@pytest.fixture
async def redis_that_hangs_up_mid_pipeline() -> AsyncIterator[FakeRedis]:
    async with fake_redis(answer_one_get_then_hang_up) as fake:
        yield fake


@pytest.fixture
def redis_we_can_stop(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    """A Redis of this test's own (the suite's shared one must keep running)."""
    server = EmbeddedRedis(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def cluster_we_can_break(tmp_path: Path) -> Iterator[LocalRedisCluster]:
    """A three-master cluster of this test's own, so stopping a master harms no other test."""
    cluster = LocalRedisCluster(tmp_path / "cluster")
    try:
        cluster.start()
    except ClusterUnavailable as exc:
        pytest.skip(f"cannot start a local Redis Cluster: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
async def client_of_redis_we_can_stop(
    redis_we_can_stop: EmbeddedRedis,
) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_we_can_stop.url)
    try:
        yield client
    finally:
        await client.aclose()


@asynccontextmanager
async def client_of(url: str) -> AsyncIterator[RedisClient]:
    client = build_redis(url)
    assert client is not None
    try:
        yield client
    finally:
        await client.aclose()


# --- Redis stopped mid-test, then back --------------------------------------------------------


async def test_a_stopped_redis_answers_with_the_fallback_within_the_timeout_and_recovers(
    redis_we_can_stop: EmbeddedRedis,
    client_of_redis_we_can_stop: aioredis.Redis,
    two_domains_with_users: Population,
) -> None:
    alice = two_domains_with_users.alice
    cache = guarded(client_of_redis_we_can_stop, failure_threshold=3, open_seconds=0.3)
    lookup = await cache.lookup(alice, ["theme"])
    assert lookup is not None and lookup.misses == ["theme"]
    assert await cache.store(lookup, {"theme": b"{}"})
    port = redis_we_can_stop.port
    assert port is not None

    redis_we_can_stop.stop()
    for attempt in range(3):
        result, elapsed = await timed(cache.lookup(alice, ["theme"]))
        assert result is None, "a failed read answers with the fallback: read the database"
        assert elapsed < TIMEOUT + SLACK
        assert len(cache.outcomes.errors) == attempt + 1
    stored, elapsed = await timed(cache.store(lookup, {"theme": b"{}"}))
    assert stored is False  # skipped (breaker open) or failed; the write itself is not ours
    assert elapsed < TIMEOUT + SLACK

    redis_we_can_stop.start(port)
    await asyncio.sleep(0.35)  # the breaker's open interval

    after = await cache.lookup(alice, ["theme"])
    assert after is not None, "the cache is used again once Redis is back"
    assert await cache.store(after, {"theme": b'{"back":true}'})
    served = await cache.lookup(alice, ["theme"])
    assert served is not None
    assert served.hits == {"theme": b'{"back":true}'}
    assert cache.metrics.observations[0][:2] == (CACHE_SOURCE_DOMAIN, CACHE_SOURCE_LAYER)
    assert cache.metrics.outcomes()[-1] == "success"
    assert "error" in cache.metrics.outcomes()


# --- a Redis that accepts connections and never answers ----------------------------------------


@pytest.mark.parametrize("multiplexed", [False, True], ids=["redis-py", "multiplexed"])
async def test_each_call_to_a_redis_that_never_answers_ends_within_the_timeout(
    silent_redis: FakeRedis, multiplexed: bool, two_domains_with_users: Population
) -> None:
    population = two_domains_with_users
    async with client_of(f"redis://127.0.0.1:{silent_redis.port}/0") as client:
        cache = guarded(client, multiplexed=multiplexed)
        lookup = CacheLookup(viewer=population.alice, hits={}, tags={"theme": b"t"})
        calls: list[Callable[[], Awaitable[object]]] = [
            lambda: cache.lookup(population.alice, ["theme", "layout"]),
            lambda: cache.lookup(population.anonymous, ["theme"]),
            lambda: cache.store(lookup, {"theme": b"{}"}),
            lambda: cache.invalidate_user(population.bob.user_id),
        ]
        for call in calls:
            result, elapsed = await timed(call())
            assert result in (None, False)
            assert elapsed < TIMEOUT + SLACK

    assert cache.outcomes.errors == [
        "get_merged_configs",
        "get_merged_configs",
        "set_merged_configs",
        "invalidate_for_scope",
    ]
    assert cache.metrics.outcomes() == ["error"] * 4
    assert silent_redis.bytes_received > 0  # the calls really reached the server
    await cache.aclose()


@pytest.mark.parametrize("multiplexed", [False, True], ids=["redis-py", "multiplexed"])
async def test_concurrent_calls_to_a_redis_that_never_answers_all_end_within_the_timeout(
    silent_redis: FakeRedis, multiplexed: bool, two_domains_with_users: Population
) -> None:
    async with client_of(f"redis://127.0.0.1:{silent_redis.port}/0") as client:
        cache = guarded(client, multiplexed=multiplexed)
        results, elapsed = await timed(
            asyncio.gather(
                *(cache.lookup(two_domains_with_users.alice, ["theme"]) for _ in range(20))
            )
        )

    assert results == [None] * 20
    assert elapsed < TIMEOUT + SLACK
    assert len(cache.outcomes.errors) == 20
    await cache.aclose()


# --- the circuit breaker ------------------------------------------------------------------------


async def test_the_breaker_opens_after_consecutive_failures_and_skips_redis_entirely(
    redis_that_never_answers: FakeRedis, two_domains_with_users: Population
) -> None:
    alice = two_domains_with_users.alice
    async with client_of(f"redis://127.0.0.1:{redis_that_never_answers.port}/0") as client:
        cache = guarded(client, failure_threshold=2, open_seconds=0.3)
        assert await cache.lookup(alice, ["theme"]) is None
        assert await cache.lookup(alice, ["theme"]) is None
        assert len(cache.outcomes.errors) == 2
        seen_bytes = redis_that_never_answers.bytes_received
        seen_connections = redis_that_never_answers.connections

        for _ in range(5):
            result, elapsed = await timed(cache.lookup(alice, ["theme"]))
            assert result is None
            assert elapsed < TIMEOUT  # answered without waiting for Redis
        await asyncio.sleep(0.05)  # let any stray bytes arrive before looking
        assert redis_that_never_answers.bytes_received == seen_bytes
        assert redis_that_never_answers.connections == seen_connections
        assert len(cache.outcomes.errors) == 2  # skipped calls are not Redis errors

        await asyncio.sleep(0.3)  # half-open: the next call probes Redis again
        assert await cache.lookup(alice, ["theme"]) is None
        await asyncio.sleep(0.05)
        assert redis_that_never_answers.bytes_received > seen_bytes
        assert len(cache.outcomes.errors) == 3
        # The failed probe opened the breaker again at once.
        probed_bytes = redis_that_never_answers.bytes_received
        result, elapsed = await timed(cache.lookup(alice, ["theme"]))
        assert result is None and elapsed < TIMEOUT
        await asyncio.sleep(0.05)
        assert redis_that_never_answers.bytes_received == probed_bytes


async def test_a_successful_probe_closes_the_breaker_and_a_success_resets_the_failure_count() -> (
    None
):
    metrics, outcomes = RecordingLayerMetrics(), RecordingOutcomes()
    breaker = CircuitBreaker(failure_threshold=2, open_seconds=0.1)
    guard = CacheGuard(
        timeout_seconds=TIMEOUT, layer_metrics=metrics, outcomes=outcomes, breaker=breaker
    )
    calls = 0
    redis_is_up = False

    async def work(limit: float) -> str:
        nonlocal calls
        calls += 1
        if not redis_is_up:
            raise RedisConnectionError("down")
        return "cached"

    assert await guard.call_or("op", work, "db") == "db"
    redis_is_up = True
    assert await guard.call_or("op", work, "db") == "cached"  # resets the count: still closed
    redis_is_up = False
    assert await guard.call_or("op", work, "db") == "db"
    assert breaker.allows_call()  # one failure after a success does not open it
    assert await guard.call_or("op", work, "db") == "db"
    assert not breaker.allows_call()
    calls_when_opened = calls

    assert await guard.call_or("op", work, "db") == "db"
    assert calls == calls_when_opened

    await asyncio.sleep(0.11)
    redis_is_up = True
    assert await guard.call_or("op", work, "db") == "cached"
    assert breaker.allows_call()
    assert await guard.call_or("op", work, "db") == "cached"
    assert outcomes.errors == ["op"] * 3


async def test_only_cache_failures_are_swallowed_and_programming_errors_still_raise() -> None:
    guard = CacheGuard(
        timeout_seconds=TIMEOUT, layer_metrics=RecordingLayerMetrics(), outcomes=RecordingOutcomes()
    )

    async def bug(limit: float) -> str:
        raise KeyError("not a cache failure")

    with pytest.raises(KeyError):
        await guard.call_or("op", bug, "db")


# --- partial failures inside one multi-key operation ------------------------------------------


async def test_a_connection_closed_mid_pipeline_falls_back_without_raising(
    redis_that_hangs_up_mid_pipeline: FakeRedis, two_domains_with_users: Population
) -> None:
    alice = two_domains_with_users.alice
    async with client_of(f"redis://127.0.0.1:{redis_that_hangs_up_mid_pipeline.port}/0") as client:
        cache = guarded(client, timeout=0.5)
        for _ in range(3):
            result, elapsed = await timed(cache.lookup(alice, ["theme", "layout", "menu"]))
            assert result is None
            assert elapsed < 0.5 + SLACK

    assert cache.outcomes.errors == ["get_merged_configs"] * 3
    assert redis_that_hangs_up_mid_pipeline.connections >= 1


async def test_a_timed_out_call_leaves_no_late_reply_behind_for_the_next_call(
    client_of_redis_we_can_stop: aioredis.Redis, two_domains_with_users: Population
) -> None:
    client = client_of_redis_we_can_stop
    alice, bob = two_domains_with_users.alice, two_domains_with_users.bob
    cache = guarded(client)
    for viewer, body in ((alice, b'{"who":"alice"}'), (bob, b'{"who":"bob"}')):
        lookup = await cache.lookup(viewer, ["theme"])
        assert lookup is not None
        assert await cache.store(lookup, {"theme": body})

    port = client.connection_pool.connection_kwargs["port"]
    async with client_of(f"redis://127.0.0.1:{port}/0") as admin:
        await admin.execute_command("CLIENT", "PAUSE", "200")
        assert await cache.lookup(alice, ["theme"]) is None  # timed out while paused
        await asyncio.sleep(0.25)

    bobs = await cache.lookup(bob, ["theme"])
    assert bobs is not None
    assert bobs.hits == {"theme": b'{"who":"bob"}'}  # never alice's late reply


async def test_a_stopped_cluster_master_makes_lookups_fall_back_cleanly_until_it_is_back(
    cluster_we_can_break: LocalRedisCluster,
) -> None:
    """One lookup pipeline spans the stopped master (the user's slot) and a live one (the
    global slot): a partial failure inside one multi-key operation. No exception escapes.

    Lookups that do not need the stopped master may fail too: redis-py re-initialises the whole
    client after a connection error through the first master, and a cluster without replicas
    turns CLUSTERDOWN once the node timeout passes. They fall back just as cleanly.
    """
    async with client_of(cluster_we_can_break.url) as client:
        assert isinstance(client, RedisCluster)
        cache = guarded(client, timeout=0.2)
        await client.initialize()

        def owner(key: str) -> int:
            node = client.nodes_manager.get_node_from_slot(key_slot(key.encode()))
            return int(node.port)

        global_owner = owner(keys.public_generation_key())
        victim = next(port for port in cluster_we_can_break.ports if port != global_owner)

        def user_on(port: int) -> Viewer:
            while True:
                viewer = Viewer(user_id=uuid.uuid4(), domain_id=uuid.uuid4())
                assert viewer.user_id is not None
                if owner(keys.user_generation_key(viewer.user_id)) == port:
                    return viewer

        stranded, elsewhere = user_on(victim), user_on(global_owner)
        for viewer in (stranded, elsewhere):
            lookup = await cache.lookup(viewer, ["theme", "layout"])
            assert lookup is not None
            assert await cache.store(lookup, {"theme": b"{}", "layout": b"{}"})

        cluster_we_can_break.stop_node(victim)
        for viewer in (stranded, elsewhere, stranded):
            result, elapsed = await timed(cache.lookup(viewer, ["theme", "layout"]))
            assert result is None or set(result.hits) == {"theme", "layout"}
            assert elapsed < 0.2 + SLACK
        assert cache.outcomes.errors.count("get_merged_configs") >= 2  # both strandeds failed
        stale_lookup = CacheLookup(viewer=stranded, hits={}, tags={"theme": b"t"})
        assert await cache.store(stale_lookup, {"theme": b"{}"}) is False
        assert await cache.invalidate_user(stranded.user_id) is False

        cluster_we_can_break.restart_node(victim)
        recovered = None
        deadline = time.monotonic() + 5.0
        while recovered is None and time.monotonic() < deadline:
            recovered = await cache.lookup(stranded, ["theme", "layout"])
            if recovered is None:
                await asyncio.sleep(0.1)
        assert recovered is not None, "lookups of the restarted master's slots work again"
        # The restarted master kept nothing (no persistence): a miss, never an error.
        assert recovered.misses == ["theme", "layout"]
        assert await cache.lookup(elsewhere, ["theme"]) is not None


async def test_a_cluster_client_that_reaches_no_node_falls_back_instead_of_raising(
    two_domains_with_users: Population,
) -> None:
    """RedisCluster raises RedisClusterException (not a RedisError) when no startup node
    answers, e.g. a worker started while the cluster is down."""
    async with client_of(f"redis+cluster://127.0.0.1:{free_port()}") as client:
        cache = guarded(client)
        result, elapsed = await timed(cache.lookup(two_domains_with_users.alice, ["theme"]))

    assert result is None
    assert elapsed < TIMEOUT + SLACK
    assert cache.outcomes.errors == ["get_merged_configs"]


# --- a client whose cancelled call takes long to clean up -------------------------------------


class SlowToCancelPipeline:
    """A redis-py pipeline whose server never answers and whose clean-up, once cancelled, takes
    a second (redis-py disconnects under timeouts of its own)."""

    def __init__(self, cleanups: list[float]) -> None:
        self._cleanups = cleanups

    def mget(self, keys: object) -> None:
        pass

    async def execute(self) -> list[object]:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            await asyncio.sleep(1.0)
            self._cleanups.append(time.monotonic())
            raise
        return []


class SlowToCancelClient:
    def __init__(self) -> None:
        self.cleanups: list[float] = []

    def pipeline(self, transaction: bool = True) -> SlowToCancelPipeline:
        return SlowToCancelPipeline(self.cleanups)


async def test_a_call_ends_at_its_limit_however_long_the_client_takes_to_clean_up(
    two_domains_with_users: Population,
) -> None:
    client = SlowToCancelClient()
    source = AppConfigFragmentCacheSource(client, ttl_seconds=300)  # type: ignore[arg-type]

    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await source.get_merged_configs(two_domains_with_users.alice, ["theme"], timeout=TIMEOUT)
    ended = time.monotonic()

    assert ended - started < TIMEOUT + SLACK
    assert client.cleanups == []  # not waited for...
    await asyncio.sleep(1.2)
    assert len(client.cleanups) == 1 and client.cleanups[0] > ended  # ...but let run to its end
