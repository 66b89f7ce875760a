"""Backing servers and server processes for the harness.

- PostgreSQL: an embedded server in the run's temporary directory, or the server of
  `--database-url` / REFERENCE_HOST_DATABASE_URL, where a throw-away database is created and
  dropped afterwards.
- Redis: an embedded server, or `--redis-url` / REFERENCE_HOST_REDIS_URL (then only the
  `app_config:*` and `bench:*` keys the run created are deleted at the end, by SCAN).
- `ServerProcess`: the reference host or a baseline as a subprocess in its own process group,
  started on a free port, probed until it answers, stopped with SIGTERM (then SIGKILL).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import asyncpg  # asyncpg ships no type information
from redis.asyncio import Redis
from sqlalchemy.engine import make_url

from reference_host.embedded import EmbeddedPostgres, EmbeddedRedis, free_port
from reference_host.servers import normalize_database_url

REPO_ROOT = Path(__file__).resolve().parent.parent


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def redis_url_with_db(url: str, db: int) -> str:
    scheme, _, rest = url.partition("://")
    host, _, _ = rest.partition("/")
    return f"{scheme}://{host}/{db}"


@contextlib.contextmanager
def postgres(work_dir: Path, external_url: str | None) -> Iterator[tuple[str, str]]:
    """(SQLAlchemy URL of a fresh, empty database, 'embedded' or 'external')."""
    if external_url is None:
        server = EmbeddedPostgres(work_dir / "pg")
        try:
            server_url = server.start()
            with _fresh_database(server_url) as url:
                yield url, "embedded"
        finally:
            server.stop()
        return
    with _fresh_database(normalize_database_url(external_url)) as url:
        yield url, "external"


@contextlib.contextmanager
def _fresh_database(server_url: str) -> Iterator[str]:
    name = f"sac_bench_{uuid.uuid4().hex[:12]}"

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(asyncpg_dsn(server_url))
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def redis(work_dir: Path, external_url: str | None) -> Iterator[tuple[str, str]]:
    """(redis:// URL, 'embedded' or 'external')."""
    if external_url is None:
        server = EmbeddedRedis(work_dir / "redis")
        try:
            yield server.start(), "embedded"
        finally:
            server.stop()
        return
    try:
        yield external_url, "external"
    finally:
        asyncio.run(_delete_bench_keys(external_url))


async def _delete_bench_keys(url: str) -> None:
    client = Redis.from_url(url)
    try:
        for pattern in ("app_config:*", "bench:*"):
            batch: list[bytes] = []
            async for key in client.scan_iter(match=pattern, count=1000):
                batch.append(key)
                if len(batch) >= 1000:
                    await client.unlink(*batch)
                    batch = []
            if batch:
                await client.unlink(*batch)
    finally:
        await client.aclose()


def production_env() -> dict[str, str]:
    """The environment for server processes: no debug switches."""
    env = dict(os.environ)
    for name in ("PYTHONASYNCIODEBUG", "PYTHONDEVMODE", "PYTHONTRACEMALLOC", "PYTHONMALLOC"):
        env.pop(name, None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def host_cli() -> list[str]:
    """`reference-host` of this interpreter's environment."""
    executable = Path(sys.executable).parent / "reference-host"
    if executable.exists():
        return [str(executable)]
    return [sys.executable, "-m", "reference_host.cli"]


def host_command(
    *,
    database_url: str,
    redis_url: str | None,
    port: int,
    workers: int,
    data_dir: Path,
    config: Path | None = None,
    auth_cache_ttl: float | None = None,
) -> list[str]:
    command = [
        *host_cli(),
        "serve",
        "--database-url",
        database_url,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--data-dir",
        str(data_dir),
    ]
    command += ["--redis-url", redis_url] if redis_url is not None else ["--no-redis"]
    if config is not None:
        command += ["--config", str(config)]
    if auth_cache_ttl is not None:
        command += ["--auth-cache-ttl", str(auth_cache_ttl)]
    return command


def baseline_command(
    kind: str, *, port: int, workers: int, redis_url: str | None, key: str
) -> list[str]:
    command = [sys.executable, "-m", "bench.baselines", kind, "--port", str(port)]
    command += ["--workers", str(workers), "--key", key]
    if redis_url is not None:
        command += ["--redis-url", redis_url]
    return command


class ServerProcess:
    def __init__(self, name: str, command: list[str], port: int, log_path: Path) -> None:
        self.name = name
        self.command = command
        self.port = port
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError(f"{self.name} is not running")
        return self.process.pid

    def start(self, probe_path: str, probe_body: bytes, timeout: float = 60.0) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=production_env(),
            cwd=REPO_ROOT,
            start_new_session=True,
        )
        log.close()
        asyncio.run(self._wait_ready(probe_path, probe_body, time.monotonic() + timeout))

    async def _wait_ready(self, path: str, body: bytes, deadline: float) -> None:
        last_error = "no answer"
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.process is not None and self.process.poll() is not None:
                    break
                try:
                    async with session.post(
                        self.base_url + path,
                        data=body,
                        headers={"Content-Type": "application/json"},
                    ) as response:
                        await response.read()
                        if response.status < 300:
                            return
                        last_error = f"status {response.status}"
                except (aiohttp.ClientError, OSError) as exc:
                    last_error = f"{type(exc).__name__}: {exc}"
                await asyncio.sleep(0.2)
        tail = self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""
        self.stop()
        raise RuntimeError(f"{self.name} did not become ready ({last_error}); log tail:\n{tail}")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None


@contextlib.contextmanager
def running(
    name: str, command: list[str], port: int, log_path: Path, probe_path: str, probe_body: bytes
) -> Iterator[ServerProcess]:
    server = ServerProcess(name, command, port, log_path)
    server.start(probe_path, probe_body)
    try:
        yield server
    finally:
        server.stop()


__all__ = ["free_port"]
