"""A system-test stack: a migrated database, accounts, the workload's policy, two host processes.

Every module builds its own (see conftest.py): a dedicated database on the suite's PostgreSQL
server, accounts made with the `reference-host accounts` CLI, the workload's definitions and
allow-list entries made through the API, and `HOSTS` host processes sharing one Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import aiohttp
import attrs
import redis
from system_hosts import HostProcess, create_accounts, migrated_database, running_hosts
from system_load import ApiClient, Workload, register_policy

REQUEST_TIMEOUT_SECONDS = 15.0
HOSTS = 2
WRITERS = 4
NAMES_PER_WRITER = 3


@attrs.frozen
class Stack:
    database_url: str
    redis_url: str | None
    hosts: list[HostProcess]
    workload: Workload

    @property
    def endpoints(self) -> list[str]:
        return [host.endpoint for host in self.hosts]

    def unhandled_errors(self) -> dict[str, int]:
        return {host.name: host.unhandled_errors() for host in self.hosts}


async def _register(endpoint: str, workload: Workload) -> None:
    async with aiohttp.ClientSession() as session:
        await register_policy(ApiClient(session, REQUEST_TIMEOUT_SECONDS), endpoint, workload)


@contextlib.contextmanager
def system_stack(
    database_url: str, redis_url: str | None, log_dir: Path, config_toml: str | None = None
) -> Iterator[Stack]:
    """Accounts, the workload's policy and `HOSTS` host processes on one database and Redis."""
    accounts = create_accounts(database_url)
    workload = Workload.create(accounts, WRITERS, NAMES_PER_WRITER)
    with running_hosts(HOSTS, database_url, redis_url, log_dir, config_toml) as hosts:
        asyncio.run(_register(hosts[0].endpoint, workload))
        yield Stack(database_url, redis_url, hosts, workload)


@contextlib.contextmanager
def stack_on_server(server_database_url: str, redis_url: str, log_dir: Path) -> Iterator[Stack]:
    """`system_stack` on a fresh migrated database of the server; Redis is flushed after."""
    try:
        with (
            migrated_database(server_database_url) as database_url,
            system_stack(database_url, redis_url, log_dir) as stack,
        ):
            yield stack
    finally:
        flush_redis(redis_url)


def flush_redis(url: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


ReportScenario = Callable[[Sequence[str]], None]
"""Records a test's figures (one line each) for the "system scenarios" summary."""
