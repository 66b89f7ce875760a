"""Domain errors → problem+json (via the host's ProblemError); request bodies → wire models."""

from __future__ import annotations

from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from reference_host.contract import Handler, ProblemError, read_json
from scoped_app_config.domain.errors import (
    AccessDenied,
    ConfigError,
    Conflict,
    InvalidParameters,
    NotFound,
    WriteNotAllowed,
)

M = TypeVar("M", bound=BaseModel)

_STATUS_BY_FAMILY: tuple[tuple[type[ConfigError], int], ...] = (
    (NotFound, 404),
    (Conflict, 409),
    (WriteNotAllowed, 403),
    (AccessDenied, 403),
    (InvalidParameters, 400),
)


def problem_of(error: ConfigError) -> ProblemError:
    status = next((s for family, s in _STATUS_BY_FAMILY if isinstance(error, family)), 400)
    return ProblemError(
        status=status,
        type_slug=error.slug,
        title=error.title,
        error_code=error.error_code,
        msg=error.message,
    )


def validation_problem(error: ValidationError) -> ProblemError:
    details = [
        {"loc": ".".join(str(part) for part in item["loc"]), "msg": item["msg"]}
        for item in error.errors(include_url=False, include_input=False)
    ]
    summary = "; ".join(f"{d['loc'] or 'body'}: {d['msg']}" for d in details[:5])
    return ProblemError(
        status=400,
        type_slug="generic-bad-request",
        title="Invalid request body",
        error_code="app_config_request_validation_failed",
        msg=summary,
        data={"errors": details},
    )


@web.middleware
async def domain_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn the plugin's domain errors into the host's problem responses."""
    try:
        return await handler(request)
    except ConfigError as error:
        raise problem_of(error) from None


def too_large(limit: int) -> ProblemError:
    return ProblemError(
        status=413,
        type_slug="request-entity-too-large",
        title="Request body too large",
        error_code="app_config_request_too_large",
        msg=f"The request body exceeds the limit of {limit} bytes.",
    )


async def parse_body(request: web.Request, model: type[M], max_bytes: int) -> M:
    """The body as `model`: 413 over `max_bytes` (refused before reading when the length is
    declared), 400 for malformed JSON or a body that does not validate."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise too_large(max_bytes)
    payload: Any = await read_json(request)
    if request.content_length is None and len(await request.read()) > max_bytes:
        raise too_large(max_bytes)
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise validation_problem(error) from None
