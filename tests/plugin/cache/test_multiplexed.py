"""The multiplexed lookup connection: every caller gets its own reply, whatever fails around it.

Run against the suite's real Redis (embedded unless REFERENCE_HOST_REDIS_URL is given). A
blocking BLPOP stands in for a slow or hung server: replies on one connection come in order, so
it holds back every command queued behind it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from scoped_app_config.repositories.fragment.cache_source.multiplexed import (
    MultiplexedConnection,
)


@pytest.fixture
async def multiplexed(redis_client: aioredis.Redis) -> AsyncIterator[MultiplexedConnection]:
    connection = MultiplexedConnection.for_client(redis_client)
    assert connection is not None
    yield connection
    await connection.aclose()


async def client_ids(redis_client: aioredis.Redis) -> set[int]:
    return {int(client["id"]) for client in await redis_client.client_list()}


async def test_hundreds_of_concurrent_commands_each_get_their_own_reply(
    redis_client: aioredis.Redis, multiplexed: MultiplexedConnection
) -> None:
    await redis_client.mset({f"mux:{i}": f"value-{i}" for i in range(300)})

    replies = await asyncio.gather(
        *(multiplexed.execute("MGET", f"mux:{i}", f"mux:{i + 1}", "mux:none") for i in range(299))
    )

    assert replies == [
        [f"value-{i}".encode(), f"value-{i + 1}".encode(), None] for i in range(299)
    ]
    assert multiplexed.queued == 0


async def test_replies_larger_than_one_read_arrive_whole_and_in_order(
    redis_client: aioredis.Redis, multiplexed: MultiplexedConnection
) -> None:
    """A reply spread over several socket reads (the reader takes 64 KiB at a time), between
    small ones, each to its own caller."""
    big = bytes(range(256)) * 1024  # 256 KiB, every byte value, CR and LF included
    await redis_client.set("mux:big", big)
    await redis_client.set("mux:small", b"small")

    replies = await asyncio.gather(
        *(multiplexed.execute("GET", "mux:big" if i % 3 == 0 else "mux:small") for i in range(30))
    )

    assert replies == [big if i % 3 == 0 else b"small" for i in range(30)]
    assert multiplexed.queued == 0


async def test_many_replies_of_views_size_arriving_together_each_reach_their_caller(
    redis_client: aioredis.Redis, multiplexed: MultiplexedConnection
) -> None:
    """Replies of a few KiB (a merged view's size) that one socket read brings by the dozen,
    several straddling the slices the parser is fed in, each whole and to its own caller."""
    values = {f"mux:view:{i}": bytes([65 + i % 26]) * (2500 + 97 * i) for i in range(120)}
    await redis_client.mset(values)

    replies = await asyncio.gather(
        *(multiplexed.execute("MGET", key, "mux:none") for key in values)
    )

    assert replies == [[value, None] for value in values.values()]
    assert multiplexed.queued == 0


async def test_they_share_one_connection(
    redis_client: aioredis.Redis, multiplexed: MultiplexedConnection
) -> None:
    before = await client_ids(redis_client)

    await asyncio.gather(*(multiplexed.execute("GET", "mux:x") for _ in range(50)))

    assert len(await client_ids(redis_client) - before) == 1


async def test_an_error_reply_fails_its_own_command_only(
    redis_client: aioredis.Redis, multiplexed: MultiplexedConnection
) -> None:
    await redis_client.rpush("mux:list", "a")
    await redis_client.set("mux:string", "s")

    results = await asyncio.gather(
        multiplexed.execute("GET", "mux:string"),
        multiplexed.execute("GET", "mux:list"),  # WRONGTYPE
        multiplexed.execute("GET", "mux:string"),
        return_exceptions=True,
    )

    assert results[0] == results[2] == b"s"
    assert isinstance(results[1], ResponseError) and "WRONGTYPE" in str(results[1])
    assert await multiplexed.execute("GET", "mux:string") == b"s"


async def test_a_caller_that_gave_up_leaves_the_next_callers_reply_alone(
    redis_client: aioredis.Redis, multiplexed: MultiplexedConnection
) -> None:
    await redis_client.set("mux:k", "mine")
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await multiplexed.execute("BLPOP", "mux:empty", "0.3")

    # Queued behind the BLPOP: its nil reply must be dropped, not handed to this caller.
    assert await multiplexed.execute("GET", "mux:k") == b"mine"


async def test_a_stalled_connection_is_dropped_and_the_next_call_opens_a_fresh_one(
    redis_client: aioredis.Redis,
) -> None:
    connection = MultiplexedConnection.for_client(redis_client, stall_seconds=0.1)
    assert connection is not None
    try:
        await redis_client.set("mux:k", "fresh")
        stuck = asyncio.ensure_future(connection.execute("GET", "mux:k"))
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await connection.execute("BLPOP", "mux:empty", "5")  # the "hung" server
        # Giving up after the stall limit retired the connection and failed what waited on it.
        with pytest.raises(RedisConnectionError):
            await stuck

        started = time.monotonic()
        assert await connection.execute("GET", "mux:k") == b"fresh"
        assert time.monotonic() - started < 2  # not behind the 5 s BLPOP
        assert connection.queued == 0
    finally:
        await connection.aclose()


async def test_a_killed_connection_fails_fast_and_the_next_call_reconnects(
    redis_client: aioredis.Redis, multiplexed: MultiplexedConnection
) -> None:
    await redis_client.set("mux:k", "v")
    before = await client_ids(redis_client)
    assert await multiplexed.execute("GET", "mux:k") == b"v"
    (mux_id,) = await client_ids(redis_client) - before

    waiting = asyncio.ensure_future(multiplexed.execute("BLPOP", "mux:empty", "5"))
    await asyncio.sleep(0.05)
    await redis_client.client_kill_filter(_id=str(mux_id))

    with pytest.raises(RedisConnectionError):
        async with asyncio.timeout(2):
            await waiting
    assert await multiplexed.execute("GET", "mux:k") == b"v"


async def test_an_unreachable_server_raises_instead_of_hanging(unused_tcp_port: int) -> None:
    client = aioredis.Redis(host="127.0.0.1", port=unused_tcp_port, socket_connect_timeout=1)
    connection = MultiplexedConnection.for_client(client)
    assert connection is not None
    try:
        with pytest.raises(RedisConnectionError):
            await connection.execute("GET", "mux:k")
    finally:
        await connection.aclose()
        await client.aclose()


def test_a_cluster_client_is_not_multiplexed(cluster_client: object) -> None:
    assert MultiplexedConnection.for_client(cluster_client) is None  # type: ignore[arg-type]


async def test_several_commands_of_one_call_get_their_replies_in_order(
    redis_client: aioredis.Redis, multiplexed: MultiplexedConnection
) -> None:
    replies = await multiplexed.execute_many(
        [("SET", "mux:a", "1", "EX", 60), ("SET", "mux:b", "2"), ("MGET", "mux:a", "mux:b")]
    )

    assert replies == [b"OK", b"OK", [b"1", b"2"]]
    assert 0 < await redis_client.ttl("mux:a") <= 60


async def test_one_failing_command_of_several_raises_after_the_others_ran(
    redis_client: aioredis.Redis, multiplexed: MultiplexedConnection
) -> None:
    await redis_client.rpush("mux:list", "a")

    with pytest.raises(ResponseError, match="WRONGTYPE"):
        await multiplexed.execute_many([("GET", "mux:list"), ("SET", "mux:after", "ran")])

    assert await redis_client.get("mux:after") == b"ran"
    assert multiplexed.queued == 0


async def test_a_command_that_cannot_be_encoded_leaves_the_queue_in_step(
    redis_client: aioredis.Redis, multiplexed: MultiplexedConnection
) -> None:
    await redis_client.set("mux:k", "mine")

    with pytest.raises(TypeError):
        await multiplexed.execute_many([("GET", "mux:k"), ("GET", None)])  # type: ignore[list-item]

    assert multiplexed.queued == 0
    assert await multiplexed.execute("GET", "mux:k") == b"mine"


async def test_a_call_past_its_time_limit_fails_alone_and_the_queue_stays_in_step(
    redis_client: aioredis.Redis, multiplexed: MultiplexedConnection
) -> None:
    """Behind a command Redis holds for 0.3 s: the calls with a 0.05 s limit fail with
    TimeoutError near it, the call without a limit gets its own reply, and so does the next."""
    await redis_client.set("mux:k", "mine")
    started = time.monotonic()
    blocked = asyncio.ensure_future(multiplexed.execute("BLPOP", "mux:empty", "0.3"))
    limited = [
        asyncio.ensure_future(multiplexed.execute("GET", "mux:k", timeout=0.05)) for _ in range(5)
    ]
    unlimited = asyncio.ensure_future(multiplexed.execute("GET", "mux:k"))

    for call in limited:
        with pytest.raises(TimeoutError):
            await call
    assert time.monotonic() - started < 0.25  # each at its limit, not behind the BLPOP

    assert await blocked is None
    assert await unlimited == b"mine"
    assert await multiplexed.execute("GET", "mux:k", timeout=1.0) == b"mine"
    assert multiplexed.queued == 0


async def test_calls_answered_within_their_limit_never_time_out(
    redis_client: aioredis.Redis, multiplexed: MultiplexedConnection
) -> None:
    """Waves of calls, each wave's limit running out while later waves wait: the one timer
    is re-armed for the earliest pending limit and fails nobody who was answered."""
    await redis_client.set("mux:k", "v")
    for _ in range(5):
        replies = await asyncio.gather(
            *(multiplexed.execute("GET", "mux:k", timeout=0.2) for _ in range(50))
        )
        assert replies == [b"v"] * 50
        await asyncio.sleep(0.05)
    assert multiplexed.queued == 0
