"""HMAC authentication and route requirements through the real app (WIRE.md §2)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from plugin_host import HostClient
from reference_host.accounts import service
from reference_host.accounts.service import UserCredentials
from signing import host_of, signed_headers

PROBS = "https://api.backend.ai/probs/"
INVALID_PARAMS = "Missing or invalid authorization parameters."


def headers_for(
    client: HostClient, method: str, path: str, who: UserCredentials, **kwargs: Any
) -> dict[str, str]:
    return signed_headers(
        method, path, who["access_key"], who["secret_key"], host_of(client), **kwargs
    )


async def get_json(
    client: HostClient, path: str, headers: dict[str, str]
) -> tuple[int, str, dict[str, Any]]:
    async with client.get(path, headers=headers) as response:
        return response.status, response.content_type, await response.json(content_type=None)


class TestSignedRequests:
    async def test_signed_request_carries_the_caller(
        self, client: HostClient, plain_user: UserCredentials
    ) -> None:
        path = "/probe/authenticated"
        status, content_type, body = await get_json(
            client, path, headers_for(client, "GET", path, plain_user)
        )
        assert (status, content_type) == (200, "application/json")
        assert body["caller"] == {
            "email": "user@example.com",
            "role": "user",
            "user_id": str(plain_user["user_id"]),
        }

    async def test_signed_post_with_json_body_is_accepted(
        self, client: HostClient, plain_user: UserCredentials
    ) -> None:
        path = "/probe/authenticated"
        async with client.post(
            path, json={"x": 1}, headers=headers_for(client, "POST", path, plain_user)
        ) as response:
            assert response.status == 200

    async def test_query_string_is_part_of_the_signature(
        self, client: HostClient, plain_user: UserCredentials
    ) -> None:
        path = "/probe/authenticated?a=1"
        status, _, _ = await get_json(client, path, headers_for(client, "GET", path, plain_user))
        assert status == 200
        unsigned_query = headers_for(client, "GET", "/probe/authenticated", plain_user)
        status, _, body = await get_json(client, path, unsigned_query)
        assert (status, body["title"]) == (401, "HMAC signature mismatch")


class TestAuthFailures:
    async def test_skewed_date_is_rejected_as_sync_error(
        self, client: HostClient, plain_user: UserCredentials
    ) -> None:
        path = "/probe/authenticated"
        stale = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16)
        status, content_type, body = await get_json(
            client, path, headers_for(client, "GET", path, plain_user, date=stale)
        )
        assert (status, content_type) == (400, "application/problem+json")
        assert body["type"] == PROBS + "invalid-auth-params"
        assert body["title"] == INVALID_PARAMS
        assert body["msg"] == "Date/time sync error"

    async def test_missing_date_is_rejected_as_sync_error(
        self, client: HostClient, plain_user: UserCredentials
    ) -> None:
        path = "/probe/authenticated"
        headers = headers_for(client, "GET", path, plain_user)
        del headers["Date"]
        status, _, body = await get_json(client, path, headers)
        assert status == 400
        assert (body["type"], body["title"], body["msg"]) == (
            PROBS + "invalid-auth-params",
            INVALID_PARAMS,
            "Date/time sync error",
        )

    async def test_unparsable_date_is_rejected_as_sync_error(
        self, client: HostClient, plain_user: UserCredentials
    ) -> None:
        path = "/probe/authenticated"
        headers = headers_for(client, "GET", path, plain_user) | {"Date": "not a date"}
        status, _, body = await get_json(client, path, headers)
        assert (status, body["msg"]) == (400, "Date/time sync error")

    async def test_malformed_authorization_is_rejected(
        self, client: HostClient, plain_user: UserCredentials
    ) -> None:
        path = "/probe/authenticated"
        headers = headers_for(client, "GET", path, plain_user)
        headers["Authorization"] = "BackendAI signMethod=HMAC-SHA256, credential=no-signature"
        status, _, body = await get_json(client, path, headers)
        assert status == 400
        assert (body["type"], body["title"]) == (PROBS + "invalid-auth-params", INVALID_PARAMS)

    async def test_unknown_access_key_is_rejected(
        self, client: HostClient, plain_user: UserCredentials
    ) -> None:
        path = "/probe/authenticated"
        stranger = plain_user | {"access_key": "AKIANOTAREALKEY00000"}
        status, _, body = await get_json(client, path, headers_for(client, "GET", path, stranger))
        assert status == 401
        assert (body["type"], body["title"]) == (
            PROBS + "auth-failed",
            "Access key not found in HMAC",
        )

    async def test_keypair_deactivated_after_caching_is_rejected_at_once(
        self, client: HostClient, db_engine: AsyncEngine, plain_user: UserCredentials
    ) -> None:
        path = "/probe/authenticated"
        status, _, _ = await get_json(client, path, headers_for(client, "GET", path, plain_user))
        assert status == 200  # the keypair is now in the app's cache

        await service.deactivate_keypair(db_engine, plain_user["access_key"])

        status, _, body = await get_json(client, path, headers_for(client, "GET", path, plain_user))
        assert (status, body["title"]) == (401, "Access key not found in HMAC")

    async def test_inactive_user_is_rejected_at_once(
        self, client: HostClient, db_engine: AsyncEngine, plain_user: UserCredentials
    ) -> None:
        path = "/probe/authenticated"
        status, _, _ = await get_json(client, path, headers_for(client, "GET", path, plain_user))
        assert status == 200

        await service.deactivate_user(db_engine, plain_user["user_id"])

        status, _, body = await get_json(client, path, headers_for(client, "GET", path, plain_user))
        assert (status, body["type"]) == (401, PROBS + "auth-failed")
        assert body["title"] == "Access key not found in HMAC"

    async def test_wrong_signature_is_rejected(
        self, client: HostClient, plain_user: UserCredentials
    ) -> None:
        path = "/probe/authenticated"
        forged = plain_user | {"secret_key": "x" * 40}
        status, _, body = await get_json(client, path, headers_for(client, "GET", path, forged))
        assert status == 401
        assert (body["type"], body["title"]) == (PROBS + "auth-failed", "HMAC signature mismatch")

    async def test_unsupported_api_version_is_rejected(
        self, client: HostClient, plain_user: UserCredentials
    ) -> None:
        path = "/probe/authenticated"
        headers = headers_for(client, "GET", path, plain_user, version="v10.20990101")
        status, _, body = await get_json(client, path, headers)
        assert status == 400
        assert (body["type"], body["title"]) == (
            PROBS + "generic-bad-request",
            "Unsupported API version.",
        )

    async def test_oldest_supported_api_version_is_accepted(
        self, client: HostClient, plain_user: UserCredentials
    ) -> None:
        path = "/probe/authenticated"
        headers = headers_for(client, "GET", path, plain_user, version="v4.20181215")
        status, _, _ = await get_json(client, path, headers)
        assert status == 200


class TestRouteRequirements:
    async def test_anonymous_route_ignores_bad_credentials(self, client: HostClient) -> None:
        headers = {"Authorization": "BackendAI garbage", "Date": "not a date"}
        status, _, body = await get_json(client, "/probe/anonymous", headers)
        assert (status, body) == (200, {"caller": None})

    async def test_authenticated_route_without_credentials_is_unauthorized(
        self, client: HostClient
    ) -> None:
        status, _, body = await get_json(client, "/probe/authenticated", {})
        assert status == 401
        assert (body["type"], body["title"]) == (PROBS + "auth-failed", "Unauthorized access")

    async def test_admin_route_admits_domain_admin(
        self, client: HostClient, domain_admin: UserCredentials
    ) -> None:
        path = "/probe/admin"
        status, _, _ = await get_json(client, path, headers_for(client, "GET", path, domain_admin))
        assert status == 200

    async def test_admin_route_admits_superadmin(
        self, client: HostClient, superadmin: UserCredentials
    ) -> None:
        path = "/probe/admin"
        status, _, _ = await get_json(client, path, headers_for(client, "GET", path, superadmin))
        assert status == 200

    async def test_admin_route_forbids_plain_user(
        self, client: HostClient, plain_user: UserCredentials
    ) -> None:
        path = "/probe/admin"
        status, _, body = await get_json(client, path, headers_for(client, "GET", path, plain_user))
        assert status == 403
        assert (body["type"], body["title"]) == (
            PROBS + "generic-forbidden",
            "Insufficient privileges",
        )

    async def test_superadmin_route_without_credentials_is_unauthorized(
        self, client: HostClient
    ) -> None:
        status, _, body = await get_json(client, "/probe/superadmin", {})
        assert (status, body["title"]) == (401, "Unauthorized access")

    async def test_superadmin_route_forbids_domain_admin(
        self, client: HostClient, domain_admin: UserCredentials
    ) -> None:
        path = "/probe/superadmin"
        status, _, body = await get_json(
            client, path, headers_for(client, "GET", path, domain_admin)
        )
        assert (status, body["title"]) == (403, "Insufficient privileges")

    async def test_superadmin_route_admits_superadmin(
        self, client: HostClient, superadmin: UserCredentials
    ) -> None:
        path = "/probe/superadmin"
        status, _, body = await get_json(client, path, headers_for(client, "GET", path, superadmin))
        assert status == 200
        assert body["caller"]["role"] == "superadmin"
