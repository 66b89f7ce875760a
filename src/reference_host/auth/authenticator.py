"""Authenticate a signed request (WIRE.md §2), in the documented order of checks:

1. Date missing, unparsable or skewed -> 400 invalid-auth-params ("Date/time sync error")
2. malformed Authorization            -> 400 invalid-auth-params
3. unknown/inactive key, inactive user -> 401 auth-failed "Access key not found in HMAC"
4. signature mismatch                  -> 401 auth-failed "HMAC signature mismatch"
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from reference_host.accounts import db_source
from reference_host.auth import problems
from reference_host.auth.header import MalformedAuthorization, parse_authorization
from reference_host.auth.keypair_cache import CachedCredentials, KeypairCache
from reference_host.auth.signing import (
    SignedRequest,
    parse_request_date,
    sign_with_mac,
    signatures_match,
)
from reference_host.contract import Caller
from reference_host.database import read_reconnecting

DATE_HEADERS = ("Date", "X-BackendAI-Date")
VERSION_HEADER = "X-BackendAI-Version"


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Authenticator:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        date_skew: dt.timedelta,
        keypair_cache: KeypairCache,
        clock: Callable[[], dt.datetime] = _utc_now,
    ) -> None:
        self._engine = engine
        self._date_skew = date_skew
        self._keypairs = keypair_cache
        self._clock = clock

    @property
    def keypair_cache(self) -> KeypairCache:
        return self._keypairs

    async def authenticate(self, request: web.Request) -> Caller | None:
        """The caller, None without an Authorization header; raises ProblemError otherwise."""
        header = request.headers.get("Authorization")
        if not header:
            return None
        headers = request.headers
        raw_date = headers.get(DATE_HEADERS[0])
        if raw_date is None:
            raw_date = headers.get(DATE_HEADERS[1])
        date = self._checked_date(raw_date)
        assert raw_date is not None
        try:
            params = parse_authorization(header)
        except MalformedAuthorization as exc:
            raise problems.invalid_auth_params(str(exc)) from None
        api_version = headers.get(VERSION_HEADER)
        if api_version is None:
            raise problems.invalid_auth_params("API version missing in request headers")
        credentials = await self._keypairs.get(params.access_key, self._load)
        if credentials is None:
            raise problems.access_key_not_found()
        signed = SignedRequest(
            method=request.method,
            raw_path=request.raw_path,
            raw_date=raw_date,
            host=request.host,
            content_type=request.content_type,
            api_version=api_version,
        )
        day = date.astimezone(dt.UTC).date()
        mac = credentials.signing_mac(day, request.host, params.hash_name)
        expected = sign_with_mac(mac, signed, params.hash_name)
        if not signatures_match(expected, params.signature):
            raise problems.signature_mismatch()
        return credentials.caller

    def _checked_date(self, raw_date: str | None) -> dt.datetime:
        date = parse_request_date(raw_date) if raw_date else None
        if date is None or abs(date - self._clock()) > self._date_skew:
            raise problems.invalid_date()
        return date

    async def _load(self, access_key: str) -> CachedCredentials | None:
        owner = await read_reconnecting(
            self._engine, lambda conn: db_source.find_keypair_owner(conn, access_key)
        )
        if owner is None or not owner.keypair_active or not owner.user_active:
            return None
        return CachedCredentials(secret_key=owner.secret_key, caller=owner.caller)
