"""The signature algorithm against WIRE.md §2's worked vector (verified against the SDK)."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from reference_host.auth.header import MalformedAuthorization, parse_authorization
from reference_host.auth.keypair_cache import CachedCredentials
from reference_host.auth.signing import SignedRequest, parse_request_date, sign_with_mac
from reference_host.auth.signing import sign as server_sign
from signing import sign

VECTOR_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
VECTOR_DATE = "2026-08-23T01:02:03.456789+00:00"
VECTOR_SIGNATURE = "90e5b7fb9cb87b719463994acfff4fd5e4e7db1470ffa936cf850202e89b01e9"
VECTOR_REQUEST = SignedRequest(
    method="POST",
    raw_path="/v2/app-config/my/get",
    raw_date=VECTOR_DATE,
    host="127.0.0.1:8090",
    content_type="application/json",
    api_version="v9.20250722",
)


def test_server_signature_matches_worked_vector() -> None:
    date = parse_request_date(VECTOR_DATE)
    assert date is not None
    assert server_sign(VECTOR_SECRET, VECTOR_REQUEST, date, "sha256") == VECTOR_SIGNATURE


def test_a_cached_signing_mac_signs_every_request_as_if_fresh() -> None:
    """The authenticator signs with a copy of a keyed HMAC kept per keypair and day: signing
    must leave it as it was, request after request."""
    first = VECTOR_REQUEST
    second = attrs.evolve(first, raw_path="/v2/app-config/public/get")
    date = parse_request_date(VECTOR_DATE)
    assert date is not None
    credentials = CachedCredentials(secret_key=VECTOR_SECRET, caller=None)  # type: ignore[arg-type]
    mac = credentials.signing_mac(date.date(), "127.0.0.1:8090", "sha256")

    signatures = [sign_with_mac(mac, request, "sha256") for request in (first, second, first)]

    assert signatures[0] == signatures[2] == VECTOR_SIGNATURE
    assert signatures[1] == server_sign(VECTOR_SECRET, second, date, "sha256") != VECTOR_SIGNATURE
    assert credentials.signing_mac(date.date(), "127.0.0.1:8090", "sha256") is mac


def test_test_signer_matches_worked_vector() -> None:
    date = dt.datetime.fromisoformat(VECTOR_DATE)
    signature = sign(
        method="POST",
        path="/v2/app-config/my/get",
        raw_date=VECTOR_DATE,
        date=date,
        host="127.0.0.1:8090",
        secret_key=VECTOR_SECRET,
    )
    assert signature == VECTOR_SIGNATURE


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            "BackendAI signMethod=HMAC-SHA256, credential=AKIAIOSFODNN7EXAMPLE:abc",
            ("sha256", "AKIAIOSFODNN7EXAMPLE", "abc"),
        ),
        ("Sorna signMethod=HMAC-SHA512, credential=AK:sig", ("sha512", "AK", "sig")),
    ],
)
def test_authorization_header_parses_backendai_and_legacy_sorna(
    header: str, expected: tuple[str, str, str]
) -> None:
    params = parse_authorization(header)
    assert (params.hash_name, params.access_key, params.signature) == expected


@pytest.mark.parametrize(
    "header",
    [
        "Bearer abc",
        "BackendAI",
        "BackendAI signMethod=HMAC-SHA256",
        "BackendAI signMethod=HMAC-SHA256, credential=nocolon",
        "BackendAI signMethod=HMAC-NOPE, credential=AK:sig",
        "BackendAI signMethod=HMAC-SHAKE_128, credential=AK:sig",
        "BackendAI signMethod=RSA-SHA256, credential=AK:sig",
    ],
)
def test_authorization_header_rejects_malformed_values(header: str) -> None:
    with pytest.raises(MalformedAuthorization):
        parse_authorization(header)


@pytest.mark.parametrize(
    "raw",
    ["2026-08-23T01:02:03.456789+00:00", "2026-08-23T01:02:03Z", "Sun, 23 Aug 2026 01:02:03 GMT"],
)
def test_request_date_accepts_iso_and_rfc1123(raw: str) -> None:
    parsed = parse_request_date(raw)
    assert parsed is not None
    assert parsed.astimezone(dt.UTC).date() == dt.date(2026, 8, 23)


def test_request_date_rejects_garbage() -> None:
    assert parse_request_date("yesterday") is None
