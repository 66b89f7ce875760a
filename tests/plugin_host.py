"""Shared by the HTTP API and security suites: the host app builder, the accounts of every
role, and a caller that signs its requests like the official SDK (WIRE.md §1-§2).

Accounts: the superadmin lives in its own domain ("default"); domain A holds the domain admin,
the user and another user; domain B holds the other-domain admin and the other-domain user.
The body is not part of the signature, so raw (malformed) bodies are signed like any other.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar, Final, NamedTuple, Protocol, TypeVar

import attrs
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from reference_host.accounts import db_source
from reference_host.accounts.service import UserCredentials
from reference_host.app import create_app
from reference_host.contract import Role
from reference_host.settings import HostSettings

# tests/ is on sys.path for pytest (tests/conftest.py); mypy sees this directory alone.
from signing import host_of, signed_headers  # type: ignore[import-not-found, unused-ignore]

HostClient = TestClient[web.Request, web.Application]
AiohttpClient = Callable[[web.Application], Awaitable[HostClient]]

JSON_CONTENT_TYPE: Final = "application/json"
SDK_API_VERSION: Final = "v9.20250722"
PROBLEM_BASE: Final = "https://api.backend.ai/probs/"
PROBLEM_CONTENT_TYPE: Final = "application/problem+json"

CONFIGS: Final = "/v2/app-config"
FRAGMENTS: Final = "/v2/app-config-fragments"
DEFINITIONS: Final = "/v2/app-config-definitions"
ALLOW_LIST: Final = "/v2/app-config-allow-list"

LARGE_BODY_BYTES: Final = 1024 * 1024


# The host app ----------------------------------------------------------------------------------


class MakeClient(Protocol):
    def __call__(
        self, *, redis_url: str | None = ..., plugin_config: Mapping[str, Any] | None = ...
    ) -> Awaitable[HostClient]: ...


def app_client_factory(
    aiohttp_client: AiohttpClient, database_url: str, redis_url: str | None
) -> MakeClient:
    """Build the host app (plugins discovered by entry point) and a test client for it.

    Defaults: `redis_url` and the manifest's plugin config; `plugin_config` overrides keys of
    the plugin's section.
    """
    default_redis_url = redis_url

    async def build(
        *, redis_url: str | None = default_redis_url, plugin_config: Mapping[str, Any] | None = None
    ) -> HostClient:
        settings = HostSettings(
            database_url=database_url,
            redis_url=redis_url,
            plugin_config={"scoped_app_config": dict(plugin_config or {})},
            access_log=False,
        )
        return await aiohttp_client(create_app(settings))

    return build


# Accounts --------------------------------------------------------------------------------------


@attrs.frozen
class Accounts:
    """The superadmin lives in "default"; domain A holds the domain admin, the user and the
    other user; domain B holds the other-domain admin and user."""

    domain_a: uuid.UUID
    domain_b: uuid.UUID
    superadmin: UserCredentials
    domain_admin: UserCredentials
    other_domain_admin: UserCredentials
    user: UserCredentials
    other_user: UserCredentials
    other_domain_user: UserCredentials


ACCOUNT_LAYOUT: Final = (
    # (field of Accounts, domain, email, role)
    ("superadmin", "default", "root@example.com", Role.SUPERADMIN),
    ("domain_admin", "domain-a", "admin@a.test", Role.ADMIN),
    ("other_domain_admin", "domain-b", "admin@b.test", Role.ADMIN),
    ("user", "domain-a", "user@a.test", Role.USER),
    ("other_user", "domain-a", "user2@a.test", Role.USER),
    ("other_domain_user", "domain-b", "user@b.test", Role.USER),
)


async def create_accounts(engine: AsyncEngine) -> Accounts:
    """Three domains and six accounts with a keypair each, inserted in one transaction (the
    host's account db_source, as `reference_host.accounts.service` uses it)."""
    credentials: dict[str, UserCredentials] = {}
    async with engine.begin() as conn:
        domains = {
            name: await db_source.insert_domain(conn, name)
            for name in ("default", "domain-a", "domain-b")
        }
        for field, domain, email, role in ACCOUNT_LAYOUT:
            user_id = await db_source.insert_user(conn, domains[domain], email, role)
            keypair = await db_source.insert_keypair(conn, user_id, is_admin=role != Role.USER)
            credentials[field] = UserCredentials(
                user_id=user_id,
                domain_id=domains[domain],
                domain_name=domain,
                email=email,
                role=role,
                access_key=keypair.access_key,
                secret_key=keypair.secret_key,
            )
    return Accounts(domain_a=domains["domain-a"], domain_b=domains["domain-b"], **credentials)


# Signed callers --------------------------------------------------------------------------------


CALLER_LABELS: Final = (
    "anonymous",
    "superadmin",
    "domain_admin",
    "other_domain_admin",
    "user",
    "other_user",
    "other_domain_user",
)
"""Nobody, then one caller per field of `Accounts` (the fields of each suite's `Callers`)."""


class RawReply(NamedTuple):
    status: int
    content_type: str
    raw: bytes


class SignedCaller:
    """One account (or nobody) talking to the test server like the SDK does: JSON content type
    on every request, the API version, an ISO-8601 Date, and the HMAC signature over the path
    as sent. An anonymous caller sends no Authorization header (like the SDK's public/get).

    Suites subclass it to parse replies their way.
    """

    requests_sent: ClassVar[int] = 0
    """Requests sent by callers of each subclass in this session (counted per subclass)."""

    def __init__(
        self, client: HostClient, label: str, credentials: UserCredentials | None = None
    ) -> None:
        self.client = client
        self.label = label
        self.credentials = credentials

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.label})"

    @property
    def user_id(self) -> uuid.UUID:
        assert self.credentials is not None, f"{self.label} has no account"
        return self.credentials["user_id"]

    @property
    def domain_id(self) -> uuid.UUID:
        assert self.credentials is not None, f"{self.label} has no account"
        return self.credentials["domain_id"]

    def headers(self, method: str, path: str, version: str = SDK_API_VERSION) -> dict[str, str]:
        if self.credentials is None:
            return {
                "Content-Type": JSON_CONTENT_TYPE,
                "X-BackendAI-Version": version,
                "Date": dt.datetime.now(dt.UTC).isoformat(),
            }
        headers: dict[str, str] = signed_headers(
            method,
            path,
            self.credentials["access_key"],
            self.credentials["secret_key"],
            host_of(self.client),
            version=version,
        )
        return headers

    async def transmit(
        self,
        method: str,
        path: str,
        raw: bytes | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        version: str = SDK_API_VERSION,
    ) -> RawReply:
        """Send `raw` as the body (nothing when empty), signed for `method`, `path`, `version`
        unless `headers` are given; the answer's status, bare content type and raw body."""
        sent = dict(self.headers(method, path, version) if headers is None else headers)
        cls = type(self)
        cls.requests_sent += 1
        # Large bodies as a stream: aiohttp warns about (and blocks on) big raw bytes.
        data = (io.BytesIO(raw) if len(raw) > LARGE_BODY_BYTES else raw) if raw else None
        async with self.client.request(method, path, data=data, headers=sent) as response:
            return RawReply(response.status, response.content_type, await response.read())


CallerT = TypeVar("CallerT", bound=SignedCaller)


def callers_by_label(
    caller_type: Callable[[HostClient, str, UserCredentials | None], CallerT],
    client: HostClient,
    accounts: Accounts,
) -> dict[str, CallerT]:
    """One caller per label of `CALLER_LABELS` (anonymous has no account), as keyword
    arguments for a suite's `Callers`."""
    return {
        label: caller_type(
            client, label, None if label == "anonymous" else getattr(accounts, label)
        )
        for label in CALLER_LABELS
    }
