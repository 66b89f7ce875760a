"""Backend.AI request signing, as the SDK computes it (WIRE.md §2). Pure functions, no I/O.

string_to_sign = METHOD \\n raw path \\n raw Date \\n host:<Host> \\n content-type:<mime>
                 \\n x-backendai-version:<version> \\n hexdigest(hash(b""))
k1 = HMAC(secret, date.strftime("%Y%m%d")); k2 = HMAC(k1, host); sig = hex(HMAC(k2, s2s))
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import hashlib
import hmac

import attrs

# hashlib's guaranteed algorithms minus the variable-length SHAKEs (no fixed-size hexdigest).
SUPPORTED_HASHES = frozenset(
    name for name in hashlib.algorithms_guaranteed if not name.startswith("shake_")
)


@attrs.frozen
class SignedRequest:
    """What the signature covers, exactly as received (the body is never signed)."""

    method: str
    raw_path: str
    raw_date: str
    host: str
    content_type: str
    api_version: str


@functools.cache
def _empty_body_hash(hash_name: str) -> str:
    return hashlib.new(hash_name, b"").hexdigest()


def string_to_sign(request: SignedRequest, hash_name: str) -> str:
    empty_body_hash = _empty_body_hash(hash_name)  # hash_name is one of SUPPORTED_HASHES
    return (
        f"{request.method.upper()}\n{request.raw_path}\n{request.raw_date}\n"
        f"host:{request.host}\ncontent-type:{request.content_type.lower()}\n"
        f"x-backendai-version:{request.api_version}\n{empty_body_hash}"
    )


def derive_signing_key(secret_key: str, date: dt.date, host: str, hash_name: str) -> bytes:
    k1 = hmac.new(secret_key.encode(), date.strftime("%Y%m%d").encode(), hash_name).digest()
    return hmac.new(k1, host.encode(), hash_name).digest()


def keyed_mac(signing_key: bytes, hash_name: str) -> hmac.HMAC:
    """An HMAC keyed with `signing_key` over no data yet, to be copied per message: a copy
    skips the key setup that `hmac.new` repeats for every message."""
    return hmac.new(signing_key, digestmod=hash_name)


def sign_with_mac(mac: hmac.HMAC, request: SignedRequest, hash_name: str) -> str:
    """The hex signature of `request` under the key `mac` was keyed with (left unchanged)."""
    message = mac.copy()
    message.update(string_to_sign(request, hash_name).encode())
    return message.hexdigest()


def sign_with_key(signing_key: bytes, request: SignedRequest, hash_name: str) -> str:
    return sign_with_mac(keyed_mac(signing_key, hash_name), request, hash_name)


def sign(secret_key: str, request: SignedRequest, date: dt.datetime, hash_name: str) -> str:
    """The hex signature of `request`; `date` is its parsed Date header."""
    key = derive_signing_key(secret_key, date.astimezone(dt.UTC).date(), request.host, hash_name)
    return sign_with_key(key, request, hash_name)


def signatures_match(expected: str, provided: str) -> bool:
    """Constant-time comparison that also survives non-ASCII input."""
    return hmac.compare_digest(
        expected.encode("utf-8", "replace"), provided.encode("utf-8", "replace")
    )


def parse_request_date(raw: str) -> dt.datetime | None:
    """ISO 8601 (what the SDK sends) or RFC 1123; naive values are taken as UTC."""
    try:
        parsed = dt.datetime.fromisoformat(raw)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed
