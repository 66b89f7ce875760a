"""The problem responses of authentication and authorization (WIRE.md §2, §5)."""

from __future__ import annotations

from reference_host.contract import ProblemError

INVALID_AUTH_PARAMS_TITLE = "Missing or invalid authorization parameters."


def invalid_date() -> ProblemError:
    return ProblemError(
        status=400,
        type_slug="invalid-auth-params",
        title=INVALID_AUTH_PARAMS_TITLE,
        error_code="auth_date_invalid",
        msg="Date/time sync error",
    )


def invalid_auth_params(msg: str) -> ProblemError:
    return ProblemError(
        status=400,
        type_slug="invalid-auth-params",
        title=INVALID_AUTH_PARAMS_TITLE,
        error_code="auth_header_malformed",
        msg=msg,
    )


def access_key_not_found() -> ProblemError:
    """Unknown key, inactive key and inactive user look the same to the client."""
    return ProblemError(
        status=401,
        type_slug="auth-failed",
        title="Access key not found in HMAC",
        error_code="auth_keypair_not-found",
    )


def signature_mismatch() -> ProblemError:
    return ProblemError(
        status=401,
        type_slug="auth-failed",
        title="HMAC signature mismatch",
        error_code="auth_signature_mismatch",
    )


def unauthorized() -> ProblemError:
    return ProblemError(
        status=401,
        type_slug="auth-failed",
        title="Unauthorized access",
        error_code="auth_request_unauthorized",
    )


def forbidden() -> ProblemError:
    return ProblemError(
        status=403,
        type_slug="generic-forbidden",
        title="Insufficient privileges",
        error_code="auth_request_forbidden",
    )
