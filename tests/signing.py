"""Sign test requests exactly like the official SDK (WIRE.md §1, §2).

    headers = signed_headers("POST", "/v2/app-config/my/get", access_key, secret_key,
                             client.server.host + ":" + str(client.server.port))
    await client.post("/v2/app-config/my/get", json=body, headers=headers)

`host` must be the Host header the client will send (aiohttp's test client sends
"127.0.0.1:<port>"); use `host_of(client)`. `path` is the raw path, with "?query" if any.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Protocol

SDK_API_VERSION = "v9.20250722"
CONTENT_TYPE = "application/json"


class _HasServer(Protocol):
    @property
    def host(self) -> str: ...

    @property
    def port(self) -> int | None: ...


class _TestClientLike(Protocol):
    @property
    def server(self) -> _HasServer: ...


def host_of(client: _TestClientLike) -> str:
    """The Host header aiohttp's test client sends to its server."""
    return f"{client.server.host}:{client.server.port}"


def sign(
    *,
    method: str,
    path: str,
    raw_date: str,
    date: dt.datetime,
    host: str,
    secret_key: str,
    version: str = SDK_API_VERSION,
    content_type: str = CONTENT_TYPE,
    hash_type: str = "sha256",
) -> str:
    body_hash = hashlib.new(hash_type, b"").hexdigest()
    string_to_sign = (
        f"{method.upper()}\n{path}\n{raw_date}\nhost:{host}\n"
        f"content-type:{content_type.lower()}\nx-backendai-version:{version}\n{body_hash}"
    )
    key = hmac.new(secret_key.encode(), date.strftime("%Y%m%d").encode(), hash_type).digest()
    key = hmac.new(key, host.encode(), hash_type).digest()
    return hmac.new(key, string_to_sign.encode(), hash_type).hexdigest()


def signed_headers(
    method: str,
    path: str,
    access_key: str,
    secret_key: str,
    host: str,
    *,
    date: dt.datetime | None = None,
    version: str = SDK_API_VERSION,
) -> dict[str, str]:
    """Headers of an SDK-signed request (Date: ISO 8601 with microseconds and +00:00)."""
    when = date if date is not None else dt.datetime.now(dt.UTC)
    raw_date = when.isoformat()
    signature = sign(
        method=method,
        path=path,
        raw_date=raw_date,
        date=when,
        host=host,
        secret_key=secret_key,
        version=version,
    )
    return {
        "Date": raw_date,
        "Content-Type": CONTENT_TYPE,
        "X-BackendAI-Version": version,
        "Authorization": (f"BackendAI signMethod=HMAC-SHA256, credential={access_key}:{signature}"),
    }
