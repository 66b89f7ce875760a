"""Host settings, resolved: by the time an app is built every URL is concrete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from reference_host.auth.keypair_cache import DEFAULT_TTL_SECONDS as DEFAULT_AUTH_CACHE_TTL_SECONDS

DEFAULT_GC_YOUNG_THRESHOLD = 50_000


@attrs.frozen
class HostSettings:
    database_url: str
    """SQLAlchemy URL with the asyncpg driver, e.g. postgresql+asyncpg://user@host:5432/db."""
    redis_url: str | None = None
    """redis://… (one server), redis+cluster://host:port (a cluster), or None: no cache."""
    host: str = "127.0.0.1"
    port: int = 8090
    plugin_allow: tuple[str, ...] | None = None
    """Load only these plugins (by manifest name); None loads every installed plugin."""
    plugin_block: tuple[str, ...] = ()
    plugin_config: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    """Per-plugin overrides of the manifest's `[config]` defaults, by plugin name."""
    db_pool_size: int = 20
    db_max_overflow: int = 10
    db_pool_pre_ping: bool = False
    """Test each pooled connection before use. Off by default, as in Backend.AI's manager: on
    asyncpg a ping is three round trips (BEGIN, a statement, ROLLBACK) on every checkout, a
    third of a write's database time. Instead a connection found dead invalidates the whole
    pool, and reads retry once on a fresh connection (`database.read_reconnecting`), the
    plugin's transactions through its retry policy."""
    access_log: bool = True
    date_skew_seconds: int = 15 * 60
    gc_young_threshold: int = DEFAULT_GC_YOUNG_THRESHOLD
    """Allocations between two young-generation collections of each serving process (CPython's
    default is 700). Requests are short-lived: collected every 700 allocations, the objects of
    the requests in flight survive, get promoted and are scanned again and again; measured at
    32 connections this cost ~15 % of a cached read's CPU and tripled its p99 (bench/README.md).
    0 keeps the interpreter's default."""
    auth_cache_ttl_seconds: float = DEFAULT_AUTH_CACHE_TTL_SECONDS
    """How long a worker may reuse a keypair it looked up (see auth/keypair_cache.py). Account
    changes reach every worker at once through LISTEN/NOTIFY; this is the last bound if that
    channel fails unnoticed. 0 disables the cache."""


DATABASE_URL_ENV = "REFERENCE_HOST_DATABASE_URL"
REDIS_URL_ENV = "REFERENCE_HOST_REDIS_URL"
