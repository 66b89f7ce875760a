"""Reject `X-BackendAI-Version` values the API does not speak (WIRE.md §1)."""

from __future__ import annotations

import functools
import re

from aiohttp import web

from reference_host.contract import ProblemError

VERSION_HEADER = "X-BackendAI-Version"
OLDEST_VERSION = (4, "20181215")
NEWEST_VERSION = (9, "20250722")
_VERSION = re.compile(r"^v(\d{1,3})\.(\d{8})$")


@functools.lru_cache(maxsize=256)  # clients send a handful of distinct values
def is_supported_version(value: str) -> bool:
    match = _VERSION.fullmatch(value)
    if match is None:
        return False
    version = (int(match.group(1)), match.group(2))
    return OLDEST_VERSION <= version <= NEWEST_VERSION


def check_api_version(request: web.Request) -> None:
    value = request.headers.get(VERSION_HEADER)
    if value is not None and not is_supported_version(value):
        raise ProblemError(
            status=400,
            type_slug="generic-bad-request",
            title="Unsupported API version.",
            error_code="api_request_unsupported-version",
            msg=f"Unsupported API version ({value[:64]}).",
        )
