"""Outermost middleware: give every request an id, echo it, expose it to logging."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from reference_host.keys import REQUEST_ID_KEY
from reference_host.request_id import REQUEST_ID_HEADER, choose_request_id, current_request_id


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = choose_request_id(request.headers.get(REQUEST_ID_HEADER))
    request[REQUEST_ID_KEY] = request_id
    token = current_request_id.set(request_id)
    try:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            # Only non-error HTTP exceptions (redirects) get here: the error middleware
            # renders every error as a response.
            exc.headers[REQUEST_ID_HEADER] = request_id
            raise
        response.headers[REQUEST_ID_HEADER] = request_id
        return response
    finally:
        current_request_id.reset(token)
