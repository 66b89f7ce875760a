"""The host's middlewares, outermost first (see `HOST_MIDDLEWARES`)."""

from __future__ import annotations

from aiohttp.typedefs import Middleware

from reference_host.middlewares.api_version import api_version_middleware
from reference_host.middlewares.auth import auth_middleware
from reference_host.middlewares.errors import error_middleware
from reference_host.middlewares.metrics import metrics_middleware
from reference_host.middlewares.request_id import request_id_middleware

HOST_MIDDLEWARES: tuple[Middleware, ...] = (
    request_id_middleware,
    error_middleware,
    api_version_middleware,
    auth_middleware,
    metrics_middleware,
)

__all__ = ["HOST_MIDDLEWARES"]
