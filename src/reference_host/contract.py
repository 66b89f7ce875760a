"""The host contract: the only module of `reference_host` a plugin may import.

A plugin is a distribution that declares an entry point in the group `PLUGIN_ENTRY_POINT_GROUP`
pointing at a callable `setup(registrar: PluginRegistrar) -> None`, and ships a `plugin.toml`
manifest inside its top-level package. During start-up the host validates the manifest, builds
a `PluginContext` and calls `setup`; the plugin registers its routes, migration location and
metric layer labels through the registrar.

Everything here is typed and framework-light: aiohttp types appear only where a plugin hands
routes to the host or reads the caller from a request.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Protocol, TypeAlias

import attrs
import orjson
from aiohttp import web
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from sqlalchemy.ext.asyncio import AsyncEngine

PLUGIN_ENTRY_POINT_GROUP = "reference_host.plugins"

RedisClient: TypeAlias = "Redis | RedisCluster"


class Role(enum.StrEnum):
    SUPERADMIN = "superadmin"
    ADMIN = "admin"
    USER = "user"


@attrs.frozen
class Caller:
    """The authenticated identity of a request (WIRE.md §2, step 5)."""

    user_id: uuid.UUID
    email: str
    role: Role
    domain_id: uuid.UUID
    domain_name: str
    access_key: str
    is_admin: bool


class AuthRequirement(enum.Enum):
    ANONYMOUS = "anonymous"
    AUTHENTICATED = "authenticated"
    ADMIN = "admin"
    SUPERADMIN = "superadmin"


# The caller of the current request, or None for an anonymous request.
# The auth middleware sets it on every request before any handler runs.
CALLER_KEY: web.RequestKey[Caller | None] = web.RequestKey("reference_host.caller")

Handler: TypeAlias = Callable[[web.Request], Awaitable[web.StreamResponse]]
_AUTH_ATTRIBUTE = "__reference_host_auth__"


def requires(requirement: AuthRequirement) -> Callable[[Handler], Handler]:
    """Declare a handler's auth requirement (the named decorators below are shorthands)."""

    def mark(handler: Handler) -> Handler:
        setattr(handler, _AUTH_ATTRIBUTE, requirement)
        return handler

    return mark


anonymous = requires(AuthRequirement.ANONYMOUS)
authenticated = requires(AuthRequirement.AUTHENTICATED)
admin_required = requires(AuthRequirement.ADMIN)
superadmin_required = requires(AuthRequirement.SUPERADMIN)


def auth_requirement_of(handler: object) -> AuthRequirement:
    """The requirement a route handler declared; undecorated handlers need authentication."""
    requirement = getattr(handler, _AUTH_ATTRIBUTE, AuthRequirement.AUTHENTICATED)
    assert isinstance(requirement, AuthRequirement)
    return requirement


def current_caller(request: web.Request) -> Caller:
    """The caller of a route that required authentication (the auth middleware guarantees it)."""
    if CALLER_KEY in request and (caller := request[CALLER_KEY]) is not None:
        return caller
    raise ProblemError(
        status=401,
        type_slug="auth-failed",
        title="Unauthorized access",
        error_code="auth_request_unauthorized",
    )


class ProblemError(Exception):
    """An error the host renders as `application/problem+json` (WIRE.md §5).

    Plugins map their own domain errors to this at their API boundary.
    """

    def __init__(
        self,
        *,
        status: int,
        type_slug: str,
        title: str,
        error_code: str,
        msg: str | None = None,
        data: Any = None,
    ) -> None:
        super().__init__(msg or title)
        self.status = status
        self.type_slug = type_slug
        self.title = title
        self.error_code = error_code
        self.msg = msg
        self.data = data


def _malformed_body() -> ProblemError:
    return ProblemError(
        status=400,
        type_slug="generic-bad-request",
        title="Malformed request body",
        error_code="api_parsing_malformed-body",
        msg="The request body must be one JSON value (UTF-8, RFC 8259; no NaN or Infinity).",
    )


