"""One Redis connection shared by every concurrent cache lookup of a process (auto-pipelining).

redis-py's asyncio client checks a connection out of its pool for each command, sends the
command in a write of its own and reads its reply alone. On the hot path that costs more CPU
than everything else a cached read does (bench/REPORT_NOTES.md has the figures). Redis answers
the commands of one connection in the order they arrived, so concurrent lookups can share one
connection: each queues its encoded command and a future; the commands queued during one turn
of the event loop leave in a single write; each reply is handed to the oldest waiting future.

redis-py opens the connection from the client's own pool settings (AUTH, SELECT, TLS, unix
sockets); then the transport is handed to a small protocol of our own, and hiredis does the
rest: it encodes the commands (several times faster than redis-py's encoder) and parses the
replies straight from the event loop's data callback, every reply one read brought in one go.
redis-py's stream reader would copy each read twice more and wake a reader task for it.
Only the standalone client is multiplexed; a cluster client keeps redis-py's per-node pools.

Failures never hang a caller: a broken connection fails every queued call at once and the next
call reconnects. A call given a timeout fails with `TimeoutError` once it has passed, and one
timer serves every pending call: replies come in order, so the call at the head of the queue
is the one to watch, and a timer per call (what `asyncio.timeout` arms) would cost more than
the rest of a cached read's Redis work. A call that timed out (or whose caller was cancelled)
leaves its slot queued, and the reply, when it comes, is dropped; once replies are owed and
none has arrived for `stall_seconds`, the connection is dropped, so a hung server cannot make
the queue grow without bound. (A busy event loop that reads replies late is not a stall:
replies keep arriving, only later.)
"""

from __future__ import annotations

import asyncio
import collections
import math
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, cast

import hiredis
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import InvalidResponse, ResponseError

from reference_host.contract import RedisClient

DEFAULT_STALL_SECONDS = 1.0
TIMER_RESOLUTION_SECONDS = 0.001
"""uvloop's timers and clock count milliseconds: a deadline within one of the clock is due."""
FEED_SIZE = 4096
"""hiredis moves the unparsed rest of its buffer to the front after each reply it hands out,
so a read is fed in slices of this size: what is moved stays small however much one read
brought (fed whole, a read of many 8 KiB views was moved again after every one of them)."""


class _Waiter(NamedTuple):
    future: asyncio.Future[Any]
    deadline: float  # on the event loop's clock; inf: no limit


class _ReplyProtocol(asyncio.Protocol):
    """The connection's transport callbacks, once redis-py has opened it."""

    def __init__(self, owner: MultiplexedConnection, connection: AbstractConnection) -> None:
        self._owner = owner
        self._connection = connection
        self._parser = hiredis.Reader(protocolError=InvalidResponse, replyError=ResponseError)

    def data_received(self, data: bytes) -> None:
        if self._owner._connection is not self._connection:
            return  # retired, and closing: its waiters were failed already
        parser, deliver = self._parser, self._owner._deliver
        try:
            for start in range(0, len(data), FEED_SIZE):
                parser.feed(data, start, min(FEED_SIZE, len(data) - start))
                while (reply := parser.gets()) is not False:
                    deliver(reply)
        except Exception as exc:  # a protocol error, or a reply nothing waits for
            self._owner._fail(self._connection, exc)

    def eof_received(self) -> bool:
        return False  # close the transport; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        cause = exc or RedisConnectionError("Redis closed the connection")
        self._owner._fail(self._connection, cause)


