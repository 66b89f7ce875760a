"""A minimal signed client, for `reference-host request`, examples and benchmarks.

It signs exactly as the official SDK does (ISO-8601 Date with microseconds, v9 API version,
`application/json` on every request), so what works here works from the SDK.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from reference_host.auth.signing import SignedRequest, sign

API_VERSION = "v9.20250722"
HASH_NAME = "sha256"


def signed_headers(
    method: str,
    path: str,
    *,
    endpoint: str,
    access_key: str,
    secret_key: str,
    now: dt.datetime | None = None,
) -> dict[str, str]:
    """Headers for one request to `endpoint` (e.g. http://127.0.0.1:8090) at `path`."""
    host = urlsplit(endpoint).netloc
    date = now or dt.datetime.now(dt.UTC)
    raw_date = date.isoformat()
    request = SignedRequest(
        method=method.upper(),
        raw_path=path,
        raw_date=raw_date,
        host=host,
        content_type="application/json",
        api_version=API_VERSION,
    )
    signature = sign(secret_key, request, date, HASH_NAME)
    return {
        "Date": raw_date,
        "Content-Type": "application/json",
        "X-BackendAI-Version": API_VERSION,
        "Authorization": (f"BackendAI signMethod=HMAC-SHA256, credential={access_key}:{signature}"),
    }
