"""`make test-sdk`: drive a live reference host with the official SDK (backend.ai-client 26.9.6).

Creates `.venv-sdk` with a Python 3.13 interpreter when missing, starts the host on embedded
servers in a throw-away data directory (or on REFERENCE_HOST_DATABASE_URL / _REDIS_URL),
creates a superadmin and a user, runs tests/sdk/drive_sdk.py with their keys, and exits with
the driver's status.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SDK_VENV = ROOT / ".venv-sdk"
SDK_REQUIREMENT = "backend.ai-client==26.9.6"
HOST_CLI = Path(sys.executable).parent / "reference-host"


def find_python313(preferred: str) -> str | None:
    """A Python 3.13 interpreter that actually runs (pyenv shims exist for inactive versions)."""
    candidates = [preferred] if preferred else []
    candidates += ["python3.13", *sorted(glob.glob("/root/.pyenv/versions/3.13*/bin/python3.13"))]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.13*/bin/python3.13")))
    for candidate in candidates:
        try:
            result = subprocess.run(
                [candidate, "-c", "import sys; assert sys.version_info[:2] == (3, 13)"],
                capture_output=True,
            )
        except OSError:
            continue
        if result.returncode == 0:
            return candidate
    return None


def ensure_sdk_venv(sdk_python: str) -> Path:
    python = SDK_VENV / "bin" / "python"
    marker = SDK_VENV / ".sdk-installed"
    if not python.exists():
        subprocess.run([sdk_python, "-m", "venv", str(SDK_VENV)], check=True)
    if not marker.exists():
        subprocess.run([str(python), "-m", "pip", "install", "-q", SDK_REQUIREMENT], check=True)
        marker.write_text(SDK_REQUIREMENT + "\n")
    return python


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def host_cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(HOST_CLI), *args], env=env, check=True, capture_output=True, text=True
    )
    return result.stdout


def wait_until_serving(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the reference host exited during start-up")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the reference host did not start within 60 s")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sdk-python", default="", help="A Python 3.13 interpreter.")
    parser.add_argument("--venv-only", action="store_true", help="Only create .venv-sdk.")
    args = parser.parse_args()
    interpreter = find_python313(args.sdk_python)
    if interpreter is None:
        print("test-sdk: no Python 3.13 interpreter found; the SDK suite was NOT run")
        return 1
    sdk_python = ensure_sdk_venv(interpreter)
    if args.venv_only:
        return 0
    data_dir = Path(tempfile.mkdtemp(prefix="sac-sdk-"))
    env = {**os.environ, "REFERENCE_HOST_DATA_DIR": str(data_dir)}
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server: subprocess.Popen[bytes] | None = None
    try:
        host_cli(env, "db", "upgrade")
        admin = json.loads(host_cli(env, "accounts", "ensure-superadmin", "--endpoint", endpoint))
        user = json.loads(
            host_cli(
                env,
                "accounts",
                "create-user",
                "--domain",
                admin["domain_name"],
                "--email",
                "sdk-user@example.com",
                "--role",
                "user",
            )
        )
        server = subprocess.Popen(
            [str(HOST_CLI), "serve", "--port", str(port), "--no-access-log"], env=env
        )
        wait_until_serving(port, server)
        driver_env = {
            **env,
            "BACKEND_ENDPOINT": endpoint,
            "BACKEND_ACCESS_KEY": admin["access_key"],
            "BACKEND_SECRET_KEY": admin["secret_key"],
            "ADMIN_USER_ID": admin["user_id"],
            "USER_ACCESS_KEY": user["access_key"],
            "USER_SECRET_KEY": user["secret_key"],
            "USER_ID": user["user_id"],
            "DOMAIN_ID": user["domain_id"],
            "BACKEND_AI_CLI": str(SDK_VENV / "bin" / "backend.ai"),
        }
        driver = ROOT / "tests" / "sdk" / "drive_sdk.py"
        return subprocess.run([str(sdk_python), str(driver)], env=driver_env).returncode
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
