"""Every error becomes an `application/problem+json` response (WIRE.md §5).

`ProblemError` is rendered as given; aiohttp's HTTP errors (unknown URL, wrong method, body
too large, ...) are mapped by status; an unreachable database is a 503; anything else is logged
with its traceback and answered with a bare 500 that reveals nothing about the failure.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

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


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ProblemError as error:
        return problem_response(error)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return problem_from_http_exception(exc)
    except Exception as error:
        if database_unavailable(error):
            # The class only: a DBAPIError's text carries the statement and its parameters.
            log.warning(
                "database unavailable serving %s %s: %s",
                request.method,
                request.rel_url.path,
                type(error).__name__,
            )
            return problem_response(SERVICE_UNAVAILABLE)
        log.exception(
            "unhandled error serving %s %s (request id %s)",
            request.method,
            request.rel_url.path,
            current_request_id.get(),
        )
        return problem_response(INTERNAL_SERVER_ERROR)