class MultiplexedConnection:
    def __init__(
        self,
        new_connection: Callable[[], AbstractConnection],
        *,
        stall_seconds: float = DEFAULT_STALL_SECONDS,
    ) -> None:
        self._new_connection = new_connection
        self._stall_seconds = stall_seconds
        self._connection: AbstractConnection | None = None
        self._connecting = asyncio.Lock()
        self._waiters: collections.deque[_Waiter] = collections.deque()
        self._outbox: list[bytes] = []
        self._flush_scheduled = False
        self._last_reply_at = 0.0
        self._closing: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf

    @classmethod
    def for_client(
        cls, client: RedisClient, *, stall_seconds: float = DEFAULT_STALL_SECONDS
    ) -> MultiplexedConnection | None:
        """A multiplexed connection with `client`'s settings; None for a cluster client."""
        if not isinstance(client, Redis):
            return None
        pool = client.connection_pool
        # No socket timeout: replies are awaited indefinitely, and every caller is bounded by
        # its own time limit instead (plus the stall rule above).
        settings = {**pool.connection_kwargs, "socket_timeout": None}
        return cls(lambda: pool.connection_class(**settings), stall_seconds=stall_seconds)

    @property
    def queued(self) -> int:
        """Commands sent (or about to be) whose replies have not arrived yet."""
        return len(self._waiters)

    async def execute(
        self, *args: str | bytes | int | float, timeout: float | None = None
    ) -> Any:
        """Send one command and return its reply (raw bytes, never decoded); after `timeout`
        seconds (None: no limit) raise `TimeoutError`."""
        (waiter,) = await self._enqueue([hiredis.pack_command(cast(Any, args))], timeout)
        try:
            return await waiter
        except asyncio.CancelledError:
            self._drop_if_stalled()
            raise

    async def execute_many(
        self,
        commands: Sequence[Sequence[str | bytes | int | float]],
        timeout: float | None = None,
    ) -> list[Any]:
        """Send several commands in one write and return their replies in order; if any
        failed, the first failure is raised once every reply has arrived (or timed out)."""
        # Encoded first: a command that cannot be encoded must not leave a waiter queued
        # without a command, which would hand every later reply to the wrong caller.
        packed = [hiredis.pack_command(cast(Any, tuple(command))) for command in commands]
        waiters = await self._enqueue(packed, timeout)
        try:
            replies = await asyncio.gather(*waiters, return_exceptions=True)
        except asyncio.CancelledError:
            self._drop_if_stalled()
            raise
        for reply in replies:
            if isinstance(reply, BaseException):
                raise reply
        return replies

    async def _enqueue(
        self, packed: Sequence[bytes], timeout: float | None
    ) -> list[asyncio.Future[Any]]:
        """Queue encoded commands for the next flush; their reply futures, in order."""
        connection, loop = self._connection, self._loop
        if connection is None or loop is None:
            loop = asyncio.get_running_loop()
        deadline = math.inf if timeout is None else loop.time() + timeout
        if connection is None:
            async with asyncio.timeout_at(None if timeout is None else deadline):
                connection = await self._connect()
        if not self._waiters:
            self._last_reply_at = time.monotonic()  # nothing was owed until now
        futures = [loop.create_future() for _ in packed]
        self._waiters.extend(_Waiter(future, deadline) for future in futures)
        self._outbox.extend(packed)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(self._flush, connection)
        if deadline < self._timer_at:
            self._arm_timer(loop, deadline)
        return futures

    def _arm_timer(self, loop: asyncio.AbstractEventLoop, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_at(when, self._expire, loop)
        self._timer_at = when

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        """Fail every pending call whose deadline has passed, then watch the earliest left."""
        self._timer, self._timer_at = None, math.inf
        due = loop.time() + TIMER_RESOLUTION_SECONDS
        expired = False
        for waiter in self._waiters:
            if not waiter.future.done() and waiter.deadline <= due:
                waiter.future.set_exception(TimeoutError("Redis did not answer in time"))
                expired = True
        if expired:
            self._drop_if_stalled()
        earliest = min(
            (waiter.deadline for waiter in self._waiters if not waiter.future.done()),
            default=math.inf,
        )
        if earliest < math.inf:
            self._arm_timer(loop, earliest)

    async def aclose(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer, self._timer_at = None, math.inf
        connection = self._connection
        if connection is not None:
            self._fail(connection, RedisConnectionError("connection closed"))
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    async def _connect(self) -> AbstractConnection:
        async with self._connecting:
            if self._connection is None:
                connection = self._new_connection()
                await connection.connect()  # type: ignore[no-untyped-call]
                writer = connection._writer
                if writer is None:
                    raise RedisConnectionError("connection lost while opening")
                # From here on the replies reach `_ReplyProtocol`, not redis-py's stream reader
                # (the handshake's replies were all read: Redis sends nothing unasked).
                writer.transport.set_protocol(_ReplyProtocol(self, connection))
                # Kept: asyncio.get_running_loop() costs a getpid() system call on Python 3.11.
                loop = asyncio.get_running_loop()
                if loop is not self._loop:  # a timer armed on another loop would never fire
                    self._loop, self._timer, self._timer_at = loop, None, math.inf
                self._connection = connection
            return self._connection

    def _flush(self, connection: AbstractConnection) -> None:
        if connection is not self._connection:
            return  # it failed in between: its commands and waiters went with it
        self._flush_scheduled = False
        outbox, self._outbox = self._outbox, []
        if not outbox:
            return
        # redis-py's own send is a coroutine; writing synchronously here keeps the bytes on
        # the wire in the order the waiters were queued.
        writer = connection._writer
        if writer is None:
            self._fail(connection, RedisConnectionError("connection lost before sending"))
            return
        try:
            writer.writelines(outbox)
        except (OSError, RuntimeError) as exc:
            self._fail(connection, exc)

    def _deliver(self, reply: Any) -> None:
        """Hand one reply to the oldest waiting future (an error reply answers one command)."""
        if not self._waiters:
            raise RedisConnectionError("a reply arrived that no command waits for")
        self._last_reply_at = time.monotonic()
        future = self._waiters.popleft().future
        if future.done():
            return  # it timed out, or its caller was cancelled
        if isinstance(reply, ResponseError):
            future.set_exception(reply)
        else:
            future.set_result(reply)

    def _drop_if_stalled(self) -> None:
        connection = self._connection
        if connection is None or not self._waiters:
            return
        if time.monotonic() - self._last_reply_at > self._stall_seconds:
            self._fail(connection, TimeoutError("Redis stopped answering"))

    def _fail(self, connection: AbstractConnection, cause: BaseException) -> None:
        """Retire `connection`: fail what waits on it; the next call opens a new one."""
        if connection is not self._connection:
            return
        self._connection = None
        self._outbox = []
        self._flush_scheduled = False  # the next connection schedules its own flush
        waiters, self._waiters = self._waiters, collections.deque()
        for waiter in waiters:
            if not waiter.future.done():
                error = RedisConnectionError(f"Redis connection lost: {cause}")
                error.__cause__ = cause
                waiter.future.set_exception(error)
        task = asyncio.get_running_loop().create_task(connection.disconnect(nowait=True))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
