"""Resolve where the database and Redis are: external URLs, or embedded servers under a data dir."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import attrs

from reference_host.embedded import EmbeddedPostgres, EmbeddedRedis
from reference_host.settings import DATABASE_URL_ENV, REDIS_URL_ENV

DATA_DIR_ENV = "REFERENCE_HOST_DATA_DIR"


@attrs.frozen
class ServerChoice:
    database_url: str | None
    redis_url: str | None
    no_redis: bool
    data_dir: Path

    @classmethod
    def from_options(
        cls,
        *,
        database_url: str | None,
        redis_url: str | None,
        no_redis: bool,
        data_dir: str | None,
    ) -> ServerChoice:
        return cls(
            database_url=database_url or os.environ.get(DATABASE_URL_ENV) or None,
            redis_url=redis_url or os.environ.get(REDIS_URL_ENV) or None,
            no_redis=no_redis,
            data_dir=Path(data_dir or os.environ.get(DATA_DIR_ENV) or ".data").resolve(),
        )


@attrs.frozen
class ResolvedServers:
    database_url: str
    redis_url: str | None


def normalize_database_url(url: str) -> str:
    """Accept plain postgresql:// URLs and select the asyncpg driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


@contextlib.contextmanager
def database(choice: ServerChoice) -> Iterator[str]:
    """The database URL; an embedded server under data_dir/pg is started (or adopted) if needed."""
    if choice.database_url is not None:
        yield normalize_database_url(choice.database_url)
        return
    server = EmbeddedPostgres(choice.data_dir / "pg")
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@contextlib.contextmanager
def servers(choice: ServerChoice) -> Iterator[ResolvedServers]:
    """Database and Redis for `serve`: embedded Redis lives exactly as long as the server."""
    with database(choice) as database_url:
        if choice.no_redis:
            yield ResolvedServers(database_url, None)
            return
        if choice.redis_url is not None:
            yield ResolvedServers(database_url, choice.redis_url)
            return
        redis = EmbeddedRedis(choice.data_dir / "redis")
        redis_url = redis.start()
        try:
            yield ResolvedServers(database_url, redis_url)
        finally:
            redis.stop()
