"""The `reference-host` CLI end to end: migrations both ways, account commands whose JSON output
scripts can use, keys that authenticate a signed request, and a deactivation from another
process that takes effect at once."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from databases import create_database, drop_database
from reference_host.app import create_app
from reference_host.cli import main
from reference_host.keys import AUTHENTICATOR_KEY
from reference_host.settings import HostSettings
from signing import host_of, signed_headers


@pytest.fixture
def empty_database(server_database_url: str) -> Iterator[str]:
    name = f"sac_cli_{uuid.uuid4().hex[:10]}"
    asyncio.run(create_database(server_database_url, name))
    url = make_url(server_database_url).set(database=name)
    yield url.render_as_string(hide_password=False)
    asyncio.run(drop_database(server_database_url, name))


def run_cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


async def table_names(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
            return {row[0] for row in rows}
    finally:
        await engine.dispose()


def test_migrations_upgrade_downgrade_to_base_and_upgrade_again(empty_database: str) -> None:
    run_cli("db", "upgrade", "--database-url", empty_database)
    migrated = asyncio.run(table_names(empty_database))
    assert {"domains", "users", "keypairs", "app_config_fragments"} <= migrated
    run_cli("db", "downgrade", "base", "--database-url", empty_database)
    assert asyncio.run(table_names(empty_database)) == {"alembic_version"}
    run_cli("db", "upgrade", "--database-url", empty_database)
    assert asyncio.run(table_names(empty_database)) == migrated
    current = run_cli("db", "current", "--database-url", empty_database)
    assert current.count("(head)") == 2  # the host's lineage and the plugin's


async def test_created_users_keys_authenticate_a_signed_request(
    empty_database: str,
) -> None:
    await asyncio.to_thread(run_cli, "db", "upgrade", "--database-url", empty_database)
    domain = json.loads(
        await asyncio.to_thread(
            run_cli, "accounts", "create-domain", "acme", "--database-url", empty_database
        )
    )
    user = json.loads(
        await asyncio.to_thread(
            run_cli,
            "accounts",
            "create-user",
            "--domain",
            "acme",
            "--email",
            "ada@acme.test",
            "--role",
            "user",
            "--database-url",
            empty_database,
        )
    )
    assert set(user) >= {"user_id", "domain_id", "email", "role", "access_key", "secret_key"}
    assert user["domain_id"] == domain["id"] and user["role"] == "user"

    app = create_app(HostSettings(database_url=empty_database))
    async with TestClient(TestServer(app)) as client:
        keypairs = app[AUTHENTICATOR_KEY].keypair_cache
        for _ in range(100):  # the listener connects in the background at start-up
            if keypairs.trusted:
                break
            await asyncio.sleep(0.05)
        assert keypairs.trusted
        path = "/v2/app-config/my/get"
        headers = signed_headers(
            "POST", path, user["access_key"], user["secret_key"], host_of(client)
        )
        response = await client.post(path, json={"config_names": ["theme"]}, headers=headers)
        assert response.status == 200
        assert await response.json() == {"app_configs": [{"config_name": "theme", "config": {}}]}
        assert len(keypairs) == 1

        # Another process deactivates the key: its NOTIFY reaches this app's listener, so
        # the keypair cached by the request above stops working at once.
        await asyncio.to_thread(
            subprocess.run,
            [
                str(Path(sys.executable).parent / "reference-host"),
                "accounts",
                "deactivate-keypair",
                user["access_key"],
                "--database-url",
                empty_database,
            ],
            check=True,
            capture_output=True,
        )
        status = 200
        for _ in range(50):
            headers = signed_headers(
                "POST", path, user["access_key"], user["secret_key"], host_of(client)
            )
            response = await client.post(path, json={"config_names": ["t"]}, headers=headers)
            status = response.status
            if status == 401:
                break
            await asyncio.sleep(0.05)
        assert status == 401
