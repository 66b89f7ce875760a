"""Shared pieces of the cache tests: who views (`Population`) and what goes on the wire.

`record_commands(client, monkeypatch)` wraps the client's `pipeline()`, its direct
`execute_command` and the multiplexed connection's queue, so a test can count what an operation
costs on the wire and check which hash slots each command touches, on a single server and on a
cluster alike.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import attrs
import hiredis
import pytest
from redis.crc import key_slot

from reference_host.contract import RedisClient
from scoped_app_config.repositories.fragment.cache_source import Viewer
from scoped_app_config.repositories.fragment.cache_source.multiplexed import MultiplexedConnection


@attrs.frozen
class Population:
    """Two domains with users, and the anonymous viewer: who can see a merged view."""

    domain_a: uuid.UUID
    domain_b: uuid.UUID
    alice: Viewer  # domain A
    arthur: Viewer  # domain A
    bob: Viewer  # domain B
    anonymous: Viewer

    @classmethod
    def fresh(cls) -> Population:
        domain_a, domain_b = uuid.uuid4(), uuid.uuid4()
        return cls(
            domain_a=domain_a,
            domain_b=domain_b,
            alice=Viewer(user_id=uuid.uuid4(), domain_id=domain_a),
            arthur=Viewer(user_id=uuid.uuid4(), domain_id=domain_a),
            bob=Viewer(user_id=uuid.uuid4(), domain_id=domain_b),
            anonymous=Viewer(),
        )

    @property
    def viewers(self) -> dict[str, Viewer]:
        return {
            "alice": self.alice,
            "arthur": self.arthur,
            "bob": self.bob,
            "anonymous": self.anonymous,
        }


# Where the keys are in each command the cache may use (argument index 0 is the command name).
_SINGLE_KEY_COMMANDS = frozenset(
    {"GET", "SET", "GETEX", "GETDEL", "EXPIRE", "PEXPIRE", "INCR", "INCRBY", "SETNX", "PSETEX"}
)
_ALL_KEYS_COMMANDS = frozenset({"DEL", "UNLINK", "EXISTS", "MGET", "TOUCH"})
_KEYSPACE_WALKS = frozenset({"SCAN", "KEYS", "FLUSHDB", "FLUSHALL"})


def _as_bytes(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return str(value).encode()


@attrs.frozen
class RecordedCommand:
    args: tuple[object, ...]

    @property
    def name(self) -> str:
        return _as_bytes(self.args[0]).decode().upper()

    @property
    def keys(self) -> list[bytes]:
        if self.name in _SINGLE_KEY_COMMANDS:
            return [_as_bytes(self.args[1])]
        if self.name in _ALL_KEYS_COMMANDS:
            return [_as_bytes(arg) for arg in self.args[1:]]
        if self.name == "MSET":
            return [_as_bytes(arg) for arg in self.args[1::2]]
        raise AssertionError(
            f"the cache sent {self.name}, which this recorder does not know the keys of"
        )

    @property
    def slots(self) -> set[int]:
        return {key_slot(key) for key in self.keys}

    @property
    def walks_the_keyspace(self) -> bool:
        return self.name in _KEYSPACE_WALKS


@attrs.define
class CommandRecorder:
    commands: list[RecordedCommand] = attrs.field(factory=list)
    round_trips: int = 0
    """Pipelines executed plus commands sent on their own (a cluster may split a pipeline per
    node; that is one logical round trip here)."""

    def clear(self) -> None:
        self.commands.clear()
        self.round_trips = 0

    @property
    def names(self) -> list[str]:
        return [command.name for command in self.commands]

    async def cost_of(
        self, operation: Callable[[], Awaitable[object]]
    ) -> tuple[tuple[str, ...], int]:
        """(command names, round trips) that one operation sends."""
        self.clear()
        await operation()
        return tuple(self.names), self.round_trips


def record_commands(client: RedisClient, monkeypatch: pytest.MonkeyPatch) -> CommandRecorder:
    recorder = CommandRecorder()
    make_pipeline = client.pipeline
    send_command = client.execute_command

    def recording_pipeline(*args: Any, **kwargs: Any) -> Any:
        pipe = make_pipeline(*args, **kwargs)
        queue_command = pipe.execute_command
        execute = pipe.execute

        def queue(*command: Any, **options: Any) -> Any:
            recorder.commands.append(RecordedCommand(args=command))
            return queue_command(*command, **options)

        async def execute_recorded(*exec_args: Any, **exec_kwargs: Any) -> Any:
            if len(pipe) > 0:
                recorder.round_trips += 1
            return await execute(*exec_args, **exec_kwargs)

        monkeypatch.setattr(pipe, "execute_command", queue)
        monkeypatch.setattr(pipe, "execute", execute_recorded)
        return pipe

    async def recording_command(*command: Any, **options: Any) -> Any:
        recorder.commands.append(RecordedCommand(args=command))
        recorder.round_trips += 1
        return await send_command(*command, **options)

    enqueue_multiplexed = MultiplexedConnection._enqueue

    async def recording_multiplexed(
        self: MultiplexedConnection, packed: Any, time_limit: float | None
    ) -> Any:
        # What goes on the wire, decoded back: each packed command is a RESP array of strings.
        wire = hiredis.Reader()
        for command in packed:
            wire.feed(command)
            recorder.commands.append(RecordedCommand(args=tuple(wire.gets())))
        recorder.round_trips += 1
        return await enqueue_multiplexed(self, packed, time_limit)

    monkeypatch.setattr(client, "pipeline", recording_pipeline)
    monkeypatch.setattr(client, "execute_command", recording_command)
    monkeypatch.setattr(MultiplexedConnection, "_enqueue", recording_multiplexed)
    return recorder


# --- recorders for the guard's metric arguments ---------------------------------------------------


@attrs.define
class RecordingLayerMetrics:
    """LayerMetrics (reference_host.contract) that remembers each observation's outcome."""

    observations: list[tuple[str, str, str, str]] = attrs.field(factory=list)
    retries: list[tuple[str, str, str]] = attrs.field(factory=list)

    @asynccontextmanager
    async def observe(self, *, domain: str, layer: str, operation: str) -> AsyncIterator[None]:
        try:
            yield
        except BaseException:
            self.observations.append((domain, layer, operation, "error"))
            raise
        self.observations.append((domain, layer, operation, "success"))

    def count_retry(self, *, domain: str, layer: str, operation: str) -> None:
        self.retries.append((domain, layer, operation))

    def outcomes(self) -> list[str]:
        return [outcome for *_, outcome in self.observations]


@attrs.define
class RecordingOutcomes:
    """guard.CacheOutcomeCounter that keeps the counts."""

    hit_count: int = 0
    miss_count: int = 0
    errors: list[str] = attrs.field(factory=list)

    def hits(self, count: int) -> None:
        self.hit_count += count

    def misses(self, count: int) -> None:
        self.miss_count += count

    def error(self, operation: str) -> None:
        self.errors.append(operation)
