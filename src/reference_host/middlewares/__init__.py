"""The host's middleware: one frame around every request, plugins' routes included.

In order: give the request an id (echoed on every response, exposed to logging), check the
API version, authenticate and enforce the route's requirement, run the handler, render any
error as problem+json, and count and time the request by route and status. One middleware
rather than five: each aiohttp middleware layer costs a wrapper call on every request, and this
runs on the hot path. Each step lives in its own module.
"""

from __future__ import annotations

import time

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from reference_host.keys import REQUEST_ID_KEY
from reference_host.middlewares.api_version import check_api_version
from reference_host.middlewares.auth import authorize_request
from reference_host.middlewares.errors import error_response
from reference_host.middlewares.metrics import record_request
from reference_host.request_id import REQUEST_ID_HEADER, choose_request_id, current_request_id


@web.middleware
async def host_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = choose_request_id(request.headers.get(REQUEST_ID_HEADER))
    request[REQUEST_ID_KEY] = request_id
    token = current_request_id.set(request_id)
    started = time.perf_counter()
    status = 500  # what a cancelled request (client gone) is counted as
    try:
        try:
            check_api_version(request)
            await authorize_request(request)
            response = await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:  # a redirect: aiohttp sends it
                status = exc.status
                exc.headers[REQUEST_ID_HEADER] = request_id
                raise
            response = error_response(request, exc)
        except Exception as error:
            response = error_response(request, error)
        status = response.status
        response.headers[REQUEST_ID_HEADER] = request_id
        return response
    finally:
        record_request(request, status, time.perf_counter() - started)
        current_request_id.reset(token)


HOST_MIDDLEWARES: tuple[Middleware, ...] = (host_middleware,)

__all__ = ["HOST_MIDDLEWARES", "host_middleware"]
