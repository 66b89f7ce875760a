"""Real servers for the system tests: `reference-host serve` subprocesses, databases, accounts.

Each host is its own OS process (`python -m reference_host.cli serve --workers 1
--no-access-log`) on a free port, talking to the PostgreSQL database and the Redis it is given.
`running_hosts` starts several, waits until each answers, and on the way out terminates them and
checks that no process it started (nor any child of one) is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import asyncpg
import attrs
import psutil  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from reference_host import migrate
from reference_host.embedded import EmbeddedRedis, free_port
from reference_host.settings import HostSettings

READY_TIMEOUT_SECONDS: Final = 60.0
STOP_TIMEOUT_SECONDS: Final = 20.0
READY_PATH: Final = "/v2/app-config/openapi.json"
UNHANDLED_ERROR_MARK: Final = "unhandled error serving"


class HostStartError(RuntimeError):
    pass


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "reference_host.cli", *args]


@attrs.define
class HostProcess:
    """One `reference-host serve` process."""

    name: str
    port: int
    log_path: Path
    process: subprocess.Popen[bytes]
    descendants: list[psutil.Process] = attrs.field(factory=list)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def is_alive(self) -> bool:
        return self.process.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def unhandled_errors(self) -> int:
        """How many requests the host answered with its bare 500 (each logs a traceback)."""
        return self.log_text().count(UNHANDLED_ERROR_MARK)

    def remember_descendants(self) -> None:
        with contextlib.suppress(psutil.NoSuchProcess):
            self.descendants = psutil.Process(self.pid).children(recursive=True)

    def kill(self) -> None:
        """SIGKILL, as a crash would: no graceful shutdown."""
        if self.is_alive():
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(STOP_TIMEOUT_SECONDS)

    def terminate(self) -> None:
        if self.is_alive():
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT_SECONDS)
        for child in self.descendants:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.wait(STOP_TIMEOUT_SECONDS)

    def strays(self) -> list[str]:
        """Processes started for this host that are still running after `terminate`."""
        left = []
        for candidate in [*self.descendants]:
            with contextlib.suppress(psutil.NoSuchProcess):
                if candidate.is_running() and candidate.status() != psutil.STATUS_ZOMBIE:
                    left.append(f"{candidate.pid} {' '.join(candidate.cmdline())}")
        if self.process.poll() is None:
            left.append(f"{self.pid} (the host itself)")
        return left


def spawn_host(
    name: str,
    database_url: str,
    redis_url: str | None,
    log_dir: Path,
    config_toml: str | None = None,
) -> HostProcess:
    """Start one host; `config_toml` is a host config file's text (plugin config sections)."""
    port = free_port()
    log_path = log_dir / f"{name}-{port}.log"
    log_dir.mkdir(parents=True, exist_ok=True)
    args = ["serve", "--port", str(port), "--workers", "1", "--no-access-log"]
    args += ["--database-url", database_url]
    args += ["--redis-url", redis_url] if redis_url else ["--no-redis"]
    if config_toml is not None:
        config_path = log_dir / f"{name}-{port}.toml"
        config_path.write_text(config_toml)
        args += ["--config", str(config_path)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            _cli(*args), stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    return HostProcess(name=name, port=port, log_path=log_path, process=process)


def wait_until_ready(host: HostProcess, timeout: float = READY_TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not host.is_alive():
            raise HostStartError(f"{host.name} exited early:\n{host.log_text()[-3000:]}")
        try:
            with urllib.request.urlopen(host.endpoint + READY_PATH, timeout=1.0) as response:
                if response.status == 200:
                    host.remember_descendants()
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise HostStartError(f"{host.name} not ready after {timeout} s:\n{host.log_text()[-3000:]}")


@contextlib.contextmanager
def running_hosts(
    count: int,
    database_url: str,
    redis_url: str | None,
    log_dir: Path,
    config_toml: str | None = None,
) -> Iterator[list[HostProcess]]:
    """`count` host processes on one database and Redis; all stopped and checked afterwards."""
    hosts: list[HostProcess] = []
    try:
        for index in range(count):
            hosts.append(spawn_host(f"host{index}", database_url, redis_url, log_dir, config_toml))
        for host in hosts:
            wait_until_ready(host)
        yield hosts
    finally:
        for host in hosts:
            host.terminate()
        strays = [stray for host in hosts for stray in host.strays()]
        assert not strays, f"processes left running after the hosts stopped: {strays}"


# Databases ---------------------------------------------------------------------------------------


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def database_url_on(server_url: str, name: str) -> str:
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def _execute(server_url: str, statement: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(server_url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def plugin_migration_locations() -> list[Path]:
    from reference_host.plugins.discovery import discover_plugins

    settings = HostSettings(database_url="postgresql+asyncpg://unused")
    return [p.migration_location for p in discover_plugins(settings) if p.migration_location]


@contextlib.contextmanager
def migrated_database(server_url: str) -> Iterator[str]:
    """A new database on `server_url`, migrated to heads, dropped afterwards."""
    name = f"sac_system_{uuid.uuid4().hex[:12]}"
    asyncio.run(_execute(server_url, f'CREATE DATABASE "{name}"'))
    try:
        url = database_url_on(server_url, name)
        migrate.upgrade(url, plugin_migration_locations(), "heads")
        yield url
    finally:
        asyncio.run(_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def terminate_connections(database_url: str) -> int:
    """pg_terminate_backend on every other session of the database; how many were ended."""
    connection = await asyncpg.connect(_asyncpg_dsn(database_url))
    try:
        ended: int = await connection.fetchval(
            "SELECT count(*) FROM ("
            " SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()) AS ended"
        )
        return ended
    finally:
        await connection.close()


# Accounts ----------------------------------------------------------------------------------------


@attrs.frozen
class Credentials:
    user_id: uuid.UUID
    domain_id: uuid.UUID
    access_key: str
    secret_key: str


def _credentials(payload: dict[str, Any]) -> Credentials:
    return Credentials(
        user_id=uuid.UUID(payload["user_id"]),
        domain_id=uuid.UUID(payload["domain_id"]),
        access_key=payload["access_key"],
        secret_key=payload["secret_key"],
    )


def _run_cli_json(*args: str) -> dict[str, Any]:
    result = subprocess.run(_cli(*args), capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise HostStartError(f"reference-host {' '.join(args[:2])} failed:\n{result.stderr}")
    payload: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return payload


@attrs.frozen
class Accounts:
    superadmin: Credentials
    reader: Credentials


def create_accounts(database_url: str) -> Accounts:
    """A superadmin (domain `default`) and a plain user of that domain, via the CLI."""
    superadmin = _run_cli_json("accounts", "ensure-superadmin", "--database-url", database_url)
    reader = _run_cli_json(
        "accounts",
        "create-user",
        "--database-url",
        database_url,
        "--domain",
        "default",
        "--email",
        "reader@example.com",
        "--role",
        "user",
    )
    return Accounts(superadmin=_credentials(superadmin), reader=_credentials(reader))


# Redis -------------------------------------------------------------------------------------------


def kill_redis(server: EmbeddedRedis) -> int:
    """SIGKILL the embedded Redis (it loses every key); its port, to restart on."""
    assert server.process is not None and server.port is not None, "Redis is not running"
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(STOP_TIMEOUT_SECONDS)
    server.process = None
    return server.port


def restart_redis(server: EmbeddedRedis, port: int) -> None:
    server.start(port=port)
