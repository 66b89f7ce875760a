"""`reference-host`: serve, migrate and manage accounts. Account commands print JSON on stdout."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from reference_host import migrate
from reference_host.auth.keypair_cache import DEFAULT_TTL_SECONDS as DEFAULT_AUTH_CACHE_TTL
from reference_host.config_file import load_host_config
from reference_host.request_id import install_request_id_filter
from reference_host.servers import ServerChoice, database, servers
from reference_host.settings import DEFAULT_GC_YOUNG_THRESHOLD, HostSettings

T = TypeVar("T")

server_options = [
    click.option("--database-url", default=None, help="PostgreSQL 15+ URL (default: embedded)."),
    click.option(
        "--redis-url", default=None, help="redis:// or redis+cluster:// (default: embedded)."
    ),
    click.option("--no-redis", is_flag=True, help="Run without any cache."),
    click.option(
        "--data-dir", default=None, help="Where embedded servers keep data (default .data)."
    ),
    click.option(
        "--config",
        "config_path",
        default=None,
        type=click.Path(dir_okay=False),
        help="Host config TOML (plugin allow/block lists, plugin config sections).",
    ),
]


def with_server_options(func: Callable[..., T]) -> Callable[..., T]:
    for option in reversed(server_options):
        func = option(func)
    return func


def _choice(options: dict[str, Any]) -> ServerChoice:
    return ServerChoice.from_options(
        database_url=options["database_url"],
        redis_url=options["redis_url"],
        no_redis=options["no_redis"],
        data_dir=options["data_dir"],
    )


def _settings(
    options: dict[str, Any], database_url: str, redis_url: str | None, **overrides: Any
) -> HostSettings:
    config = load_host_config(Path(options["config_path"]) if options["config_path"] else None)
    return HostSettings(
        database_url=database_url,
        redis_url=redis_url,
        plugin_allow=config.plugin_allow,
        plugin_block=config.plugin_block,
        plugin_config=config.plugin_config,
        **overrides,
    )


def _plugin_locations(settings: HostSettings) -> list[Path]:
    from reference_host.plugins.discovery import discover_plugins

    return [p.migration_location for p in discover_plugins(settings) if p.migration_location]


def _emit(payload: Any) -> None:
    click.echo(json.dumps(payload, default=str))


def _with_engine(database_url: str, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_async_engine(database_url)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())


@click.group()
@click.option("-v", "--verbose", is_flag=True)
def main(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
    )
    install_request_id_filter()


@main.command()
@with_server_options
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8090, show_default=True, envvar="PORT")
@click.option("--workers", default=1, show_default=True, help="Worker processes (SO_REUSEPORT).")
@click.option("--no-access-log", is_flag=True)
@click.option(
    "--gc-threshold",
    default=DEFAULT_GC_YOUNG_THRESHOLD,
    show_default=True,
    help="Allocations between young-generation garbage collections (0: CPython's default).",
)
@click.option(
    "--db-pool-pre-ping",
    is_flag=True,
    help="Test every pooled database connection before use (three extra round trips each).",
)
@click.option(
    "--auth-cache-ttl",
    type=click.FloatRange(min=0),
    default=DEFAULT_AUTH_CACHE_TTL,
    show_default=True,
    help="Seconds a keypair stays cached in a worker (0: read it on every request). Account"
    " changes reach every worker at once through PostgreSQL; this bounds a missed one.",
)
def serve(
    host: str,
    port: int,
    workers: int,
    no_access_log: bool,
    gc_threshold: int,
    db_pool_pre_ping: bool,
    auth_cache_ttl: float,
    **options: Any,
) -> None:
    """Serve the host with its plugins (run `db upgrade` first)."""
    from reference_host.serving import run_workers

    with servers(_choice(options)) as resolved:
        settings = _settings(
            options,
            resolved.database_url,
            resolved.redis_url,
            host=host,
            port=port,
            access_log=not no_access_log,
            gc_young_threshold=gc_threshold,
            db_pool_pre_ping=db_pool_pre_ping,
            auth_cache_ttl_seconds=auth_cache_ttl,
        )
        run_workers(settings, workers)


@main.group()
def db() -> None:
    """Schema migrations over the host's and every plugin's Alembic lineage."""


@db.command("upgrade")
@with_server_options
@click.argument("target", default="heads")
def db_upgrade(target: str, **options: Any) -> None:
    with database(_choice(options)) as url:
        migrate.upgrade(url, _plugin_locations(_settings(options, url, None)), target)
        click.echo(migrate.current(url, _plugin_locations(_settings(options, url, None))), nl=False)


@db.command("downgrade")
@with_server_options
@click.argument("target")
def db_downgrade(target: str, **options: Any) -> None:
    with database(_choice(options)) as url:
        migrate.downgrade(url, _plugin_locations(_settings(options, url, None)), target)


@db.command("current")
@with_server_options
def db_current(**options: Any) -> None:
    with database(_choice(options)) as url:
        click.echo(migrate.current(url, _plugin_locations(_settings(options, url, None))), nl=False)


@main.group()
def accounts() -> None:
    """Domains, users and keypairs (JSON on stdout)."""


@accounts.command("create-domain")
@with_server_options
@click.argument("name")
def create_domain(name: str, **options: Any) -> None:
    from reference_host.accounts import service

    with database(_choice(options)) as url:
        created = _with_engine(url, lambda engine: service.create_domain(engine, name))
        _emit({"id": created["domain_id"], "name": created["name"]})


@accounts.command("create-user")
@with_server_options
@click.option("--domain", "domain_name", required=True)
@click.option("--email", required=True)
@click.option(
    "--role", type=click.Choice(["superadmin", "admin", "user"]), default="user", show_default=True
)
def create_user(domain_name: str, email: str, role: str, **options: Any) -> None:
    from reference_host.accounts import service

    with database(_choice(options)) as url:
        _emit(
            _with_engine(url, lambda engine: service.create_user(engine, domain_name, email, role))
        )


@accounts.command("deactivate-keypair")
@with_server_options
@click.argument("access_key")
def deactivate_keypair(access_key: str, **options: Any) -> None:
    from reference_host.accounts import service

    with database(_choice(options)) as url:
        _with_engine(url, lambda engine: service.deactivate_keypair(engine, access_key))
        _emit({"access_key": access_key, "is_active": False})


@accounts.command("ensure-superadmin")
@with_server_options
@click.option("--domain", "domain_name", default="default", show_default=True)
@click.option("--email", default="admin@example.com", show_default=True)
@click.option(
    "--write-env",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write BACKEND_ENDPOINT/ACCESS_KEY/SECRET_KEY to this file.",
)
@click.option("--endpoint", default="http://127.0.0.1:8090", show_default=True)
@click.option("--print-example", is_flag=True, help="Explain on stderr how to call the API.")
def ensure_superadmin(
    domain_name: str,
    email: str,
    write_env: str | None,
    endpoint: str,
    print_example: bool,
    **options: Any,
) -> None:
    """Create (or reuse) a superadmin and its keypair."""
    from reference_host.accounts import service

    with database(_choice(options)) as url:
        admin = _with_engine(
            url, lambda engine: service.ensure_superadmin(engine, domain_name, email)
        )
    if write_env:
        path = Path(write_env)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f"BACKEND_ENDPOINT={endpoint}\n"
            f"BACKEND_ACCESS_KEY={admin['access_key']}\n"
            f"BACKEND_SECRET_KEY={admin['secret_key']}\n"
        )
        path.chmod(0o600)
    _emit(admin)
    if print_example:
        click.echo(_example(endpoint, admin, write_env), err=True)


def _example(endpoint: str, admin: Mapping[str, Any], env_file: str | None) -> str:
    source = (
        f"set -a; . {env_file}; set +a"
        if env_file
        else (
            f"export BACKEND_ENDPOINT={endpoint} BACKEND_ACCESS_KEY={admin['access_key']}"
            f" BACKEND_SECRET_KEY={admin['secret_key']}"
        )
    )
    return f"""