async def read_json(request: web.Request) -> Any:
    """The request body as JSON, or ProblemError 400 "Malformed request body".

    Empty bodies, invalid UTF-8, NaN/Infinity and anything that is not strict JSON are
    rejected. A body over the host's size limit raises aiohttp's 413, rendered by the host.
    """
    return parse_json_body(await request.read())


def parse_json_body(body: bytes) -> Any:
    """`body` as strict JSON (what `read_json` applies), for plugins that read bodies themselves."""
    if not body.strip():
        raise _malformed_body()
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise _malformed_body() from None


def _json_default(value: object) -> object:
    # asyncpg returns its own UUID class (a uuid.UUID look-alike orjson does not know).
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_response(data: Any, *, status: int = 200) -> web.Response:
    """A JSON success response (`application/json`), serialized with orjson.

    UUIDs (also asyncpg's), timezone-aware datetimes (ISO 8601), enums and dataclasses
    serialize natively.
    """
    return web.Response(
        status=status,
        body=orjson.dumps(data, default=_json_default, option=orjson.OPT_NON_STR_KEYS),
        content_type="application/json",
    )


class LayerMetrics(Protocol):
    """Layer metrics (Backend.AI `LayerType`-style): every label must be registered first."""

    def observe(
        self, *, domain: str, layer: str, operation: str
    ) -> AbstractAsyncContextManager[None]:
        """Count the operation by success, time it, track it in flight and count its error."""
        ...

    def count_retry(self, *, domain: str, layer: str, operation: str) -> None: ...


@attrs.frozen
class AccountView:
    user_id: uuid.UUID
    domain_id: uuid.UUID
    role: Role


class AccountDirectory(Protocol):
    """Read access to the host's accounts, for existence checks and admin reads."""

    async def domain_exists(self, domain_id: uuid.UUID) -> bool: ...

    async def find_user(self, user_id: uuid.UUID) -> AccountView | None: ...


@attrs.frozen
class PluginContext:
    """What the host hands a plugin. Read it in handlers through `PLUGIN_CONTEXT_KEY`."""

    name: str
    engine: AsyncEngine
    redis: RedisClient | None
    metrics_registry: CollectorRegistry
    layer_metrics: LayerMetrics
    accounts: AccountDirectory
    config: Mapping[str, Any]


# Set by the host on every sub-application a plugin mounts (and readable from its handlers
# through `request.config_dict[PLUGIN_CONTEXT_KEY]`).
PLUGIN_CONTEXT_KEY = web.AppKey("reference_host.plugin_context", PluginContext)

CleanupContext: TypeAlias = Callable[[web.Application], AsyncIterator[None]]


class PluginRegistrar(Protocol):
    """Given to a plugin's `setup`; everything a plugin may do to the host goes through it."""

    @property
    def context(self) -> PluginContext: ...

    def mount(self, prefix: str, app: web.Application) -> None:
        """Mount a sub-application under one of the manifest's API prefixes."""
        ...

    def add_migration_location(self, path: Path) -> None: ...

    def add_layer_labels(self, labels: list[str]) -> None: ...

    def add_cleanup_ctx(self, ctx: CleanupContext) -> None:
        """Run `ctx` in the host application's start-up/clean-up (after engine and Redis)."""
        ...


PluginSetup: TypeAlias = Callable[[PluginRegistrar], None]

__all__ = [
    "CALLER_KEY",
    "PLUGIN_CONTEXT_KEY",
    "PLUGIN_ENTRY_POINT_GROUP",
    "AccountDirectory",
    "AccountView",
    "AuthRequirement",
    "Caller",
    "CleanupContext",
    "LayerMetrics",
    "PluginContext",
    "PluginRegistrar",
    "PluginSetup",
    "ProblemError",
    "RedisClient",
    "Role",
    "admin_required",
    "anonymous",
    "auth_requirement_of",
    "authenticated",
    "current_caller",
    "json_response",
    "parse_json_body",
    "read_json",
    "requires",
    "superadmin_required",
]
