"""Innermost middleware: count and time every request by its route pattern and status."""

from __future__ import annotations

import time

from aiohttp import web
from aiohttp.typedefs import Handler

from reference_host.contract import ProblemError
from reference_host.keys import METRICS_KEY
from reference_host.metrics import UNMATCHED_ROUTE


def route_pattern(request: web.Request) -> str:
    """The canonical pattern of the matched route, or a fixed label for unmatched paths."""
    if request.match_info.http_exception is not None:
        return UNMATCHED_ROUTE
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else UNMATCHED_ROUTE


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except ProblemError as error:
        status = error.status
        raise
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        request.config_dict[METRICS_KEY].http.record(
            method=request.method,
            route=route_pattern(request),
            status=status,
            seconds=time.perf_counter() - started,
        )