Superadmin {admin["email"]} (domain {admin.get("domain_name", "default")}):
  BACKEND_ENDPOINT={endpoint}
  BACKEND_ACCESS_KEY={admin["access_key"]}
  BACKEND_SECRET_KEY={admin["secret_key"]}

In another shell, once the server below is up:
  {source}
  .venv/bin/reference-host request POST /v2/app-config-definitions/ '{{"config_name": "theme"}}'
  .venv/bin/reference-host request POST /v2/app-config-allow-list/ \\
      '{{"config_name": "theme", "scope_type": "public"}}'
  .venv/bin/reference-host request POST /v2/app-config-fragments/scoped/bulk-upsert \\
      '{{"scope": {{"scope_type": "public"}},
        "items": [{{"config_name": "theme", "config": {{"mode": "dark"}}}}]}}'
  .venv/bin/reference-host request POST /v2/app-config/public/get '{{"config_names": ["theme"]}}'
The official SDK (Python 3.13, pip install backend.ai-client==26.9.6) reads the same variables:
  backend.ai v2 public app-config get theme
"""


@main.command()
@click.argument("method")
@click.argument("path")
@click.argument("body", required=False)
@click.option(
    "--endpoint", envvar="BACKEND_ENDPOINT", default="http://127.0.0.1:8090", show_default=True
)
@click.option("--access-key", envvar="BACKEND_ACCESS_KEY", default=None)
@click.option("--secret-key", envvar="BACKEND_SECRET_KEY", default=None)
def request(
    method: str,
    path: str,
    body: str | None,
    endpoint: str,
    access_key: str | None,
    secret_key: str | None,
) -> None:
    """Send one signed request (keys from BACKEND_ACCESS_KEY/SECRET_KEY) and print the answer."""
    import aiohttp

    from reference_host.client import signed_headers

    async def send() -> tuple[int, str]:
        headers = {"Content-Type": "application/json"}
        if access_key and secret_key:
            headers = signed_headers(
                method, path, endpoint=endpoint, access_key=access_key, secret_key=secret_key
            )
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                method.upper(),
                endpoint.rstrip("/") + path,
                data=(body or "").encode(),
                headers=headers,
            ) as response,
        ):
            return response.status, await response.text()

    status, text = asyncio.run(send())
    click.echo(f"{status}", err=True)
    click.echo(text)
    if status >= 400:
        sys.exit(1)


if __name__ == "__main__":
    sys.exit(main())
