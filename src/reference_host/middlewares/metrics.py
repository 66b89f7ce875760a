"""Count and time every request by its route pattern and status."""

from __future__ import annotations

from aiohttp import web

from reference_host.keys import METRICS_KEY
from reference_host.metrics import UNMATCHED_ROUTE


def route_pattern(request: web.Request) -> str:
    """The canonical pattern of the matched route, or a fixed label for unmatched paths."""
    match_info = request.match_info
    if match_info.http_exception is not None:
        return UNMATCHED_ROUTE
    resource = match_info.route.resource
    return resource.canonical if resource is not None else UNMATCHED_ROUTE


def record_request(request: web.Request, status: int, seconds: float) -> None:
    request.app[METRICS_KEY].http.record(
        method=request.method, route=route_pattern(request), status=status, seconds=seconds
    )
