"""Problem-JSON rendering (WIRE.md §5): every error response of the host has this body."""

from __future__ import annotations

import re
from typing import Any

import orjson
from aiohttp import web
from sqlalchemy.exc import DBAPIError

from reference_host.contract import ProblemError

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://api.backend.ai/probs/"

# aiohttp's own HTTP exceptions (routing, body size, handlers raising web.HTTP*) by status:
# (type slug, title, error_code). Statuses not listed fall back to a slug from the reason phrase.
_HTTP_PROBLEMS: dict[int, tuple[str, str, str]] = {
    400: ("generic-bad-request", "Bad request", "api_request_bad-request"),
    401: ("auth-failed", "Unauthorized access", "auth_request_unauthorized"),
    403: ("generic-forbidden", "Insufficient privileges", "auth_request_forbidden"),
    404: ("url-not-found", "Unknown URL path", "api_routing_url-not-found"),
    405: ("method-not-allowed", "Method not allowed", "api_routing_method-not-allowed"),
    409: ("generic-conflict", "Conflict", "api_request_conflict"),
    413: (
        "request-entity-too-large",
        "Request entity too large",
        "api_request_entity-too-large",
    ),
    415: (
        "unsupported-media-type",
        "Unsupported media type",
        "api_request_unsupported-media-type",
    ),
    429: ("too-many-requests", "Too many requests", "api_request_too-many-requests"),
}

# Headers of an aiohttp HTTPException worth keeping on the problem response (e.g. 405's Allow).
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def problem_body(
    *, type_slug: str, title: str, error_code: str, msg: str | None = None, data: Any = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + type_slug,
        "title": title,
        "error_code": error_code,
    }
    if msg is not None:
        body["msg"] = msg
    if data is not None:
        body["data"] = data
    return body


def problem_response(error: ProblemError) -> web.Response:
    body = problem_body(
        type_slug=error.type_slug,
        title=error.title,
        error_code=error.error_code,
        msg=error.msg,
        data=error.data,
    )
    return web.Response(
        status=error.status,
        body=orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS),
        content_type=PROBLEM_CONTENT_TYPE,
    )


def problem_from_http_exception(exc: web.HTTPException) -> web.Response:
    """Render an aiohttp HTTP error (status >= 400) as problem JSON, keeping useful headers."""
    known = _HTTP_PROBLEMS.get(exc.status)
    if known is None:
        slug = re.sub(r"[^a-z0-9]+", "-", exc.reason.lower()).strip("-") or "http-error"
        known = (slug, exc.reason, f"api_request_{slug}")
    type_slug, title, error_code = known
    response = problem_response(
        ProblemError(status=exc.status, type_slug=type_slug, title=title, error_code=error_code)
    )
    for name in _KEPT_HEADERS:
        if name in exc.headers:
            response.headers[name] = exc.headers[name]
    return response


INTERNAL_SERVER_ERROR = ProblemError(
    status=500,
    type_slug="internal-server-error",
    title="Internal server error",
    error_code="api_request_internal-error",
)


SERVICE_UNAVAILABLE = ProblemError(
    status=503,
    type_slug="service-unavailable",
    title="Service unavailable",
    error_code="api_database_unavailable",
    msg="The database is unavailable; try again shortly.",
)

# Connection exceptions (08xxx) and a server shutting down or starting up (57P0x).
_UNAVAILABLE_SQLSTATE_PREFIXES = ("08", "57P0")


def database_unavailable(error: BaseException) -> bool:
    """A lost, refused or timed-out database connection: worth a 503, not a 500."""
    if isinstance(error, OSError | TimeoutError):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated or isinstance(error.orig, OSError):
        return True
    sqlstate = getattr(error.orig, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATE_PREFIXES)
