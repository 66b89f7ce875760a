"""Every error becomes an `application/problem+json` response (WIRE.md §5).

`ProblemError` is rendered as given; aiohttp's HTTP errors (unknown URL, wrong method, body
too large, ...) are mapped by status; an unreachable database is a 503; anything else is logged
with its traceback and answered with a bare 500 that reveals nothing about the failure.
"""

from __future__ import annotations

import logging

from aiohttp import web

from reference_host.contract import ProblemError
from reference_host.errors import (
    INTERNAL_SERVER_ERROR,
    SERVICE_UNAVAILABLE,
    database_unavailable,
    problem_from_http_exception,
    problem_response,
)
from reference_host.request_id import current_request_id

log = logging.getLogger(__name__)


def error_response(request: web.Request, error: Exception) -> web.StreamResponse:
    """The problem response for `error`; non-error HTTP exceptions (redirects) are re-raised."""
    if isinstance(error, ProblemError):
        return problem_response(error)
    if isinstance(error, web.HTTPException):
        if error.status < 400:
            raise error
        return problem_from_http_exception(error)
    if database_unavailable(error):
        # The class only: a DBAPIError's text carries the statement and its parameters.
        log.warning(
            "database unavailable serving %s %s: %s",
            request.method,
            request.rel_url.path,
            type(error).__name__,
        )
        return problem_response(SERVICE_UNAVAILABLE)
    log.error(
        "unhandled error serving %s %s (request id %s)",
        request.method,
        request.rel_url.path,
        current_request_id.get(),
        exc_info=error,
    )
    return problem_response(INTERNAL_SERVER_ERROR)
