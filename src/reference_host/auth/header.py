"""Parsing of `Authorization: BackendAI signMethod=HMAC-SHA256, credential=AK:SIG`."""

from __future__ import annotations

import attrs

from reference_host.auth.signing import SUPPORTED_HASHES

AUTH_TYPES = frozenset({"BackendAI", "Sorna"})  # "Sorna" is the legacy alias


class MalformedAuthorization(ValueError):
    """The header is not a Backend.AI HMAC authorization; the message says why."""


@attrs.frozen
class AuthorizationParams:
    hash_name: str
    access_key: str
    signature: str


def parse_authorization(header: str) -> AuthorizationParams:
    auth_type, _, rest = header.strip().partition(" ")
    if auth_type not in AUTH_TYPES:
        raise MalformedAuthorization("Invalid authorization type name")
    params: dict[str, str] = {}
    for piece in rest.split(","):
        key, sep, value = piece.partition("=")
        if not sep:
            raise MalformedAuthorization("Malformed authorization header")
        params[key.strip()] = value.strip()
    sign_method = params.get("signMethod")
    credential = params.get("credential")
    if sign_method is None or credential is None:
        raise MalformedAuthorization("Missing or malformed authorization parameters")
    mac_type, _, hash_name = sign_method.partition("-")
    hash_name = hash_name.lower()
    if mac_type.upper() != "HMAC" or hash_name not in SUPPORTED_HASHES:
        raise MalformedAuthorization("Unsupported request signing method")
    access_key, sep, signature = credential.partition(":")
    if not sep or not access_key or not signature:
        raise MalformedAuthorization("Missing or malformed authorization parameters")
    return AuthorizationParams(hash_name=hash_name, access_key=access_key, signature=signature)
